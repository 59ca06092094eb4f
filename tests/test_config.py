"""Config validation: defaults, and errors that name the key to fix."""

from __future__ import annotations

import copy

import pytest
import yaml

from alvae.checks import ConfigError, load_config, validate_config
from alvae.runkey import config_hash
from conftest import REPO


@pytest.fixture
def thesis():
    with open(REPO / "config.yaml") as fh:
        return yaml.safe_load(fh)


def test_thesis_config_is_valid_and_complete(thesis):
    cfg = validate_config(copy.deepcopy(thesis))
    assert cfg["datasets"]["mnist"]["subset_size"] == 25000
    assert cfg["datasets"]["chestmnist"]["subset_size"] == 30000
    assert cfg["al"]["initial_labels"] == 3000 and cfg["al"]["labels_per_round"] == 3000
    assert cfg["al"]["seeds"] == [0, 1, 2, 3, 4]
    tm = cfg["task_model"]
    assert (tm["lr"], tm["momentum"], tm["epochs_initial"], tm["epochs_per_round"]) == (0.001, 0.9, 10, 5)
    assert cfg["representation"] == {"latent_dim": 32, "epochs": 20, "lr": 0.001, "weight_decay": 0.005,
                          "batch_size": 128, "retrain": "once", "retrain_epochs": 5,
                          "per_seed": True,  # each seed's X_vae reads its own VAE
                          "cvae": {"append_soft_labels": False, "class_weight": 0.1},
                          "gmvae": {"components": None, "append_responsibilities": False,
                                    "pretrain_epochs": 10},
                          "simclr": {"epochs": None, "batch_size": None, "lr": 0.001,
                                     "weight_decay": 1e-6, "temperature": 0.5, "width": 32,
                                     "blocks": 1, "proj_dim": 128, "crop_scale": 0.2,
                                     "hflip": False, "jitter": 0.4, "jitter_prob": 0.8,
                                         "hue": 0.1, "grayscale_prob": 0.2},
                          "pretrained": {"source": "torchvision", "arch": "resnet18", "path": None,
                                         "sha256": None, "url": None, "image_size": 224,
                                         "batch_size": 256, "normalize": "imagenet"}}
    assert (cfg["tsne"]["initial_labels"], cfg["tsne"]["candidates"], cfg["tsne"]["pick"]) == (1000, 1556, 100)


def test_defaults_filled():
    cfg = validate_config({"datasets": {"d": {"source": "digits", "subset_size": 500}},
                           "al": {"initial_labels": 50, "final_labels": 150}})
    assert cfg["al"]["labels_per_round"] == 3000 and cfg["task_model"]["batch_size"] == 128
    assert cfg["datasets"]["d"]["subset_seed"] == 0 and cfg["alpha"] == "auto"
    assert cfg["gpu"]["jobs_per_gpu"] == 1


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["representation"].update(epochz=3), r"representation: unknown key: .*'epochz'"),
    (lambda c: c.update(strategy=["random"]), r"\(top level\): unknown key: .*'strategy'"),
    (lambda c: c["task_model"].update(lr="fast"), r"task_model\.lr: 'fast' is not of type 'number'"),
    (lambda c: c["al"].update(seeds=[1, 1]), r"al\.seeds: .*non-unique"),
    (lambda c: c.update(strategies=["coreset", "magic"]), r"strategies\.1: 'magic' is not allowed; expected one of 'random', 'entropy'.*, or a variant label"),
    (lambda c: c["al"].update(initial_labels=26000),
     r"al\.initial_labels \(26000\) must be smaller than datasets\.mnist\.subset_size \(25000\)"),
    (lambda c: c["datasets"]["mnist"].update(subset_size=70000),
     r"datasets\.mnist\.subset_size \(70000\) is larger than the training split of mnist \(60000\)"),
    (lambda c: c["datasets"]["chestmnist"].update(subset_size=80000),
     r"datasets\.chestmnist\.subset_size \(80000\) is larger than the training split of medmnist/chestmnist \(78468\)"),
    (lambda c: c["al"].update(final_labels=1000), r"al\.final_labels \(1000\) is smaller than al\.initial_labels"),
    (lambda c: c["tsne"].update(pick=2000), r"tsne\.pick \(2000\) exceeds tsne\.candidates"),
    (lambda c: c["tsne"].update(datasets=["cifar"]), r"tsne\.datasets: 'cifar' is not a configured dataset"),
    (lambda c: c.update(alpha=-1), r"alpha: -1 is not allowed; expected a number >= 0, or one of 'auto', 'auto_norm'"),
])
def test_bad_values_name_the_key(thesis, mutate, message):
    mutate(thesis)
    with pytest.raises(ConfigError, match=message):
        validate_config(thesis)


def test_load_config_with_overrides():
    cfg = load_config(REPO / "presets" / "demo.yaml", {"out_dir": "elsewhere"})
    assert cfg["out_dir"] == "elsewhere" and list(cfg["datasets"]) == ["digits"]


def test_config_hash_is_order_independent():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["stats"].update(alpha=0.01), r"stats\.alpha: renamed; write stats\.significance"),
    (lambda c: c["representation"].update(cvae={"alpha": 0.2}), r"representation\.cvae\.alpha: renamed; write representation\.cvae\.class_weight"),
])
def test_the_alpha_settings_have_distinct_names(thesis, mutate, message):
    """issue 20: `alpha` named three settings; two are renamed, with a clear line."""
    mutate(thesis)
    with pytest.raises(ConfigError, match=message):
        validate_config(thesis)


def test_the_configuration_reference_is_generated_from_the_schema():
    """issue 20: defaults are written once, in the schema; docs/configuration.md is made
    from it (python -m alvae.schema > docs/configuration.md) and must stay in step."""
    from alvae.schema import reference_markdown

    assert (REPO / "docs" / "configuration.md").read_text() == reference_markdown(), \
        "docs/configuration.md is stale: python -m alvae.schema > docs/configuration.md"
    text = reference_markdown()
    assert "| `task_model.lr` | `0.001` |" in text and "| `stats.significance` | `0.05` |" in text


def test_the_schema_ships_with_the_package():
    from importlib import resources

    from alvae import schema

    assert (resources.files("alvae") / "config.schema.yaml").is_file()
    assert schema.SCHEMA_PATH.samefile(REPO / "workflow" / "schemas" / "config.schema.yaml")


def test_a_moved_section_is_read_under_its_new_name():
    """issue 29: ``vae:`` (one word per concept: the kinds are representations) is read as
    ``representation:`` with a one-line notice; both names at once are refused."""
    from alvae.config import move_renamed

    notes = []
    cfg = {"vae": {"latent_dim": 4, "cvae": {"class_weight": 0.2}}}
    assert move_renamed(cfg, notice=notes.append) == notes
    assert cfg == {"representation": {"latent_dim": 4, "cvae": {"class_weight": 0.2}}}
    assert notes == ["note: vae: is now called representation: (read as representation:; "
                     "rename it in the config file)"]
    base = {"datasets": {"d": {"source": "digits", "subset_size": 500}},
            "al": {"initial_labels": 50, "final_labels": 150}}
    filled = validate_config({**copy.deepcopy(base), "vae": {"latent_dim": 4}})
    assert filled["representation"]["latent_dim"] == 4 and "vae" not in filled
    with pytest.raises(ConfigError, match=r"vae and representation both given"):
        validate_config({**copy.deepcopy(base), "vae": {"latent_dim": 4}, "representation": {}})
