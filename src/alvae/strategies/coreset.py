"""``coreset`` / ``coreset_vae``: k-center greedy (Sener & Savarese, ICLR 2018).

Each pick is (thesis, section 2.1.1 and chapter 3)

    u* = argmax_{u ∈ U} min_{ℓ ∈ L} ‖f(u) − f(ℓ)‖²,   f(u) = T_f(u)  or  T_f(u) ⌢ α·V(u),

and u* joins L before the next pick, so a batch does not pack into one region.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy
from .features import distance_features, distance_inputs


def k_center_greedy(candidate_feats: torch.Tensor, labeled_feats: torch.Tensor, budget: int,
                    batch_size: int = 512) -> np.ndarray:
    """Greedy k-center selection; returns positions into ``candidate_feats`` in pick order.

    Keeps one running vector ``m[u] = min_{ℓ∈L} ‖u − ℓ‖²`` (memory O(N·d), never
    an N×N matrix): it starts as the minimum over the labeled points, taken
    ``batch_size`` labeled rows at a time, and after each pick u* is lowered by
    the single distance row to u*. Squared distances are ‖a‖² + ‖b‖² − 2a·b
    clamped at 0, on the tensors' device, in their dtype (float32, or float64
    when given float64).

    Ties go to the lowest position (``torch.argmax`` returns the first maximum).
    Picked positions are masked out, so the picks are distinct even when every
    remaining candidate is a duplicate of a labeled point. With an empty labeled
    set every distance is +inf and the first pick is position 0.
    """
    c, lab, shift = distance_inputs(candidate_feats, labeled_feats, budget)
    n = c.shape[0]
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    cn = torch.einsum("ij,ij->i", c, c)
    mind = torch.full((n,), float("inf"), dtype=c.dtype, device=c.device)
    for start in range(0, lab.shape[0], batch_size):
        lb = lab[start:start + batch_size] - shift
        d = c @ lb.T
        d.mul_(-2).add_(cn[:, None]).add_(torch.einsum("ij,ij->i", lb, lb)[None, :]).clamp_min_(0)
        torch.minimum(mind, d.min(dim=1).values, out=mind)
        del d
    picks = np.empty(budget, dtype=np.int64)
    for k in range(budget):
        j = int(torch.argmax(mind))
        picks[k] = j
        d = c @ c[j]
        d.mul_(-2).add_(cn).add_(cn[j]).clamp_min_(0)
        torch.minimum(mind, d, out=mind)
        mind[j] = float("-inf")
    return picks


class CoresetStrategy(Strategy):
    """k-center greedy on task features (``use_vae``: with ``α·V(u)`` appended)."""

    name = "coreset"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        cand, lab = distance_features(ctx, self.uses_representation)
        pos = k_center_greedy(cand, lab, budget)
        return np.asarray(ctx.candidates, dtype=np.int64)[pos]
