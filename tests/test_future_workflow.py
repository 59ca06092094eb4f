"""The future-work presets plan, the +once/+per_round labels set each run's schedule,
and a tiny real run with a per-round label, an α scale and VAAL writes latent_share,
the α table and each round's latents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from test_workflow import job_counts, smk

pytestmark = pytest.mark.workflow


@pytest.mark.parametrize("preset,runs,extra", [
    ("future", 16 * 3, ["latent_share", "retrain_knn", "retrain_tsne"]),
    ("alpha_sweep", 13 * 3, ["latent_share", "alpha_sweep"]),
])
def test_presets_plan(preset, runs, extra):
    proc = smk("-n", "--cores", "2", "--configfile", f"presets/{preset}.yaml")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    counts = job_counts(out)
    assert counts["al_run"] == runs
    for rule in extra + ["report_text", "latent_knn"]:
        assert counts.get(rule) == 1, (rule, counts)
    if preset == "future":  # once and per round side by side, on the same trained models
        assert _al_inputs(out, "coreset_cvae+per_round", 1) == {
            "model": True, "latents": True}
        assert _al_inputs(out, "coreset_cvae", 1) == {"model": False, "latents": True}
        assert counts["train_representation"] == 1 + 3 + 1  # vae, cvae per seed, gmvae: shared by both


def _al_inputs(dry_run: str, label: str, seed: int) -> dict:
    """For the al_run job of ``label``/seed``seed`` in a dry run's output: whether its
    input line names that seed's trained cvae (model.pt) and its latents."""
    for block in dry_run.split("rule al_run:")[1:]:
        if f"wildcards: dataset=digits, strategy={label}, seed={seed}" in block:
            line = next(ln for ln in block.splitlines() if ln.strip().startswith("input:"))
            return {"model": f"representation/digits/cvae/seed{seed}/model.pt" in line,
                    "latents": f"representation/digits/cvae/seed{seed}/latents.npy" in line}
    raise AssertionError(f"no al_run job for {label} seed {seed}")


def test_once_label_under_global_per_round_reads_fixed_latents(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["coreset_vae", "coreset_vae+once"],
               tsne={"datasets": []})
    cfg["representation"].update(retrain="per_round", retrain_epochs=1)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    for block in out.split("rule al_run:")[1:]:
        line = next(ln for ln in block.splitlines() if ln.strip().startswith("input:"))
        once = "strategy=coreset_vae+once," in block
        assert ("model.pt" in line) != once, block  # only the per-round runs warm-start
    assert job_counts(out)["al_run"] == 4


def test_tiny_run_per_round_label_and_vaal(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    out = tmp_path / "out"
    # the label alone asks for per-round retraining (representation.retrain stays once)
    cfg.update(out_dir=str(out), strategies=["random", "coreset_cvae@0.5+per_round", "vaal"],
               tsne={"datasets": []},
               vaal={"width": 4, "image_size": 16, "epochs": 1, "batch_size": 64})
    cfg["al"]["seeds"] = [0]
    cfg["representation"].update(retrain_epochs=1)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("--cores", "2", "--configfile", str(path), timeout=1800)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    run = out / "runs/digits/coreset_cvae@0.5+per_round/seed0"
    lat = np.load(run / "latents_rounds.npz")
    assert sorted(lat.files) == ["round_0", "round_1", "round_2"]
    assert not np.allclose(lat["round_0"], lat["round_1"])
    np.testing.assert_array_equal(lat["round_0"], np.load(out / "representation/digits/cvae/seed0/latents.npy"))
    assert np.load(out / "runs/digits/vaal/seed0/latents_rounds.npz").files == []
    metrics = pd.read_csv(run / "metrics.csv")
    assert metrics["latent_share"].isna().tolist() == [True, False, False]
    # each round's retrained latents: kNN accuracy recorded, table and t-SNE drawn
    assert metrics["latent_knn_acc"].between(0, 1).all()
    assert pd.read_csv(out / "runs/digits/random/seed0/metrics.csv")["latent_knn_acc"].isna().all()
    knn = pd.read_csv(out / "results/latent_knn_rounds.csv")
    assert knn[["strategy", "round"]].values.tolist() == [
        ["coreset_cvae@0.5+per_round", r] for r in (0, 1, 2)]
    np.testing.assert_allclose(knn["mean"], metrics["latent_knn_acc"])
    assert (out / "figures/tsne_rounds_digits.png").stat().st_size > 0
    share = pd.read_csv(out / "results/latent_share.csv")
    assert set(share["strategy"]) == {"coreset_cvae@0.5+per_round"} and (share["n"] == 1).all()
    sweep = pd.read_csv(out / "results/alpha_sweep.csv")
    assert sweep[["strategy", "scale"]].values.tolist() == [["coreset_cvae+per_round", 0.5]]
    assert (out / "figures/alpha_sweep.png").stat().st_size > 0
    assert (out / "figures/curves_digits_vaal.png").is_file()
    log = (out / "logs/al_run/digits/coreset_cvae@0.5+per_round/seed0.log").read_text()
    assert "retrained the cvae representation for round 2" in log and "(auto x 0.5)" in log
