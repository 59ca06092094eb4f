"""``random``: uniform sampling without replacement, the floor every curve is read against."""

from __future__ import annotations

import numpy as np

from .base import SelectionContext, Strategy


class RandomStrategy(Strategy):
    name = "random"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        return np.sort(rng.choice(ctx.candidates, size=budget, replace=False)).astype(np.int64)
