"""The representation stage of the workflow, planned (a dry run): the train_representation jobs
Snakemake plans per dataset, kind and seed (the plan's logic: tests/test_plan.py)."""

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
            cfg["representation"].update(value)
        else:
            cfg[key] = value
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    vae_dirs = sorted(set(re.findall(r"/representation/digits/(\w+/\w+)/latents\.npy", out)))
    return job_counts(out), vae_dirs


def test_train_vae_jobs_per_kind_and_seed(tmp_path):
    """Snakemake's side of the plan (which jobs, per kind and seed, is tests/test_plan.py):
    the scope wildcard of train_representation resolves to shared and seed<n> folders."""
    # cvae learns from each seed's initial labels: one job per seed; gmvae and vae shared
    strategies = ["random", "coreset_vae", "coreset_cvae", "lloss_gmvae"]
    counts, dirs = dry_run(tmp_path, strategies=strategies)
    assert counts["train_representation"] == 4
    assert dirs == ["cvae/seed0", "cvae/seed1", "gmvae/shared", "vae/shared"]
    assert counts["al_run"] == 4 * 2 and counts["latent_knn"] == 1


def test_the_old_section_name_is_read_with_a_notice(tmp_path):
    """issue 29: the config section ``vae:`` is now ``representation:``; a config written
    with the old name still runs, read as the new one (its keys take effect: per_seed
    plans one training per AL seed), with a one-line notice."""
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg["out_dir"] = str(tmp_path / "out")
    cfg["vae"] = {**cfg.pop("representation"), "per_seed": True}
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    notices = [line for line in out.splitlines() if "vae: is now called representation:" in line]
    assert notices and len(set(notices)) == 1, out[-3000:]
    counts = job_counts(out)
    dirs = sorted(set(re.findall(r"/representation/digits/(\w+/\w+)/latents\.npy", out)))
    assert counts["train_representation"] == 2 and dirs == ["vae/seed0", "vae/seed1"]
