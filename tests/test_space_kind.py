"""typiclust.space / probcover.space naming a representation kind (e.g. simclr)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from alvae.checks import ConfigError, load_config
from alvae.strategies import get_strategy
from alvae.strategies.space import check_space
from conftest import REPO


def test_space_may_name_a_representation_kind():
    for space in ("latents", "features", "vae", "gmvae", "simclr"):
        assert check_space({"space": space}, "typiclust") == space
    with pytest.raises(ValueError, match=r"typiclust.space must be one of latents, features") as e:
        check_space({"space": "pixels"}, "typiclust")
    assert "simclr" in str(e.value) and "'pixels'" in str(e.value)
    s = get_strategy("probcover", {"space": "simclr"})
    assert s.needs_latents  # the loop then requires the kind's latents
    assert not get_strategy("probcover", {"space": "features"}).needs_latents


def test_config_names_a_bad_space_before_any_job(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), strategies=["random", "typiclust"],
               typiclust={"space": "simclr"}, probcover={"space": "pixels"})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert "probcover.space" in msg and "pixels" in msg
    assert "typiclust" not in msg  # simclr is a kind


def _plan(cfg, tmp_path):
    cfg["out_dir"] = str(tmp_path / "out")
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(path)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    return out


@pytest.mark.workflow
def test_typiclust_on_simclr_latents_plans_a_simclr_training(tmp_path):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(strategies=["random", "typiclust", "probcover"], typiclust={"space": "simclr"},
               probcover={"space": "simclr"}, tsne={"datasets": []})
    out = _plan(cfg, tmp_path)
    assert "representation/digits/simclr/shared/latents.npy" in out
    assert out.count("rule train_representation:") == 1
