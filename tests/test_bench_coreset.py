"""Smoke test of bench/bench_coreset.py --quick (both methods, same picks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_quick(tmp_path):
    out = tmp_path / "coreset.json"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "bench_coreset.py"), "--quick",
                           "--out", str(out)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "k_center_greedy" in proc.stdout and "brute_force_nxn" in proc.stdout
    res = json.loads(out.read_text())
    assert res["config"]["sizes"] == [2000] and res["config"]["budget"] == 200
    (run,) = res["runs"]
    fast, brute = run["k_center_greedy"], run["brute_force_nxn"]
    assert not brute.get("skipped")
    assert fast["seconds"] > 0 and brute["seconds"] > 0
    assert run["identical_picks"] is True and run["first_difference"] is None
    # the N×(N+L) float32 matrix alone: 2000 × 2200 × 4 bytes
    assert brute["matrix_bytes"] == 2000 * 2200 * 4
    assert brute["tracemalloc_peak_bytes"] >= brute["matrix_bytes"]
    assert brute["peak_rss_delta_bytes"] > fast["peak_rss_delta_bytes"]


def test_bench_skips_what_does_not_fit(tmp_path):
    """A brute force larger than the memory limit is recorded, not run."""
    out = tmp_path / "skip.json"
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "bench_coreset.py"),
                           "--sizes", "1000", "--budget", "10", "--labeled", "10",
                           "--mem-fraction", "1e-6", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (run,) = json.loads(out.read_text())["runs"]
    assert run["brute_force_nxn"]["skipped"] is True
    assert run["brute_force_nxn"]["matrix_bytes"] == 1000 * 1010 * 4
    assert run["k_center_greedy"]["seconds"] > 0
