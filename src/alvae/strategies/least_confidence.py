"""``least_confidence``: lowest probability of the predicted label (Lewis & Gale
1994; Settles 2009, least-confident sampling).

Multi-class and binary tasks: U(u) = 1 − max_c p_c(u), highest first.

Multi-label tasks (independent sigmoid probabilities p_l): our choice is the
probability of the most likely label *vector* under the model's independence
assumption, P(ŷ|u) = Π_l max(p_l, 1 − p_l), the direct analogue of the
top-class probability; candidates of lowest P(ŷ|u) are picked (computed as
−Σ_l log max(p_l, 1 − p_l), highest first). Unlike the label-wise mean this
does not coincide with ``margin``'s multi-label ranking.

Ties go to the lower candidate position (stable sort).
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy
from .scoring import prob_matrix, top_k_stable


def least_confidence_scores(probs, task: str) -> np.ndarray:
    """Uncertainty (float64, larger = less confident) of each row of ``probs``."""
    p = prob_matrix(probs)
    if task == "multi-label":
        conf = torch.maximum(p, 1.0 - p).clamp_min(1e-300)
        return (-conf.log().sum(dim=1)).cpu().numpy()
    return (1.0 - p.max(dim=1).values).cpu().numpy()


class LeastConfidenceStrategy(Strategy):
    name = "least_confidence"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        u = least_confidence_scores(ctx.infer(ctx.candidates)["probs"], ctx.task)
        return np.asarray(ctx.candidates, dtype=np.int64)[top_k_stable(u, budget)]
