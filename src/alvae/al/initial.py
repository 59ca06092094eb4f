"""``al.initial_selection``: how a seed's initial labeled set is chosen (the cold start).

* ``random`` (the default, the thesis's): ``al.initial_labels`` pool points drawn
  uniformly (:func:`alvae.seeds.initial_labeled`).
* ``typiclust``: TypiClust's rule with no label yet (Hacohen et al. 2022, the
  "TPC" cold start): k-means with K = min(``al.initial_labels``,
  ``typiclust.max_clusters``) clusters of the pool in the representation
  ``al.initial_space``, then the most typical point of each cluster, largest
  clusters first (:func:`alvae.strategies.typiclust.typiclust_select` with an empty
  labeled set; ``typiclust.normalize``, ``min_cluster_size`` and ``knn`` apply).
* ``centroids``: k-means with K = ``al.initial_labels`` clusters (k-means++, 10
  restarts, scikit-learn), and from each cluster the pool point nearest its centroid
  (Euclidean, in the same space; rows L2-normalised when ``typiclust.normalize``):
  one representative per cluster, as in the "pick the centres" cold starts
  (e.g. Chen et al., MIDL 2023, and Gupte et al., TMLR 2024, use cluster
  representatives of self-supervised features).

No label is read. The representation is trained on the pool without labels (a kind
that learns from labels cannot serve: it would need the initial labels first). The
set is computed once per dataset and AL seed (rule ``initial_labels``) and read by
every strategy of that seed, so the paired design holds: every strategy of a seed
starts from the same labels.
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from ..seeds import initial_labeled

METHODS = ("random", "typiclust", "centroids")


def _seed(seed: int) -> int:
    """The k-means seed of AL seed ``seed``'s initial selection."""
    return int(np.random.default_rng([int(seed), 0, 29]).integers(2**31 - 1))


def select_initial(method: str, n_pool: int, n_initial: int, seed: int,
                   latents: Optional[np.ndarray] = None,
                   typiclust: Optional[Mapping] = None, log=None) -> np.ndarray:
    """The sorted int64 pool indices of AL seed ``seed``'s initial labeled set."""
    if method not in METHODS:
        raise ValueError(f"al.initial_selection must be one of {', '.join(METHODS)}, got {method!r}")
    if not 0 < n_initial < n_pool:
        raise ValueError(f"al.initial_labels ({n_initial}) must be in 1..{n_pool - 1}")
    if method == "random":
        return initial_labeled(n_pool, n_initial, seed)
    if latents is None or len(latents) != n_pool:
        raise ValueError(f"al.initial_selection: {method} needs the latents of al.initial_space "
                         f"for every pool point ({n_pool})")
    from ..schema import with_defaults

    opts = with_defaults("typiclust", dict(typiclust or {}))
    import torch

    from ..strategies.space import l2_normalize

    x = torch.as_tensor(np.asarray(latents), dtype=torch.float32)
    if opts["normalize"]:
        x = l2_normalize(x)
    if method == "typiclust":
        from ..strategies.typiclust import typiclust_select

        picks = typiclust_select(x, np.zeros(n_pool, dtype=bool), n_initial, _seed(seed),
                                 int(opts["max_clusters"]), int(opts["min_cluster_size"]),
                                 int(opts["knn"]), log)
    else:
        picks = nearest_to_centroids(x.double().numpy(), n_initial, _seed(seed))
    picks = np.sort(np.asarray(picks, dtype=np.int64))
    if len(np.unique(picks)) != n_initial:
        raise RuntimeError(f"al.initial_selection: {method} gave {len(np.unique(picks))} distinct "
                           f"points for {n_initial}")
    return picks


def nearest_to_centroids(x: np.ndarray, k: int, seed: int) -> np.ndarray:
    """One point per k-means cluster: the member nearest its centroid (a cluster whose
    members are all taken gives the nearest point not yet taken)."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
    taken = np.zeros(len(x), dtype=bool)
    picks = []
    centres = km.cluster_centers_
    d = (x * x).sum(1)[:, None] + (centres * centres).sum(1)[None, :] - 2.0 * x @ centres.T
    for c in range(k):
        dist = d[:, c]
        members = np.flatnonzero((km.labels_ == c) & ~taken)
        pool = members if len(members) else np.flatnonzero(~taken)
        j = int(pool[np.argmin(dist[pool])])
        picks.append(j)
        taken[j] = True
    return np.asarray(picks, dtype=np.int64)
