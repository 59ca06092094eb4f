"""The representation TypiClust and ProbCover work in (``<name>.space``):
the VAE latents of the pool (``latents``, default, task-agnostic), the latents of
another representation kind named by its registry name (``<name>.space: <kind>``,
:data:`alvae.representations.REPRESENTATION_KINDS`; the workflow feeds that kind's
latents in), or the task model's features (``features``)."""

from __future__ import annotations

import numpy as np
import torch

from .base import Strategy

SPACES = ("latents", "features")


def check_space(params: dict, name: str) -> str:
    space = params.get("space", "latents")
    if space in SPACES:
        return space
    from ..representations import REPRESENTATION_KINDS

    if space not in REPRESENTATION_KINDS:
        raise ValueError(f"{name}.space must be one of {', '.join(SPACES)} or a representation "
                         f"kind ({', '.join(REPRESENTATION_KINDS)}), got {space!r}")
    return space


def embed(ctx, indices: np.ndarray, space: str) -> torch.Tensor:
    """float32 rows (on ``ctx.device``) of the pool points ``indices`` in ``space``."""
    indices = np.asarray(indices, dtype=np.int64)
    if space != "features":  # latents: the VAE's, or those of the kind the space names
        if ctx.latents is None:
            raise ValueError("this strategy works on VAE latents but ctx.latents is None")
        return torch.as_tensor(np.asarray(ctx.latents)[indices], dtype=torch.float32,
                               device=ctx.device)
    return ctx.infer(indices)["features"].to(device=ctx.device, dtype=torch.float32)


def pairwise_sq(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances between the rows of x and y (clamped at 0)."""
    d = x @ y.T
    d.mul_(-2).add_((x * x).sum(1)[:, None]).add_((y * y).sum(1)[None, :])
    return d.clamp_min_(0)


class SpaceStrategy(Strategy):
    """A strategy that works in ``<name>.space``: it needs the latents only there."""

    @property
    def space(self) -> str:
        return check_space(self.params, self.name)

    @property
    def needs_latents(self) -> bool:
        return self.space != "features"
