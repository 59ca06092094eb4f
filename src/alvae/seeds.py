"""The seeded draws every stage shares, so that they agree: a seed's initial labeled set
(the same for every strategy, the tuning study and a label-using representation of that seed) and the seed of a
round's model initialisation and batch order."""

from __future__ import annotations

import numpy as np


def initial_labeled(n_pool: int, n_initial: int, seed: int) -> np.ndarray:
    """The seed's initial labeled set: shared by every strategy (paired design)."""
    rng = np.random.default_rng([seed, 0])
    return np.sort(rng.choice(n_pool, size=n_initial, replace=False)).astype(np.int64)


def round_seed(seed: int, rnd: int) -> int:
    """Seed of round ``rnd``'s model init and batch order (same for all strategies)."""
    return int(np.random.default_rng([seed, rnd, 17]).integers(2**31 - 1))
