"""``margin``: smallest margin between the two most probable classes (Scheffer et
al. 2001; Settles 2009, margin sampling).

Multi-class and binary tasks (softmax probabilities, sorted p_(1) ≥ p_(2)):

    M(u) = p_(1)(u) − p_(2)(u),   the ``budget`` candidates of smallest M are picked.

Multi-label tasks (independent sigmoid probabilities p_l): each label is a binary
decision whose margin is |p_l − (1 − p_l)| = 2|p_l − 0.5|; our choice is the
mean over labels,

    M(u) = (1/L) Σ_l 2·|p_l(u) − 0.5|,   smallest first.

Ties go to the lower candidate position (stable sort).
"""

from __future__ import annotations

import numpy as np

from .base import SelectionContext, Strategy
from .scoring import prob_matrix, top_k_stable


def margin_scores(probs, task: str) -> np.ndarray:
    """Margin M (float64, smaller = more uncertain) of each row of ``probs``."""
    p = prob_matrix(probs)
    if task == "multi-label":
        return (2.0 * (p - 0.5).abs()).mean(dim=1).cpu().numpy()
    if p.shape[1] < 2:
        raise ValueError("margin needs at least two classes")
    top2 = p.topk(2, dim=1).values
    return (top2[:, 0] - top2[:, 1]).cpu().numpy()


class MarginStrategy(Strategy):
    name = "margin"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        m = margin_scores(ctx.infer(ctx.candidates)["probs"], ctx.task)
        return np.asarray(ctx.candidates, dtype=np.int64)[top_k_stable(-m, budget)]
