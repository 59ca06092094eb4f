"""The interface every selection heuristic implements.

A strategy sees one :class:`SelectionContext` per round and returns the pool
indices to label.  It never trains anything itself: the training engine does
that (including the loss-prediction module of ``lloss``), and the context
exposes the batched inference passes a strategy may need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch


@dataclass
class SelectionContext:
    """Everything a strategy may look at in one round.

    Attributes
    ----------
    labeled, candidates:
        Pool indices (int64 arrays). ``candidates`` is the unlabeled set the
        strategy picks from (possibly a random sub-pool of it).
    infer:
        ``infer(indices) -> dict`` runs one batched pass of the current task
        model over those pool points and returns tensors on ``device``:
        ``"features"`` (n x 512 penultimate features, float32),
        ``"probs"`` (n x C softmax probabilities for multi-class and binary
        tasks, n x L sigmoid probabilities for multi-label ones) and, when the
        model carries a loss-prediction module, ``"pred_loss"`` (n,).
        ``infer(indices, mc_passes=T, seed=s)`` (strategies with ``mc_dropout``)
        also returns ``"mc_probs"`` (T x n x C): the probabilities of T passes
        with independent, seeded dropout masks before the last layer.
    latents:
        VAE means for every pool point (N x z float32), or ``None``.
    alpha:
        Scale of the VAE latents when concatenated (already resolved to a
        float by the loop).
    task:
        ``"multi-class"``, ``"binary"`` or ``"multi-label"``.
    pool_images:
        The pool's images (uint8 N x C x H x W tensor on ``device``), for
        strategies that train their own model on them (VAAL), or ``None``.
    seed, round:
        The run's seed and the round being picked for (seeds a strategy's own
        training).
    diagnostics:
        Filled by the strategy with what it measured (e.g. ``latent_share``);
        the loop writes it to the round's metrics row.
    log:
        Progress logger for strategies that train (or ``None``).
    """

    labeled: np.ndarray
    candidates: np.ndarray
    infer: Callable[[np.ndarray], dict]
    task: str
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    latents: Optional[np.ndarray] = None
    alpha: float = 1.0
    pool_images: Optional[torch.Tensor] = None
    seed: int = 0
    round: int = 0
    diagnostics: dict = field(default_factory=dict)
    log: Optional[Callable[[str], None]] = None
    #: number of classes (labels, for multi-label tasks) of the task
    n_classes: Optional[int] = None


class Strategy:
    """Base class: subclasses set ``name`` and implement :meth:`select`."""

    # The traits below are set by alvae.strategies.get_strategy from alvae.vocabulary
    # (declared there once, per name), not by the subclasses.
    name: str = "base"
    #: the representation kind whose latents the strategy appends (``<base>_<kind>``)
    kind: Optional[str] = None
    #: the strategy concatenates VAE latents (needs ``ctx.latents``)
    uses_representation: bool = False
    #: the task model must carry a loss-prediction module during training
    trains_loss_module: bool = False
    #: the strategy reads ``ctx.latents`` (VAE means) as its space, without concatenating
    needs_latents: bool = False
    #: the task model carries a dropout layer before its last layer (MC dropout, BALD)
    mc_dropout: bool = False
    #: the strategy's own settings (its config section over the schema's defaults), set by
    #: alvae.strategies.get_strategy
    params: dict = {}

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        """Return ``budget`` distinct pool indices taken from ``ctx.candidates``."""
        raise NotImplementedError

    def get_state(self):
        """What the strategy carries from round to round (checkpointed by the loop)."""
        return None

    def set_state(self, state) -> None:
        """Restore :meth:`get_state`'s value on resume."""
