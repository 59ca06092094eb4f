"""``bald``: Bayesian Active Learning by Disagreement with MC dropout (Houlsby et
al. 2011; Gal, Islam & Ghahramani, ICML 2017).

The task model carries a dropout layer (rate ``bald.dropout``, default 0.5)
before its last layer; as in Gal et al. the model is *trained* with it (the
layer exists only in runs of this strategy, so no other strategy changes).
At selection the backbone runs once in eval mode and the last layer sees
T = ``bald.passes`` (default 20) independent dropout masks, giving p^t(u).
The score is the mutual information between the prediction and the weights,

    I(u) = H[ (1/T) Σ_t p^t(u) ] − (1/T) Σ_t H[ p^t(u) ],

highest first. Multi-class/binary: H is the Shannon entropy over classes.
Multi-label: the sum over labels of the binary mutual information (each label
an independent Bernoulli). Ties go to the lower candidate position. The masks
are seeded from the round's generator.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy
from .scoring import top_k_stable


def _plogp(p: torch.Tensor) -> torch.Tensor:
    return torch.where(p > 0, p * p.clamp_min(1e-300).log(), torch.zeros_like(p))


def _entropy(p: torch.Tensor, task: str) -> torch.Tensor:
    """Entropy over the last axis (multi-label: sum of binary entropies)."""
    if task == "multi-label":
        return -(_plogp(p) + _plogp(1.0 - p)).sum(dim=-1)
    return -_plogp(p).sum(dim=-1)


def bald_scores(mc_probs, task: str) -> np.ndarray:
    """Mutual information (nats, float64) from T × n × C per-pass probabilities."""
    p = torch.as_tensor(mc_probs).detach().double().clamp(0.0, 1.0)
    if p.ndim != 3:
        raise ValueError(f"mc_probs must be T × n × C, got shape {tuple(p.shape)}")
    mi = _entropy(p.mean(dim=0), task) - _entropy(p, task).mean(dim=0)
    return mi.clamp_min(0.0).cpu().numpy()


class BaldStrategy(Strategy):
    name = "bald"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        passes = int(self.params["passes"])
        out = ctx.infer(ctx.candidates, mc_passes=passes, seed=int(rng.integers(2**31 - 1)))
        score = bald_scores(out["mc_probs"], ctx.task)
        return np.asarray(ctx.candidates, dtype=np.int64)[top_k_stable(score, budget)]
