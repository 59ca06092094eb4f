"""Entropy strategy: values against hand computation and the picks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from alvae.strategies import SelectionContext, get_strategy
from alvae.strategies.entropy import predictive_entropy


def ctx_with(probs: np.ndarray, task: str, candidates=None) -> SelectionContext:
    n = len(probs)
    candidates = np.arange(100, 100 + n) if candidates is None else candidates
    lookup = {int(c): i for i, c in enumerate(candidates)}

    def infer(idx):
        return {"probs": torch.tensor(probs[[lookup[int(i)] for i in idx]], dtype=torch.float32)}

    return SelectionContext(labeled=np.arange(10), candidates=np.asarray(candidates),
                            infer=infer, task=task)


def test_multiclass_values():
    probs = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.7, 0.2, 0.1]])
    h = predictive_entropy(probs, "multi-class")
    expected = [0.0, math.log(2), math.log(3),
                -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1))]
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-15)
    assert h[3] == pytest.approx(0.8018185525433373, rel=1e-12)


def test_multilabel_values_sum_binary_entropies():
    probs = np.array([[0.5, 0.5, 0.0], [0.9, 0.1, 1.0], [0.2, 0.0, 0.0]])
    h = predictive_entropy(torch.tensor(probs), "multi-label")
    hb = lambda p: -(p * math.log(p) + (1 - p) * math.log(1 - p))  # noqa: E731
    np.testing.assert_allclose(h, [2 * math.log(2), 2 * hb(0.9), hb(0.2)], rtol=1e-12)
    assert h[1] == pytest.approx(2 * 0.3250829733914482, rel=1e-12)


def test_picks_highest_entropy_with_stable_ties():
    probs = np.array([
        [0.98, 0.01, 0.01],  # low
        [0.5, 0.5, 0.0],     # log 2 (tie with 3)
        [1 / 3, 1 / 3, 1 / 3],  # log 3: highest
        [0.0, 0.5, 0.5],     # log 2
        [1.0, 0.0, 0.0],     # 0
    ])
    strat = get_strategy("entropy")
    assert not strat.uses_representation and not strat.trains_loss_module
    ctx = ctx_with(probs, "multi-class")
    picked = strat.select(ctx, 3, np.random.default_rng(0))
    assert picked.dtype == np.int64
    assert picked.tolist() == [102, 101, 103]
    assert strat.select(ctx, 2, np.random.default_rng(0)).tolist() == [102, 101]


def test_multilabel_picks():
    probs = np.array([[0.01, 0.02], [0.5, 0.01], [0.4, 0.6], [0.99, 0.99]])
    ctx = ctx_with(probs, "multi-label", candidates=np.array([7, 3, 42, 11]))
    # entropies: 2 > 1 > 0 > 3
    assert get_strategy("entropy").select(ctx, 2, np.random.default_rng(0)).tolist() == [42, 3]
