"""α that means what it says: spread matching, auto_norm as before, α labels, latent_share."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.seeds import initial_labeled, round_seed
from alvae.strategies.alpha import latent_share, measured_alpha, split_label, spread, spread_alpha
from alvae.training.engine import DevicePool, TrainConfig, build_model, infer, train_model
from test_loop import LLOSS, QUIET, SMALL_AL, SMALL_TM


def test_spread_is_the_mean_pairwise_squared_distance():
    x = np.random.default_rng(0).normal(size=(30, 5)) * 3 + 7
    brute = np.mean([np.sum((a - b) ** 2) for a in x for b in x])
    assert spread(x) == pytest.approx(brute, rel=1e-12)
    assert spread(x[:1]) == 0.0


def test_spread_alpha_gives_each_block_half():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(50, 20)) * 5 + 10  # offset: a norm ratio would misjudge this
    z = rng.normal(size=(50, 4))
    a = spread_alpha(f, z)
    assert latent_share(f, z, a) == pytest.approx(0.5)
    # by hand: the concatenation's spread is the sum of the blocks'
    cat = np.concatenate([f, a * z], axis=1)
    assert spread(cat) == pytest.approx(2 * spread(f))
    assert latent_share(f, z, 0.0) == 0.0
    assert math.isnan(latent_share(np.ones((3, 2)), np.ones((3, 2)), 1.0))


def test_split_label():
    assert split_label("coreset_vae") == ("coreset_vae", 1.0)
    assert split_label("medal_cvae@0.25") == ("medal_cvae", 0.25)
    assert split_label("coreset_vae@0") == ("coreset_vae", 0.0)
    with pytest.raises(ValueError, match="coreset_vae@x"):
        split_label("coreset_vae@x")


@pytest.fixture(scope="module")
def small():
    sub = draw_subset(load_digits_dataset(), 200, seed=1)
    latents = np.random.default_rng(0).normal(size=(len(sub), 4)).astype(np.float32)
    return sub, latents


def _round0_features(sub, seed):
    """Today's round 0, rebuilt from the engine: the features α is measured on."""
    cfg = TrainConfig.from_config(SMALL_TM, LLOSS)
    pool = DevicePool(sub.pool_images, sub.pool_labels, sub.task, "cpu")
    labeled = initial_labeled(len(sub), SMALL_AL["initial_labels"], seed)
    rs = round_seed(seed, 0)
    model = build_model(sub.task, sub.n_classes, sub.pool_images.shape[1], SMALL_TM, rs, "cpu")
    train_model(model, pool, labeled, SMALL_TM["epochs_initial"], cfg, rs, log=QUIET)
    return infer(model, pool, labeled, cfg)["features"], labeled


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["coreset_vae", "medal_vae"])
def test_auto_norm_and_numeric_alpha_pick_as_before(small, strategy):
    """Today's ``auto`` (the norm ratio) is ``auto_norm``: its picks are those of the
    numeric α computed by today's formula, and ``auto`` now matches spreads."""
    sub, latents = small
    feats, labeled = _round0_features(sub, 2)
    old = float(feats.norm(dim=1).mean()) / float(np.linalg.norm(latents, axis=1).mean())
    logs = []
    a = run_loop(sub, RunSpec(strategy, 2, SMALL_AL, SMALL_TM, LLOSS, alpha="auto_norm"), latents=latents,
                 log=logs.append)
    b = run_loop(sub, RunSpec(strategy, 2, SMALL_AL, SMALL_TM, LLOSS, alpha=old), latents=latents, log=QUIET)
    for key in b[1]:
        np.testing.assert_array_equal(a[1][key], b[1][key])
    assert any(f"alpha = {old:.4g} (auto_norm)" in m for m in logs)
    new = math.sqrt(spread(feats) / spread(latents[labeled]))
    logs = []
    run_loop(sub, RunSpec(strategy, 2, dict(SMALL_AL, final_labels=20), SMALL_TM, LLOSS, alpha="auto"),
             latents=latents, log=logs.append)
    assert any(f"alpha = {new:.4g} (auto)" in m for m in logs)
    assert measured_alpha("auto", feats, latents, labeled) == pytest.approx(new)


@pytest.mark.slow
def test_alpha_label_scales_alpha_and_rows_carry_latent_share(small):
    sub, latents = small
    feats, labeled = _round0_features(sub, 0)
    base = measured_alpha("auto", feats, latents, labeled)
    logs = []
    rows, picks = run_loop(sub, RunSpec("coreset_vae@2.5", 0, SMALL_AL, SMALL_TM, LLOSS, alpha="auto"),
                           latents=latents, log=logs.append)
    assert any(f"alpha = {2.5 * base:.4g} (auto x 2.5)" in m for m in logs)
    assert math.isnan(rows[0]["latent_share"])
    assert all(0.0 < r["latent_share"] < 1.0 for r in rows[1:])
    # the share on round 1's candidates, by hand, from the same round-1 inputs
    zero = run_loop(sub, RunSpec("coreset_vae@0", 0, SMALL_AL, SMALL_TM, LLOSS, alpha="auto"),
                    latents=latents, log=QUIET)
    plain = run_loop(sub, RunSpec("coreset", 0, SMALL_AL, SMALL_TM, LLOSS), log=QUIET)
    for key in plain[1]:
        np.testing.assert_array_equal(zero[1][key], plain[1][key])
    assert [r["latent_share"] for r in zero[0][1:]] == [0.0, 0.0]
    lloss_rows, _ = run_loop(sub, RunSpec("lloss_vae", 0, dict(SMALL_AL, final_labels=40), SMALL_TM, LLOSS),
                             latents=latents, log=QUIET)
    assert all(math.isnan(r["latent_share"]) for r in lloss_rows)


def test_latent_share_matches_the_candidates_by_hand(small):
    """The strategy reports the share on exactly its candidates' features and latents."""
    from alvae.strategies import SelectionContext, get_strategy

    sub, latents = small
    rng = np.random.default_rng(3)
    feats = torch.as_tensor(rng.normal(size=(len(sub), 6)) + 4.0, dtype=torch.float32)
    labeled, cand = np.arange(0, 20), np.arange(50, 120)
    ctx = SelectionContext(labeled=labeled, candidates=cand, task=sub.task,
                           infer=lambda idx: {"features": feats[np.asarray(idx)]},
                           latents=latents, alpha=1.7)
    get_strategy("coreset_vae").select(ctx, 5, rng)
    expect = latent_share(feats[cand].numpy(), latents[cand], 1.7)
    assert ctx.diagnostics["latent_share"] == pytest.approx(expect, rel=1e-12)


def test_schema_accepts_alpha_labels_and_names_bad_ones():
    import copy

    import yaml

    from alvae.checks import ConfigError, validate_config
    from conftest import REPO

    base = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    ok = copy.deepcopy(base)
    ok.update(strategies=["coreset_vae@0.25", "lloss_gmvae@2", "vaal"], alpha="auto_norm")
    assert validate_config(ok)["strategies"][0] == "coreset_vae@0.25"
    for bad in ("coreset@0.5", "coreset_vae@-1", "coreset_vae@x"):
        cfg = copy.deepcopy(base)
        cfg["strategies"] = ["random", bad]
        with pytest.raises(ConfigError, match=rf"strategies\.1: '{re.escape(bad)}' is not allowed; expected one of"):
            validate_config(cfg)
