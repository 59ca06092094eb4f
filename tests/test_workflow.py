"""The Snakemake workflow, run in a subprocess: planning, a real tiny run,
incremental reruns, lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.workflow


def smk(*args, timeout=900):
    cmd = [sys.executable, "-m", "snakemake", *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    return proc


def job_counts(output: str) -> dict:
    """Parse Snakemake's 'Job stats' table into {rule: count}."""
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1]
    counts = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        counts[m.group(1)] = int(m.group(2))
    counts.pop("total", None)
    return counts


def test_thesis_dry_run_plans_every_stage():
    proc = smk("-n", "--cores", "4", "--resources", "gpu=4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    counts = job_counts(proc.stdout + proc.stderr)
    assert counts["subset"] == 2 and counts["train_vae"] == 2
    assert counts["al_run"] == 2 * 8 * 5  # datasets x strategies x seeds
    assert counts["tsne_select"] == 1
    out = proc.stdout + proc.stderr
    for dataset in ("mnist", "chestmnist"):
        assert f"results/thesis/data/{dataset}/subset.npz" in out
        assert f"results/thesis/runs/{dataset}/lloss_vae/seed4/metrics.csv" in out
    for rule in ("aggregate", "stats", "plot_curves", "plot_tsne", "report_text"):
        assert counts.get(rule), f"rule {rule} not planned: {counts}"
    assert counts["plot_curves"] == 2 * 4  # datasets x families (entropy, coreset, medal, lloss)


def test_bad_config_stops_before_any_job(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["al"]["initial_labels"] = 5000
    cfg["vae"]["epochz"] = 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "1", "--configfile", str(bad))
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "epochz" in err and "vae" in err


def test_lint_is_clean():
    proc = smk("--lint")
    out = proc.stdout + proc.stderr
    assert "Lints for" not in out, out[-4000:]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A real run of every stage on digits (CPU); returns (config path, out dir)."""
    tmp = tmp_path_factory.mktemp("tiny")
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["out_dir"] = str(tmp / "out")
    cfg["gpu"] = {"lock_dir": str(tmp / "locks")}
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return path, Path(cfg["out_dir"]), cfg


def test_tiny_run_produces_every_output(tiny_run):
    _, out, cfg = tiny_run
    import pandas as pd

    runs = pd.read_csv(out / "results" / "runs.csv")
    assert set(runs["strategy"]) == {"random", "coreset", "coreset_vae"}
    assert sorted(runs["n_labels"].unique()) == [40, 80, 120]
    assert len(runs) == 3 * 2 * 3
    assert (out / "vae" / "digits" / "vae" / "shared" / "latents.npy").stat().st_size > 0
    knn = pd.read_csv(out / "results" / "latent_knn.csv")
    assert list(knn["kind"]) == ["vae"] and list(knn["scope"]) == ["shared"]
    assert 0.2 < knn["knn_acc"][0] <= 1 and knn["knn_acc_pixels"][0] > 0.8  # chance: 0.1
    assert (out / "vae" / "digits" / "vae" / "shared" / "tsne.png").stat().st_size > 10_000
    assert (out / "figures" / "tsne_digits_pair.png").stat().st_size > 10_000
    assert (out / "results" / "tests.md").read_text().count("|") > 10
    log = (out / "logs" / "al_run" / "digits" / "coreset" / "seed0.log").read_text()
    assert "device: cpu" in log and "round 2 | labels 120" in log and "epoch 1/" in log
    assert not (out / "state" / "digits" / "coreset" / "seed0").exists()  # cleaned when done


def test_second_run_does_nothing(tiny_run):
    path, _, _ = tiny_run
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def _dry_run_with(tiny_run, tmp_path, mutate):
    path, _, cfg = tiny_run
    cfg = yaml.safe_load(path.read_text())
    mutate(cfg)
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(changed))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return job_counts(proc.stdout + proc.stderr)


def test_vae_setting_reruns_only_vae_dependents(tiny_run, tmp_path):
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c["vae"].update(epochs=3))
    assert counts["train_vae"] == 1
    assert counts["al_run"] == 2  # coreset_vae x 2 seeds; random and coreset untouched
    assert counts["tsne_select"] == 1
    assert "subset" not in counts


def test_tsne_setting_reruns_only_tsne(tiny_run, tmp_path):
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c["tsne"].update(pick=10))
    assert counts.get("tsne_select") == 1 and "al_run" not in counts and "train_vae" not in counts


def test_unused_setting_reruns_nothing(tiny_run, tmp_path):
    # no lloss strategy in the tiny config: the loss-module settings touch no computation;
    # only the report's record of the settings is rewritten
    counts = _dry_run_with(tiny_run, tmp_path, lambda c: c.setdefault("lloss", {}).update(margin=2.0))
    assert counts == {"report_text": 1, "all": 1}


def test_report_holds_every_figure(tiny_run):
    path, out, _ = tiny_run
    html = out / "report.html"
    proc = smk("--cores", "1", "--configfile", str(path), "--report", str(html))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = html.read_text(errors="replace")
    assert len(text) > 100_000
    for name in ("curves_digits_coreset.png", "tsne_digits_pair.png", "reconstructions.png",
                 "latent_knn.csv",
                 "tests.csv", "summary.rst", "settings.rst"):
        assert name in text, f"{name} missing from the report"


def test_bad_data_file_fails_with_a_clear_message(tmp_path):
    """A truncated .npz stops the subset job; its log names the file, no traceback."""
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    cfg = {"out_dir": str(tmp_path / "out"), "strategies": ["random"],
           "datasets": {"mine": {"source": "npz", "path": str(bad), "subset_size": 50}},
           "al": {"initial_labels": 10, "labels_per_round": 10, "final_labels": 20, "seeds": [0]}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk(f"{tmp_path}/out/data/mine/subset.npz", "--cores", "1", "--configfile", str(path))
    assert proc.returncode != 0
    log = (tmp_path / "out" / "logs" / "subset" / "mine.log").read_text()
    assert f"ERROR: {bad}: not a readable .npz file (truncated or corrupt" in log
    assert "Traceback" not in log
