"""The representation stage of the workflow, planned (dry runs): which
train_vae jobs a study needs, per dataset, kind and seed."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import REPO
from test_workflow import job_counts, smk

pytestmark = pytest.mark.workflow


def dry_run(tmp_path, **changes):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["out_dir"] = str(tmp_path / "out")
    for key, value in changes.items():
        if key == "vae":
            cfg["vae"].update(value)
        else:
            cfg[key] = value
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    vae_dirs = sorted(set(re.findall(r"/vae/digits/(\w+/\w+)/latents\.npy", out)))
    return job_counts(out), vae_dirs


def test_train_vae_jobs_per_kind_and_seed(tmp_path):
    # today's tiny study: one plain VAE per dataset
    counts, dirs = dry_run(tmp_path)
    assert counts["train_vae"] == 1 and dirs == ["vae/shared"] and counts["latent_knn"] == 1

    # cvae learns from each seed's initial labels: one job per seed; gmvae and vae shared
    strategies = ["random", "coreset_vae", "coreset_cvae", "lloss_gmvae"]
    counts, dirs = dry_run(tmp_path, strategies=strategies)
    assert counts["train_vae"] == 4
    assert dirs == ["cvae/seed0", "cvae/seed1", "gmvae/shared", "vae/shared"]
    assert counts["al_run"] == 4 * 2

    # vae.per_seed: every kind per AL seed (the t-SNE experiment's seed 0 is one of them)
    counts, dirs = dry_run(tmp_path, strategies=strategies, vae={"per_seed": True})
    assert counts["train_vae"] == 6
    assert dirs == [f"{k}/seed{s}" for k in ("cvae", "gmvae", "vae") for s in (0, 1)]

    # no strategy and no t-SNE reads latents: no representation is trained
    counts, dirs = dry_run(tmp_path, strategies=["random"], tsne={"datasets": []})
    assert "train_vae" not in counts and "latent_knn" not in counts and dirs == []
