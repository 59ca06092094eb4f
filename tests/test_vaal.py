"""VAAL: picks come from the candidates, are distinct, and differ from random's."""

from __future__ import annotations

import numpy as np
import torch

from alvae.data import draw_subset, load_digits_dataset
from alvae.strategies import SelectionContext, get_strategy
from alvae.strategies.vaal import DEFAULTS, prob_labeled, train_vaal

TINY = {"epochs": 2, "batch_size": 32, "width": 4, "latent_dim": 8}


def _ctx(sub, labeled, cand, options, rnd=1):
    return SelectionContext(labeled=labeled, candidates=cand, task=sub.task, infer=None,
                            pool_images=torch.from_numpy(sub.pool_images), seed=0, round=rnd,
                            options=options)


def test_vaal_picks_distinct_candidates_unlike_random():
    sub = draw_subset(load_digits_dataset(), 300, seed=0)
    rng = np.random.default_rng(0)
    labeled = np.sort(rng.choice(300, 40, replace=False))
    cand = np.sort(rng.choice(np.setdiff1d(np.arange(300), labeled), 120, replace=False))
    vaal = get_strategy("vaal")
    picks = vaal.select(_ctx(sub, labeled, cand, TINY), 20, np.random.default_rng(1))
    assert len(picks) == 20 and len(np.unique(picks)) == 20
    assert np.isin(picks, cand).all()
    rand = get_strategy("random").select(_ctx(sub, labeled, cand, TINY), 20, np.random.default_rng(1))
    assert not np.array_equal(np.sort(picks), np.sort(rand))
    # the same seed and round give the same picks; another round, other weights
    again = get_strategy("vaal").select(_ctx(sub, labeled, cand, TINY), 20, np.random.default_rng(5))
    np.testing.assert_array_equal(picks, again)
    assert vaal.get_state() is None  # rebuilt each round: nothing carried


def test_vaal_picks_the_lowest_probability_of_being_labeled():
    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    labeled, cand = np.arange(30), np.arange(30, 200)
    opts = {**DEFAULTS, **TINY}
    images = torch.from_numpy(sub.pool_images)
    seed = int(np.random.default_rng([0, 1, 41]).integers(2**31 - 1))
    vae, disc, hist = train_vaal(images, labeled, np.arange(30, 200), opts, seed, log=lambda m: None)
    p = prob_labeled(vae, disc, images, cand, opts["image_size"])
    expect = cand[np.argsort(p, kind="stable")[:10]]
    picks = get_strategy("vaal").select(_ctx(sub, labeled, cand, TINY), 10, np.random.default_rng(0))
    np.testing.assert_array_equal(picks, expect)
    assert hist and all(np.isfinite(h["vae_loss"]) for h in hist)


def test_vaal_warm_start_carries_the_nets():
    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    labeled, cand = np.arange(30), np.arange(30, 200)
    opts = dict(TINY, warm_start=True, epochs=1)
    vaal = get_strategy("vaal")
    vaal.select(_ctx(sub, labeled, cand, opts), 10, np.random.default_rng(0))
    first = vaal.get_state()
    assert first is not None and set(first) == {"vae", "disc"}
    cold = get_strategy("vaal").select(_ctx(sub, labeled, cand, opts, rnd=2), 10,
                                       np.random.default_rng(0))
    warm = vaal.select(_ctx(sub, labeled, cand, opts, rnd=2), 10, np.random.default_rng(0))
    assert not all(torch.equal(first["disc"][k], vaal.get_state()["disc"][k]) for k in first["disc"])
    assert not np.array_equal(cold, warm)


def test_vaal_defaults_are_the_schema_defaults():
    from alvae.config import _schema

    props = _schema()["properties"]["vaal"]["properties"]
    assert {k: v["default"] for k, v in props.items()} == DEFAULTS
