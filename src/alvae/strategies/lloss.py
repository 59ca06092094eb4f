"""``lloss`` / ``lloss_vae``: learning loss (Yoo & Kweon, CVPR 2019).

A loss-prediction module P (:mod:`alvae.training.lossnet`) is trained jointly with the
task model on pairs of labeled points (pair margin loss); the pick is

    u* = argmax_{u ∈ U} P(u),

taken ``budget`` times without replacement (the top ``budget`` predicted
losses; ties to the lower candidate position). For ``lloss_vae`` the module's
input concatenation c is extended by α·V(u) (thesis, chapter 3); the loop and
engine build and feed that module, this strategy only ranks its predictions.
"""

from __future__ import annotations

import numpy as np
import torch

from .base import SelectionContext, Strategy
from .scoring import top_k_stable


class LearningLossStrategy(Strategy):
    name = "lloss"

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        out = ctx.infer(ctx.candidates)
        if "pred_loss" not in out:
            raise ValueError("lloss needs the loss-prediction module (no 'pred_loss' from infer)")
        pred = torch.as_tensor(out["pred_loss"]).detach().double().cpu().numpy().reshape(-1)
        return np.asarray(ctx.candidates, dtype=np.int64)[top_k_stable(pred, budget)]
