"""``typiclust``: TypiClust (Hacohen, Dekel & Weinshall, ICML 2022).

1. Cluster the embeddings of labeled ∪ candidate points into
   K = min(|L| + B, ``max_clusters``) clusters with k-means (scikit-learn
   ``KMeans``, ``MiniBatchKMeans`` above 50 clusters, as the authors' code; seeded
   from the round's generator). ``max_clusters`` = 500 as in the authors' code.
2. Drop clusters of ``min_cluster_size`` (5) points or fewer. Order the rest by
   (number of labeled points ascending, size descending): uncovered large
   clusters first. Walk this order cyclically, one pick per step.
3. In the cluster, the pick is the unlabeled point of highest typicality

       Typicality(x) = ( (1/k) Σ_{x_i ∈ kNN(x)} ‖x − x_i‖ )^{-1},

   k = min(``knn`` (20), ⌊m/2⌋) nearest neighbours among the cluster's m
   still-unlabeled points (self excluded; Euclidean distance, as in the paper).
   A picked point leaves the cluster for the next visits.

The space is ``typiclust.space``: ``latents`` (the VAE means, default) or
``features`` (the task model's penultimate features), each row L2-normalised
first (``typiclust.normalize: true``, the default) because the authors' code
loads its features normalised (``load_features(..., normalized=True)``);
``false`` keeps the raw embedding. Distances within a cluster are computed
block-wise on the device; no N × N matrix is kept.

Deviations from the authors' code (avihu111/TypiClust, ``pycls/al/typiclust.py``):
typicality uses the mean Euclidean distance, as the paper's formula; their code
averages the squared distances faiss's ``IndexFlatL2`` returns. Their k-means
is unseeded and runs on the whole training set; ours is seeded and runs on
labeled ∪ candidates. A cluster whose unlabeled points are used up is skipped
(their loop would fail on it).
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext
from .space import SpaceStrategy, pairwise_sq


def typicality(x: torch.Tensor, k: int, block: int = 2048) -> torch.Tensor:
    """1 / mean Euclidean distance to the k nearest other rows (float64, on x's device)."""
    m = len(x)
    k = min(k, m - 1)
    if m < 2 or k < 1:
        return torch.ones(m, dtype=torch.float64, device=x.device)
    x = x.double()
    out = torch.empty(m, dtype=torch.float64, device=x.device)
    for s in range(0, m, block):
        d = pairwise_sq(x[s:s + block], x)
        d[torch.arange(len(d)), torch.arange(s, s + len(d))] = float("inf")  # not itself
        out[s:s + block] = 1.0 / (d.topk(k, dim=1, largest=False).values.sqrt().mean(1) + 1e-5)
    return out


def cluster(x: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans, MiniBatchKMeans

    if n_clusters <= 50:
        km = KMeans(n_clusters=n_clusters, n_init=10, random_state=seed)
    else:
        km = MiniBatchKMeans(n_clusters=n_clusters, batch_size=5000, n_init=3, random_state=seed)
    return km.fit_predict(x).astype(np.int64)


def typiclust_select(x: torch.Tensor, is_labeled: np.ndarray, budget: int, seed: int,
                     max_clusters: int = 500, min_cluster_size: int = 5,
                     knn: int = 20, log=None) -> np.ndarray:
    """Positions (into the rows of ``x``, all unlabeled) of ``budget`` TypiClust picks.
    When no cluster has more than ``min_cluster_size`` points, every cluster is used, and
    ``log`` (if given) says so."""
    n = len(x)
    n_free = int((~is_labeled).sum())
    if not 0 <= budget <= n_free:
        raise ValueError(f"budget {budget} outside 0..{n_free} (number of candidates)")
    if budget == 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, min(int(is_labeled.sum()) + budget, max_clusters, n))
    labels = cluster(x.double().cpu().numpy(), k, seed)
    sizes = np.bincount(labels, minlength=k)
    covered = np.bincount(labels[is_labeled], minlength=k)
    ids = np.flatnonzero(sizes > min_cluster_size)
    if len(ids) == 0:
        ids = np.flatnonzero(sizes > 0)
        if log is not None:
            log(f"typiclust: none of the {k} clusters has more than min_cluster_size "
                f"({min_cluster_size}) points (largest {int(sizes.max())}): using every cluster")
    order = ids[np.lexsort((-sizes[ids], covered[ids]))]  # covered asc, then size desc
    free = ~is_labeled.copy()
    picks = []
    step = 0
    while len(picks) < budget:
        c = order[step % len(order)]
        step += 1
        members = np.flatnonzero((labels == c) & free)
        if len(members) == 0:
            if not any(((labels == o) & free).any() for o in order):
                order = np.flatnonzero(np.bincount(labels[free], minlength=k) > 0)
            continue
        t = typicality(x[torch.as_tensor(members, device=x.device)],
                       min(knn, len(members) // 2))
        j = int(members[int(torch.argmax(t))])
        picks.append(j)
        free[j] = False
    return np.asarray(picks, dtype=np.int64)


class TypiClustStrategy(SpaceStrategy):
    name = "typiclust"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        lab = np.asarray(ctx.labeled, dtype=np.int64)
        cand = np.asarray(ctx.candidates, dtype=np.int64)
        idx = np.concatenate([lab, cand])
        x = self.embed(ctx, idx)
        is_lab = np.zeros(len(idx), dtype=bool)
        is_lab[:len(lab)] = True
        pos = typiclust_select(x, is_lab, budget, int(rng.integers(2**31 - 1)),
                               int(self.params["max_clusters"]),
                               int(self.params["min_cluster_size"]),
                               int(self.params["knn"]), ctx.log)
        return idx[pos]


def config_problems(options: dict | None, config: dict) -> list[str]:
    """``typiclust`` against the config, before any job (alvae.strategies.checks): when it
    runs, a cluster floor below the points of each dataset's pool."""
    min_cluster = (options or {}).get("min_cluster_size")
    if "typiclust" not in config["strategies"] or min_cluster is None:
        return []
    return [f"typiclust.min_cluster_size ({min_cluster}) must be smaller than "
            f"datasets.{name}.subset_size ({ds['subset_size']}): clusters of min_cluster_size "
            f"points or fewer are dropped, so every cluster would be"
            for name, ds in config["datasets"].items() if min_cluster >= ds["subset_size"]]
