"""Issue 26 through Snakemake: ``task_model.train_until`` and ``task_model.precision``
set in the config take effect inside the AL and ceiling jobs (the library's side is in
tests/test_stopping.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.workflow


def smk(*args, env=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def small_config(tmp_path, **task_model) -> dict:
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random"], tsne={"datasets": []},
               gpu={"lock_dir": str(tmp_path / "locks")})
    cfg["datasets"]["digits"]["subset_size"] = 200
    cfg["al"].update(initial_labels=20, labels_per_round=20, final_labels=40, seeds=[0])
    cfg["task_model"].update(epochs_initial=1, epochs_per_round=0, batch_size=16, **task_model)
    return cfg


def write(cfg, tmp_path, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_train_until_and_precision_reach_the_al_run_and_the_ceiling(tmp_path):
    rule = {"train_acc": 0.8, "max_epochs": 30, "patience": None}
    cfg = small_config(tmp_path, lr=0.05, train_until=rule, precision="auto")
    path = write(cfg, tmp_path)
    proc = smk("--cores", "1", "--resources", "gpu=1", "--configfile", str(path), "--until",
               "al_run", "ceiling", env={"ALVAE_CPU_BF16": "0"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "out"
    runs = pd.read_csv(out / "runs/digits/random/seed0/metrics.csv")
    # planned: 1 epoch a round; the rule trains on until 0.8 train accuracy
    assert (runs["epochs"] > 1).all(), runs
    for row in runs.itertuples():  # each round stops at the target, or at the cap
        assert row.train_acc >= 0.8 or row.epochs == 30, row
    log = (out / "logs/al_run/digits/random/seed0.log").read_text()
    assert "precision: fp32 on cpu (task_model.precision: auto; ALVAE_CPU_BF16=0)" in log
    assert log.count("stopped after") == len(runs)
    ceiling = pd.read_csv(out / "ceiling/digits/seed0/metrics.csv").iloc[0]
    assert ceiling["epochs"] > 1, ceiling
    assert ceiling["train_acc"] >= 0.8 or ceiling["epochs"] == 30, ceiling
    clog = (out / "logs/ceiling/digits/seed0.log").read_text()
    assert "stopped after" in clog and "precision: fp32 on cpu" in clog


def test_bf16_on_a_cpu_without_it_stops_the_job_with_one_line(tmp_path):
    cfg = small_config(tmp_path, precision="bf16", stem="small")
    path = write(cfg, tmp_path)
    proc = smk("--cores", "1", "--resources", "gpu=1", "--configfile", str(path), "--until",
               "al_run", env={"ALVAE_CPU_BF16": "0"})
    assert proc.returncode != 0
    log = (tmp_path / "out/logs/al_run/digits/random/seed0.log").read_text()
    lines = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert len(lines) == 1 and "task_model.precision: bf16 needs native bf16 on the cpu" in lines[0]
    assert "Traceback" not in log and "epoch 1/" not in log  # refused before any training


def test_the_old_keys_name_their_replacements(tmp_path):
    cfg = small_config(tmp_path, min_train_acc=0.99, amp=False)
    proc = smk("-n", "--cores", "1", "--configfile", str(write(cfg, tmp_path)))
    assert proc.returncode != 0
    err = proc.stdout + proc.stderr
    assert "task_model.min_train_acc: renamed; write task_model.train_until" in err
    assert "task_model.amp: renamed; write task_model.precision" in err
