"""``medal`` / ``medal_vae``: MedAL (Smailagic et al., ICMLA 2018).

Each pick maximises the mean squared feature distance to the labeled set
(thesis, section 2.1.1)

    u* = argmax_{u ∈ U} (1/|L|) Σ_i ‖f(u) − f(L_i)‖²,

and u* joins L before the next pick. Every candidate is ranked, as in the
thesis. Deviation from the authors' code (the MedAL code released with O-MedAL,
github.com/adgaudio/O-MedAL, ``medal/model_configs/medal.py``): it first keeps
only the M unlabeled points of highest predictive entropy (M = 20 for its
Inception-V3 and SqueezeNet models, 50 for ResNet-18) and runs the distance
criterion on those; the thesis and alvae do not. Their criterion, the Euclidean
distance to the running centroid of the labeled set, ranks like ours (centroid
identity in :func:`medal_greedy`).
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy
from .features import distance_features, distance_inputs


def medal_greedy(candidate_feats: torch.Tensor, labeled_feats: torch.Tensor,
                 budget: int) -> np.ndarray:
    """Greedy MedAL selection; returns positions into ``candidate_feats`` in pick order.

    Centroid identity: (1/|L|) Σ_i ‖u − l_i‖² = ‖u − μ_L‖² + (1/|L|) Σ_i ‖l_i − μ_L‖²,
    and the second term is the same for every u. Multiplying by |L| > 0, the
    ranking is that of ``|L|·‖u‖² − 2 u·S_L`` with ``S_L = Σ_i l_i = |L|·μ_L``;
    S_L and |L| are updated after each pick, so a pick costs one matrix-vector
    product, O(N·d). (The running sum rather than the mean keeps
    integer-valued inputs exact, hence exact ties.)

    Ties go to the lowest position; picked positions are masked out. With an
    empty labeled set the first pick is position 0.
    """
    c, lab, shift = distance_inputs(candidate_feats, labeled_feats, budget)
    n = c.shape[0]
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    cn = torch.einsum("ij,ij->i", c, c)
    n_lab = lab.shape[0]
    s = (lab - shift).sum(dim=0) if n_lab else torch.zeros_like(c[0])
    taken = torch.zeros(n, dtype=torch.bool, device=c.device)
    picks = np.empty(budget, dtype=np.int64)
    for k in range(budget):
        if n_lab:
            score = (c @ s).mul_(-2).add_(cn, alpha=n_lab)
        else:
            score = torch.full((n,), float("inf"), dtype=c.dtype, device=c.device)
        score.masked_fill_(taken, float("-inf"))
        j = int(torch.argmax(score))
        picks[k] = j
        taken[j] = True
        s += c[j]
        n_lab += 1
    return picks


class MedalStrategy(Strategy):
    """MedAL on task features (``use_vae``: with ``α·V(u)`` appended)."""

    name = "medal"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        cand, lab = distance_features(ctx, self.uses_representation)
        pos = medal_greedy(cand, lab, budget)
        return np.asarray(ctx.candidates, dtype=np.int64)[pos]
