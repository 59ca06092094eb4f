"""Smoke test of bench/bench_coreset.py --quick (all three methods, same picks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "bench_coreset.py"


def _run(args, out):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, str(SCRIPT), *args, "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(out.read_text())


@pytest.mark.slow
def test_bench_quick(tmp_path):
    proc, res = _run(["--quick"], tmp_path / "coreset.json")
    for m in ("k_center_greedy", "brute_force_nxn", "naive_dal"):
        assert m in proc.stdout
    assert res["config"]["sizes"] == [2000] and res["config"]["budget"] == 200
    assert res["config"]["methods"] == ["k_center_greedy", "brute_force_nxn", "naive_dal"]
    (run,) = res["runs"]
    fast, brute, dal = run["k_center_greedy"], run["brute_force_nxn"], run["naive_dal"]
    assert not brute.get("skipped") and not dal.get("skipped")
    assert fast["seconds"] > 0 and brute["seconds"] > 0 and dal["seconds"] > 0

    # careful brute force: same numerics, same picks
    cmp_brute = run["picks_vs_k_center_greedy"]["brute_force_nxn"]
    assert cmp_brute["identical_picks"] is True and cmp_brute["first_difference"] is None
    # the N×(N+L) float32 matrix alone: 2000 × 2200 × 4 bytes
    assert brute["matrix_bytes"] == 2000 * 2200 * 4
    assert brute["tracemalloc_peak_bytes"] >= brute["matrix_bytes"]
    assert brute["peak_rss_delta_bytes"] > fast["peak_rss_delta_bytes"]

    # naive deep-active-learning KCenterGreedy: sqrt distances, same set up to near-ties
    cmp_dal = run["picks_vs_k_center_greedy"]["naive_dal"]
    assert cmp_dal["overlap"] >= 0.99
    if not cmp_dal["identical_picks"]:
        assert cmp_dal["first_difference_is_float32_near_tie"] is True
    # (N+L)² float32 matrix plus the U×L copy: 2200² × 4 + 2000 × 200 × 4 bytes
    assert dal["matrix_bytes"] == (2200 * 2200 + 2000 * 200) * 4
    assert dal["tracemalloc_peak_bytes"] >= 2200 * 2200 * 4
    assert dal["peak_rss_delta_bytes"] > fast["peak_rss_delta_bytes"]

    for m, b in (("brute_force_nxn", brute), ("naive_dal", dal)):
        r = run["ratios"][m]
        assert r["time_ratio"] == b["seconds"] / fast["seconds"]
        assert r["memory_ratio"] > 1


def test_bench_skips_what_does_not_fit(tmp_path):
    """A baseline larger than the memory limit is recorded, not run."""
    _, res = _run(["--sizes", "1000", "--budget", "10", "--labeled", "10",
                   "--mem-fraction", "1e-6"], tmp_path / "skip.json")
    (run,) = res["runs"]
    assert run["brute_force_nxn"]["skipped"] is True
    assert run["brute_force_nxn"]["matrix_bytes"] == 1000 * 1010 * 4
    assert run["naive_dal"]["skipped"] is True
    assert run["naive_dal"]["matrix_bytes"] == (1010 * 1010 + 1000 * 10) * 4
    assert run["k_center_greedy"]["seconds"] > 0
    assert "ratios" not in run and "picks_vs_k_center_greedy" not in run


@pytest.mark.slow
def test_bench_methods_subset(tmp_path):
    proc, res = _run(["--sizes", "500", "--budget", "20", "--labeled", "20",
                      "--methods", "naive_dal", "k_center_greedy"], tmp_path / "sub.json")
    assert res["config"]["methods"] == ["k_center_greedy", "naive_dal"]
    (run,) = res["runs"]
    assert "brute_force_nxn" not in run and "brute_force_nxn" not in proc.stdout
    assert set(run["ratios"]) == {"naive_dal"}
    assert run["picks_vs_k_center_greedy"]["naive_dal"]["overlap"] >= 0.99
