"""``entropy``: maximum predictive entropy (Shannon 1948; Settles 2009, "Active
Learning Literature Survey", uncertainty sampling).

Multi-class and binary tasks (softmax probabilities p_c):

    H(u) = − Σ_c p_c(u) log p_c(u)

Multi-label tasks (independent sigmoid probabilities p_l): the sum of the
per-label binary entropies

    H(u) = − Σ_l [ p_l log p_l + (1 − p_l) log(1 − p_l) ],

with 0·log 0 = 0. The ``budget`` candidates of highest H are picked; ties go to
the lower candidate position (stable sort).
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy
from .scoring import top_k_stable


def _xlogx(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def predictive_entropy(probs, task: str) -> np.ndarray:
    """Entropy (nats, float64) of each row of ``probs`` (n × C or n × L)."""
    if isinstance(probs, torch.Tensor):
        probs = probs.detach().cpu().double().numpy()
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    if p.ndim != 2:
        raise ValueError(f"probs must be n × C, got shape {p.shape}")
    if task == "multi-label":
        return -(_xlogx(p) + _xlogx(1.0 - p)).sum(axis=1)
    return -_xlogx(p).sum(axis=1)


class EntropyStrategy(Strategy):
    name = "entropy"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        h = predictive_entropy(ctx.infer(ctx.candidates)["probs"], ctx.task)
        return np.asarray(ctx.candidates, dtype=np.int64)[top_k_stable(h, budget)]
