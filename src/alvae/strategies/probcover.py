"""``probcover``: ProbCover (Yehuda, Dekel, Hacohen & Weinshall, NeurIPS 2022).

The points X = labeled ∪ candidates are embedded (``probcover.space``: the VAE
latents by default, or task features), each row L2-normalised first
(``probcover.normalize: true``, the default) because the authors' code loads
its features normalised; ``false`` keeps the raw embedding. A δ-ball
B(x) = {x' : ‖x − x'‖ ≤ δ} (closed, as the paper; the authors' code keeps
pairs with distance < δ, which differs only for pairs exactly δ apart).
Greedy maximum coverage: points inside a labeled point's ball start covered;
each step picks the candidate whose ball holds the most uncovered points, and
its ball becomes covered. When no candidate covers anything new, the rest are
drawn uniformly at random from the remaining candidates. This random fill is
ours: the authors' code has none (there the argmax over all-zero degrees
returns position 0, the first labeled point, for every remaining pick);
random is the neutral choice once the coverage objective is flat.

δ (``probcover.delta: null``) follows the paper's purity rule: k-means with
k = number of classes gives pseudo-labels; a ball is pure when all its points
share the centre's pseudo-label; δ is the largest value such that at least
``purity`` (0.95) of the balls are pure. Ball B(x) is pure iff δ < d_o(x),
the distance from x to its nearest point of another pseudo-label, so the
purity at δ is the fraction of points with d_o > δ and the rule reduces to an
order statistic of d_o: we take the largest observed d_o value v (or 0) with
|{x : d_o(x) > v}| ≥ ⌈purity · |X|⌉. The paper scans a grid of δ; taking the
exact order statistic is our reading of "largest δ". A number fixes δ.

The ball graph is kept sparse: pairs within δ are found block-wise on the
device (rows × all), stored as CSR neighbour lists; no dense N × N matrix.
(The authors' graph loop runs over ``len // 500`` full blocks and so leaves the
last ``len mod 500`` rows without out-edges; ours covers every row.)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import SelectionContext
from .space import SpaceStrategy, pairwise_sq


def other_label_distance(x: torch.Tensor, labels: np.ndarray, block: int = 2048) -> np.ndarray:
    """d_o(x): Euclidean distance to the nearest row with a different label (inf if none)."""
    lab = torch.as_tensor(labels, device=x.device)
    out = np.empty(len(x), dtype=np.float64)
    for s in range(0, len(x), block):
        d = pairwise_sq(x[s:s + block], x)
        d[lab[s:s + block][:, None] == lab[None, :]] = float("inf")
        out[s:s + block] = d.min(dim=1).values.sqrt().double().cpu().numpy()
    return out


def purity_delta(d_other: np.ndarray, purity: float = 0.95) -> float:
    """Largest observed δ (or 0) at which ≥ ``purity`` of the balls are pure."""
    d = np.sort(d_other[np.isfinite(d_other)])
    if len(d) < len(d_other):  # a single pseudo-label: every ball is pure at any δ
        return float(d[-1]) if len(d) else float("inf")
    need = math.ceil(purity * len(d))
    # pure(v) = #(d > v) = n − #(d ≤ v); candidates v ∈ {0} ∪ d, pure(v) non-increasing in v
    vals = np.concatenate([[0.0], d])
    pure = len(d) - np.searchsorted(d, vals, side="right")
    ok = np.flatnonzero(pure >= need)
    return float(vals[ok[-1]]) if len(ok) else 0.0


def pseudo_labels(x: torch.Tensor, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(x)))
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(
        x.double().cpu().numpy()).astype(np.int64)


def ball_graph(x: torch.Tensor, delta: float, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """CSR (indptr, neighbours) of the pairs with ‖x_i − x_j‖ ≤ δ (self included)."""
    d2max = float(delta) ** 2
    rows, cols = [], []
    for s in range(0, len(x), block):
        d = pairwise_sq(x[s:s + block], x)
        r, c = torch.nonzero(d <= d2max, as_tuple=True)
        rows.append((r + s).cpu().numpy())
        cols.append(c.cpu().numpy())
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    # self-loops: rounding may leave ‖x − x‖² slightly > 0
    r = np.concatenate([r, np.arange(len(x))])
    c = np.concatenate([c, np.arange(len(x))])
    key = np.unique(r * len(x) + c)
    r, c = key // len(x), key % len(x)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=len(x)))])
    return indptr.astype(np.int64), c.astype(np.int64)


def _neighbours(indptr, nbrs, points) -> np.ndarray:
    """Concatenated neighbour lists of ``points`` (vectorised CSR gather)."""
    points = np.asarray(points, dtype=np.int64)
    starts, lens = indptr[points], indptr[points + 1] - indptr[points]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    shift = np.repeat(starts - (np.cumsum(lens) - lens), lens)
    return nbrs[shift + np.arange(total)]


def max_coverage(indptr: np.ndarray, nbrs: np.ndarray, is_labeled: np.ndarray, budget: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Greedy max coverage of the balls; positions (unlabeled rows) in pick order.

    ``deg[u]`` counts the uncovered points in u's ball and is lowered as points
    get covered (the graph is symmetric, so a covered point's neighbours are
    exactly the balls it leaves). Ties go to the lowest position.
    """
    n = len(is_labeled)
    covered = np.zeros(n, dtype=bool)
    deg = np.diff(indptr).astype(np.int64)

    def cover(points):
        new = np.unique(_neighbours(indptr, nbrs, points))
        new = new[~covered[new]]
        covered[new] = True
        if len(new):
            np.subtract.at(deg, _neighbours(indptr, nbrs, new), 1)

    cover(np.flatnonzero(is_labeled))
    free = ~is_labeled.copy()
    picks = []
    while len(picks) < budget:
        score = np.where(free, deg, -1)
        j = int(np.argmax(score))
        if score[j] <= 0:  # nothing left to cover: random among the remaining candidates
            rest = rng.permutation(np.flatnonzero(free))[:budget - len(picks)]
            picks.extend(int(r) for r in rest)
            break
        picks.append(j)
        free[j] = False
        cover([j])
    return np.asarray(picks, dtype=np.int64)


def coverage(indptr, nbrs, points) -> int:
    """Number of points inside the union of the balls of ``points``."""
    return len(np.unique(_neighbours(indptr, nbrs, np.asarray(points, dtype=np.int64))))


class ProbCoverStrategy(SpaceStrategy):
    name = "probcover"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        lab = np.asarray(ctx.labeled, dtype=np.int64)
        cand = np.asarray(ctx.candidates, dtype=np.int64)
        if not 0 <= budget <= len(cand):
            raise ValueError(f"budget {budget} outside 0..{len(cand)} (number of candidates)")
        idx = np.concatenate([lab, cand])
        x = self.embed(ctx, idx)
        delta = self.params["delta"]
        if delta is None:
            k = ctx.n_classes or 2
            pl = pseudo_labels(x, k, int(rng.integers(2**31 - 1)))
            delta = purity_delta(other_label_distance(x, pl), self.params["purity"])
        indptr, nbrs = ball_graph(x, delta)
        is_lab = np.zeros(len(idx), dtype=bool)
        is_lab[:len(lab)] = True
        return idx[max_coverage(indptr, nbrs, is_lab, budget, rng)]
