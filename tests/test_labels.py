"""Strategy labels <strategy>[@<scale>][+<retrain>]: parsing, the config's check,
the pairs and families the tests form, and the curves' line styles."""

from __future__ import annotations

import re

import pytest
import yaml

from alvae.analysis.plots import style
from alvae.analysis.stats import (
    OTHER_FAMILY,
    RANDOM_FAMILY,
    RETRAIN_FAMILY,
    THESIS_FAMILY,
    default_pairs,
    pair_family,
)
from alvae.checks import ConfigError, validate_config
from alvae.labels import parse_label, retrain_of, strategy_of, without_retrain
from alvae.strategies.alpha import split_label
from conftest import REPO


@pytest.mark.parametrize("label, name, scale, retrain", [
    ("random", "random", 1.0, None),
    ("coreset_vae", "coreset_vae", 1.0, None),
    ("coreset_vae@0.25", "coreset_vae", 0.25, None),
    ("coreset_cvae+per_round", "coreset_cvae", 1.0, "per_round"),
    ("lloss_gmvae@2+once", "lloss_gmvae", 2.0, "once"),
])
def test_parse_label(label, name, scale, retrain):
    p = parse_label(label)
    assert (p.name, p.scale, p.retrain) == (name, scale, retrain)
    assert strategy_of(label) == name
    assert split_label(label) == (name, scale)


def test_label_parts_round_trip():
    p = parse_label("coreset_vae@0.50+per_round")
    assert p.variant == "coreset_vae+per_round"
    assert p.schedule_free == "coreset_vae@0.50"
    assert without_retrain("coreset_vae@0.50+per_round") == "coreset_vae@0.50"
    assert without_retrain("coreset") == "coreset"
    assert retrain_of("coreset_vae+per_round") == "per_round"
    assert retrain_of("coreset_vae", default="per_round") == "per_round"
    assert retrain_of("coreset_vae+once", default="per_round") == "once"


@pytest.mark.parametrize("label", ["coreset_vae+weekly", "coreset_vae+", "coreset_vae@x",
                                   "coreset_vae+per_round@0.5", "Coreset"])
def test_bad_labels_are_named(label):
    with pytest.raises(ValueError, match=re.escape(f"strategy label {label!r} is not")):
        parse_label(label)


def _thesis_with(strategies):
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["strategies"] = strategies
    return cfg


def test_config_accepts_retrain_labels_on_variants_only():
    cfg = validate_config(_thesis_with(["random", "coreset_cvae+per_round", "lloss_vae@0.5+once"]))
    assert cfg["strategies"][1] == "coreset_cvae+per_round"
    for bad in ("coreset+per_round", "random+per_round", "coreset_vae+weekly", "vaal+once"):
        with pytest.raises(ConfigError, match=r"strategies\.1"):
            validate_config(_thesis_with(["random", bad]))


def test_pairs_and_families_with_retrain_labels():
    s = ["random", "coreset", "coreset_vae", "coreset_cvae", "coreset_cvae+per_round",
         "lloss_vae@0.5", "lloss_vae@0.5+per_round", "vaal"]
    pairs = default_pairs(s)
    # the thesis's question for both schedules; once vs per round for each representation
    assert pairs[:3] == [("coreset", "coreset_vae"), ("coreset", "coreset_cvae"),
                         ("coreset", "coreset_cvae+per_round")]
    assert pairs[3:5] == [("coreset_cvae", "coreset_cvae+per_round"),
                          ("lloss_vae@0.5", "lloss_vae@0.5+per_round")]
    assert pairs[5:] == [(x, "random") for x in s if x != "random"]
    assert pair_family("coreset", "coreset_cvae+per_round") == THESIS_FAMILY
    assert pair_family("coreset_cvae+per_round", "coreset_cvae") == RETRAIN_FAMILY
    assert pair_family("coreset_cvae+per_round", "random") == RANDOM_FAMILY
    # different representations or scales are not a schedule question
    assert pair_family("coreset_vae", "coreset_cvae+per_round") == OTHER_FAMILY
    assert pair_family("lloss_vae", "lloss_vae@0.5+per_round") == OTHER_FAMILY


def test_global_per_round_pairs_with_once_labels():
    # representation.retrain: per_round for the study, one label kept on the once schedule
    assert ("coreset_vae", "coreset_vae+once") in default_pairs(["coreset_vae", "coreset_vae+once"])


def test_curve_styles_tell_kind_and_schedule_apart():
    once, per_round = style("coreset_cvae"), style("coreset_cvae+per_round")
    assert once["color"] == per_round["color"] == "tab:purple"
    assert once["linestyle"] != per_round["linestyle"]
    assert style("coreset_vae") == dict(color="tab:orange", marker="o", linestyle="-.")
    assert style("coreset_gmvae")["color"] != style("coreset_vae")["color"]
    # α-sweep labels keep the cycle of extra colours (one line per scale)
    assert style("coreset_vae@0.5", 0)["color"] != style("coreset_vae@2", 1)["color"]


def test_every_label_of_the_vocabulary_has_a_style_of_its_own():
    """Issue 27: the labels-saved figure drew core-set, loss prediction and MedAL (and their
    VAE variants) alike. Every plain name and every <base>_<kind> label, once or per round,
    gets its own (colour, marker, line style), whatever the order the figure draws them in."""
    from alvae import vocabulary

    labels = list(vocabulary.STRATEGIES)
    for base, t in vocabulary.STRATEGIES.items():
        if t.takes_representation:
            labels += [f"{base}_{k}" for k in vocabulary.KINDS]
            labels += [f"{base}_{k}+per_round" for k in vocabulary.KINDS]
    styles = [tuple(sorted(style(s, i).items())) for i, s in enumerate(labels)]
    assert len(set(styles)) == len(labels)
    assert style("coreset", 0) == style("coreset", 5)  # not by position
    assert len({style(s)["color"] for s in ("coreset", "medal", "lloss")}) == 3
