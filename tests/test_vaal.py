"""VAAL: picks come from the candidates, are distinct, and differ from random's; the
settings that differ from the reference (docs/methods.md) behave as stated; training
logs its progress."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.schema import defaults
from alvae.strategies import SelectionContext, get_strategy
from alvae.strategies import vaal as vaal_mod
from alvae.strategies.vaal import Discriminator, prob_labeled, resolve_image_size, train_vaal

DEFAULTS = defaults("vaal")  # the schema's, the only place they are written

TINY = {"epochs": 2, "batch_size": 32, "width": 4, "latent_dim": 8}


def _ctx(sub, labeled, cand, rnd=1):
    return SelectionContext(labeled=labeled, candidates=cand, task=sub.task, infer=None,
                            pool_images=torch.from_numpy(sub.pool_images), seed=0, round=rnd)


def test_vaal_picks_distinct_candidates_unlike_random():
    sub = draw_subset(load_digits_dataset(), 300, seed=0)
    rng = np.random.default_rng(0)
    labeled = np.sort(rng.choice(300, 40, replace=False))
    cand = np.sort(rng.choice(np.setdiff1d(np.arange(300), labeled), 120, replace=False))
    vaal = get_strategy("vaal", TINY)
    picks = vaal.select(_ctx(sub, labeled, cand), 20, np.random.default_rng(1))
    assert len(picks) == 20 and len(np.unique(picks)) == 20
    assert np.isin(picks, cand).all()
    rand = get_strategy("random").select(_ctx(sub, labeled, cand), 20, np.random.default_rng(1))
    assert not np.array_equal(np.sort(picks), np.sort(rand))
    # the same seed and round give the same picks; another round, other weights
    again = get_strategy("vaal", TINY).select(_ctx(sub, labeled, cand), 20, np.random.default_rng(5))
    np.testing.assert_array_equal(picks, again)
    assert vaal.get_state() is None  # rebuilt each round: nothing carried


def test_vaal_picks_the_lowest_probability_of_being_labeled():
    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    labeled, cand = np.arange(30), np.arange(30, 200)
    opts = {**DEFAULTS, **TINY}
    images = torch.from_numpy(sub.pool_images)
    seed = int(np.random.default_rng([0, 1, 41]).integers(2**31 - 1))
    vae, disc, hist = train_vaal(images, labeled, np.arange(30, 200), opts, seed, log=lambda m: None)
    p = prob_labeled(vae, disc, images, cand, resolve_image_size(opts["image_size"], 8, 8))
    expect = cand[np.argsort(p, kind="stable")[:10]]
    picks = get_strategy("vaal", TINY).select(_ctx(sub, labeled, cand), 10, np.random.default_rng(0))
    np.testing.assert_array_equal(picks, expect)
    assert hist and all(np.isfinite(h["vae_loss"]) for h in hist)


def test_a_labeled_set_one_more_than_the_batches_trains():
    """issue 30: 3 labels in batches of 2 left a batch of one image, which the encoder's
    batch norm refused on 16-px images (1×1 maps): a traceback. It joins the batch before."""
    sub = draw_subset(load_digits_dataset(), 40, seed=0)
    gen = torch.Generator().manual_seed(0)
    stream = vaal_mod._stream(np.arange(5), 2, gen)
    assert [len(next(stream)) for _ in range(4)] == [2, 3, 2, 3]
    labeled, cand = np.arange(3), np.arange(3, 40)
    picks = get_strategy("vaal", {**TINY, "batch_size": 2, "epochs": 1}).select(
        _ctx(sub, labeled, cand), 4, np.random.default_rng(0))
    assert len(np.unique(picks)) == 4 and np.isin(picks, cand).all()


def test_vaal_warm_start_carries_the_nets():
    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    labeled, cand = np.arange(30), np.arange(30, 200)
    opts = dict(TINY, warm_start=True, epochs=1)
    vaal = get_strategy("vaal", opts)
    vaal.select(_ctx(sub, labeled, cand), 10, np.random.default_rng(0))
    first = vaal.get_state()
    assert first is not None and set(first) == {"vae", "disc"}
    cold = get_strategy("vaal", opts).select(_ctx(sub, labeled, cand, rnd=2), 10,
                                             np.random.default_rng(0))
    warm = vaal.select(_ctx(sub, labeled, cand, rnd=2), 10, np.random.default_rng(0))
    assert not all(torch.equal(first["disc"][k], vaal.get_state()["disc"][k]) for k in first["disc"])
    assert not np.array_equal(cold, warm)


def test_vaal_defaults_are_the_schema_defaults_and_written_nowhere_else():
    assert not hasattr(vaal_mod, "DEFAULTS")
    assert get_strategy("vaal").params == DEFAULTS
    assert get_strategy("vaal", {"epochs": 3}).params == {**DEFAULTS, "epochs": 3}


def test_image_size_auto_is_the_data_size_rounded_up_to_16():
    assert DEFAULTS["image_size"] == "auto"
    assert [resolve_image_size("auto", s, s) for s in (8, 16, 28, 32, 33)] == [16, 16, 32, 32, 48]
    assert resolve_image_size("auto", 20, 40) == 48  # the larger side
    assert resolve_image_size(64, 8, 8) == 64  # a number is kept
    for bad in (24, 0, "big", True):
        with pytest.raises(ValueError, match="vaal.image_size"):
            resolve_image_size(bad, 8, 8)


def test_discriminator_has_four_hidden_512_unit_layers():
    """alvae keeps the reference's initial import (four hidden layers; today's has two)."""
    linear = [m for m in Discriminator(32).net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (32, 512), (512, 512), (512, 512), (512, 512), (512, 1)]


def test_discriminator_step_draws_fresh_batches_and_scoring_is_in_eval_mode(monkeypatch):
    sub = draw_subset(load_digits_dataset(), 120, seed=0)
    images = torch.from_numpy(sub.pool_images)
    labeled, unlabeled = np.arange(40), np.arange(40, 120)
    drawn = []
    real_stream = vaal_mod._stream

    def counting(indices, batch_size, gen):
        for batch in real_stream(indices, batch_size, gen):
            drawn.append(len(indices))
            yield batch

    monkeypatch.setattr(vaal_mod, "_stream", counting)
    opts = {**DEFAULTS, **TINY, "epochs": 1, "batch_size": 40}
    vae, disc, _ = train_vaal(images, labeled, unlabeled, opts, 0, log=lambda m: None)
    n_iter = 120 // 40
    # per iteration: a new labeled and unlabeled batch for each of the 2 VAE steps and
    # for the discriminator step (the reference reuses the last VAE step's batches)
    assert drawn.count(40) == drawn.count(80) == 3 * n_iter
    assert not vae.training and not disc.training
    size = resolve_image_size("auto", 8, 8)
    cand = np.arange(40, 120)
    whole = prob_labeled(vae, disc, images, cand, size, batch_size=1024)
    single = prob_labeled(vae, disc, images, cand, size, batch_size=1)
    # eval mode: batch norm uses its running statistics, so a point's score does not
    # depend on the batch it is scored in; in train mode (the reference's) it does
    np.testing.assert_allclose(single, whole, rtol=1e-5, atol=1e-7)
    vae.train()
    in_batches = prob_labeled(vae, disc, images, cand, size, batch_size=20)
    assert not np.allclose(in_batches, whole, rtol=1e-3)


def test_training_logs_progress_with_losses_and_time_left():
    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    lines = []
    opts = {**DEFAULTS, **TINY, "epochs": 1, "batch_size": 20}  # 10 iterations
    train_vaal(torch.from_numpy(sub.pool_images), np.arange(30), np.arange(30, 200), opts, 0,
               log=lines.append)
    assert lines[0].startswith("vaal: training 10 iterations (pool 200 x 1 epochs / batch 20)")
    assert "16 x 16 px, width 4" in lines[0]
    progress = [ln for ln in lines if ln.startswith("vaal iteration")]
    assert progress[0].startswith("vaal iteration 1/10 (10.0 %) vae_loss ")
    assert progress[-1].startswith("vaal iteration 10/10 (100.0 %)")
    for ln in progress:
        assert re.search(r"disc_loss \d+\.\d{4} \| \S+ elapsed, ~\S+ left$", ln), ln
