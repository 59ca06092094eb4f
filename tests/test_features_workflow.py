"""task_model.arch: linear on simclr through Snakemake: planned, then run for real."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from test_workflow import job_counts, smk

pytestmark = pytest.mark.workflow


def _config(tmp_path, **changes):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), gpu={"lock_dir": str(tmp_path / "locks")},
               tsne={"datasets": []},
               strategies=["random", "entropy", "coreset", "coreset_vae", "badge"],
               al={"initial_labels": 10, "labels_per_round": 20, "final_labels": 50,
                   "seeds": [0, 1]},
               task_model={"arch": "linear", "features": "simclr", "optimizer": "adam",
                           "lr": 0.01, "batch_size": 32, "epochs_initial": 10,
                           "epochs_per_round": 0, "eval_batch_size": 512})
    cfg["datasets"]["digits"]["subset_size"] = 300
    cfg["representation"]["simclr"] = {"width": 4, "epochs": 2}
    cfg.update(changes)
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, Path(cfg["out_dir"])


def test_linear_head_on_simclr_is_planned_with_its_features(tmp_path):
    path, out = _config(tmp_path)
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    counts = job_counts(text)
    # simclr for the head's features, vae for coreset_vae's latents; the evaluation
    # splits encoded by simclr only (the vae is read only by the strategy)
    assert counts["train_representation"] == 2 and counts["encode_eval"] == 1
    assert counts["al_run"] == 5 * 2 and counts["ceiling"] == 2
    runs = [b for b in text.split("rule ") if b.startswith(("al_run:", "ceiling:"))]
    assert runs and all("representation/digits/simclr/shared/latents.npy" in b
                        and "representation/digits/simclr/shared/eval_latents.npz" in b for b in runs)
    # the ResNet's studies plan no encode_eval job
    path, _ = _config(tmp_path, task_model={"weights": None, "input_size": None})
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0 and "encode_eval" not in job_counts(proc.stdout + proc.stderr)


def test_linear_head_on_simclr_runs_through_the_workflow(tmp_path):
    path, out = _config(tmp_path)
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    runs = pd.read_csv(out / "results" / "runs.csv")
    assert set(runs["strategy"]) == {"random", "entropy", "coreset", "coreset_vae", "badge"}
    assert sorted(runs["n_labels"].unique()) == [10, 30, 50]
    assert len(runs) == 5 * 2 * 3
    final = runs[runs["n_labels"] == 50]
    assert final["test_acc"].mean() > 0.3, final  # chance 0.1: the head learns on simclr features
    # round 0 is the same head on the same initial labels for every strategy of a seed
    r0 = runs[runs["n_labels"] == 10].groupby("seed")["test_acc"].nunique()
    assert (r0 == 1).all()
    ev = np.load(out / "representation" / "digits" / "simclr" / "shared" / "eval_latents.npz")
    pool = np.load(out / "representation" / "digits" / "simclr" / "shared" / "latents.npy")
    assert ev["test"].shape == (297, 16) and pool.shape == (300, 16)  # 4 x width
    log = (out / "logs" / "al_run" / "digits" / "badge" / "seed1.log").read_text()
    assert "task model: a linear head on the frozen simclr features (16 dims" in log
    ceiling = pd.read_csv(out / "results" / "ceiling.csv")
    assert len(ceiling) == 2 and (ceiling["n_labels"] == 300).all()
    assert ceiling["test_acc"].min() > final["test_acc"].min() - 0.05
    clog = (out / "logs" / "ceiling" / "digits" / "seed0.log").read_text()
    assert re.search(r"epoch \d+/\d+", clog)


def test_the_features_preset_plans_its_first_stage_and_the_seed_checkpoint(tmp_path):
    """presets/features.yaml: SimCLR for the head, the VAE for coreset_vae, the test split
    encoded by SimCLR, 12 first seeds x 6 strategies, then the plan of al.extra_seeds."""
    cfg = yaml.safe_load((REPO / "presets/features.yaml").read_text())
    assert cfg["task_model"]["arch"] == "linear" and cfg["al"]["extra_seeds"]["min_seeds"] >= 20
    cfg["out_dir"] = str(tmp_path / "out")
    path = tmp_path / "features.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-3000:]
    counts = job_counts(text)
    assert counts["al_run"] == 12 * 6 and counts["plan_seeds"] == 1
    assert counts["train_representation"] == 2 and counts["encode_eval"] == 1
