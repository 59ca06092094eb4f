"""``badge``: Batch Active learning by Diverse Gradient Embeddings (Ash, Zhang,
Krishnamurthy, Langford & Agarwal, ICLR 2020).

Each candidate's embedding is the gradient of the loss, under the model's own
predicted label ŷ, with respect to the last layer's weights:

    g(u) = a(u) ⊗ h(u),   a = p − onehot(ŷ)  (softmax, cross-entropy),
                          a = σ − ŷ, ŷ_l = [σ_l > 0.5]  (multi-label, BCE),

with h the 512-d penultimate features. The batch is the k-means++ seeding of
these embeddings: the first center is the candidate of largest ‖g‖ (as in the
authors' reference code, ``init_centers`` in JordanAsh/badge), every next one is
drawn with probability ∝ D(u)², D the distance to the nearest chosen center,
from the round's seeded generator.

g is never materialised (n × C·d). Since ⟨a⊗h, b⊗k⟩ = (a·b)(h·k),

    ‖g_i − g_j‖² = ‖a_i‖²‖h_i‖² + ‖a_j‖²‖h_j‖² − 2 (a_i·a_j)(h_i·h_j),

so the distances to a new center cost two matrix-vector products, computed in
batches on the device (float64, clamped at 0).
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy


def gradient_factors(probs: torch.Tensor, task: str) -> torch.Tensor:
    """``a`` of the gradient embedding g = a ⊗ h (n × C)."""
    p = probs.double()
    if task == "multi-label":
        return p - (p > 0.5).double()
    onehot = torch.zeros_like(p).scatter_(1, p.argmax(dim=1, keepdim=True), 1.0)
    return p - onehot


def sq_dists_to(a: torch.Tensor, h: torch.Tensor, sq_norms: torch.Tensor, j: int,
                batch_size: int = 65536) -> torch.Tensor:
    """‖g_i − g_j‖² for every row i, from the factors (never forms g)."""
    out = torch.empty(len(a), dtype=a.dtype, device=a.device)
    for s in range(0, len(a), batch_size):
        e = slice(s, s + batch_size)
        cross = (a[e] @ a[j]) * (h[e] @ h[j])
        out[e] = (sq_norms[e] + sq_norms[j] - 2.0 * cross).clamp_min(0.0)
    return out


def badge_select(a: torch.Tensor, h: torch.Tensor, budget: int,
                 rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding on g = a ⊗ h; positions into the rows, in pick order."""
    n = len(a)
    if not 0 <= budget <= n:
        raise ValueError(f"budget {budget} outside 0..{n} (number of candidates)")
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    a, h = a.double(), h.double()
    sq_norms = (a * a).sum(dim=1) * (h * h).sum(dim=1)  # ‖g‖² = ‖a‖²‖h‖²
    picks = [int(torch.argmax(sq_norms))]
    chosen = np.zeros(n, dtype=bool)
    chosen[picks[0]] = True
    mind = sq_dists_to(a, h, sq_norms, picks[0])
    while len(picks) < budget:
        d2 = mind.cpu().numpy().copy()
        d2[chosen] = 0.0
        total = d2.sum()
        if total > 0 and np.isfinite(total):
            j = int(rng.choice(n, p=d2 / total))
        else:  # every remaining point coincides with a center: uniform among the rest
            j = int(rng.choice(np.flatnonzero(~chosen)))
        picks.append(j)
        chosen[j] = True
        torch.minimum(mind, sq_dists_to(a, h, sq_norms, j), out=mind)
    return np.asarray(picks, dtype=np.int64)


class BadgeStrategy(Strategy):
    name = "badge"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        out = ctx.infer(ctx.candidates)
        a = gradient_factors(out["probs"].to(ctx.device), ctx.task)
        h = out["features"].to(device=ctx.device)
        pos = badge_select(a, h, budget, rng)
        return np.asarray(ctx.candidates, dtype=np.int64)[pos]
