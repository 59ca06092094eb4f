"""Through Snakemake on the tiny config: a VAAL job logs its training progress during
the first query (issue 23), `vaal.image_size: auto` reaches the job, and
`typiclust.normalize` reaches the job and reruns only the runs it concerns."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO

pytestmark = pytest.mark.workflow


def smk(*args, timeout=1500):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("methods")
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    out = tmp / "out"
    cfg.update(out_dir=str(out), strategies=["vaal", "typiclust"], tsne={"datasets": []},
               vaal={"width": 4, "epochs": 2, "batch_size": 64},  # image_size: the default
               typiclust={"normalize": False})
    cfg["al"].update(seeds=[0], final_labels=80)  # one query
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    targets = [str(out / f"runs/digits/{s}/seed0/metrics.csv") for s in ("vaal", "typiclust")]
    proc = smk(*targets, "--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return cfg, path, out, targets


def test_vaal_job_logs_progress_during_the_first_query(run):
    _, _, out, _ = run
    log = (out / "logs/al_run/digits/vaal/seed0.log").read_text().splitlines()
    start = next(i for i, ln in enumerate(log) if re.search(r"\] round 0 \| labels 40 ", ln))
    end = next(i for i, ln in enumerate(log) if re.search(r"round 1 \| picked 40 with vaal", ln))
    training = log[start + 1:end]
    plan = [ln for ln in training if "vaal: training" in ln]
    # 600 × 2 / 64 = 18 iterations; auto: the 8-px digits at 16 px
    assert len(plan) == 1 and "18 iterations" in plan[0] and "16 x 16 px" in plan[0], training
    progress = [re.search(r"vaal iteration (\d+)/18 \([\d.]+ %\) vae_loss \S+ disc_loss \S+ "
                          r"\| \S+ elapsed, ~\S+ left$", ln) for ln in training]
    done = [int(m[1]) for m in progress if m]
    assert done[0] == 1 and done[-1] == 18 and done == sorted(done), training


def test_typiclust_normalize_reaches_the_job_and_reruns_only_typiclust(run):
    from alvae.al.loop import RunSpec, run_loop
    from alvae.checks import load_config
    from alvae.data.loaders import load_subset

    _, path, out, targets = run
    cfg = load_config(path)
    sub = load_subset(out / "data/digits/subset.npz", out / "data/digits/eval.npz")
    latents = np.load(next((out / "representation/digits/vae").glob("*/latents.npy")))
    al = {k: v for k, v in cfg["al"].items() if k != "seeds"}
    _, lib = run_loop(sub,
                      RunSpec("typiclust", 0, al, cfg["task_model"], {}, alpha=None,
                              strategy_options=cfg["typiclust"]),
                      latents=latents, log=lambda m: None)
    job = np.load(out / "runs/digits/typiclust/seed0/picked.npz")
    assert cfg["typiclust"]["normalize"] is False
    np.testing.assert_array_equal(job["round_1"], lib["round_1"])
    _, normed = run_loop(sub,
                         RunSpec("typiclust", 0, al, cfg["task_model"], {}, alpha=None,
                                 strategy_options={**cfg["typiclust"], "normalize": True}),
                         latents=latents, log=lambda m: None)
    assert not np.array_equal(job["round_1"], normed["round_1"])
    # writing the default out for vaal changes nothing; flipping normalize reruns typiclust only
    raw = yaml.safe_load(path.read_text())
    raw["vaal"]["image_size"] = "auto"
    raw["typiclust"]["normalize"] = True
    path.write_text(yaml.safe_dump(raw))
    proc = smk(*targets, "-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    assert "strategy=typiclust" in text and "strategy=vaal" not in text, text[-3000:]
