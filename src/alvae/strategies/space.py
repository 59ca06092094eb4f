"""The representation TypiClust and ProbCover work in (``<name>.space``): a kind's
latents of the pool (``latents`` = the plain VAE's, the default; or a kind's name),
task-agnostic, or the task model's features (``features``); each row L2-normalised
unless ``<name>.normalize`` is false. The authors' code (avihu111/TypiClust,
``load_features(..., normalized=True)``) loads its self-supervised features
normalised to unit length for both methods."""

from __future__ import annotations

import numpy as np
import torch

from .. import vocabulary
from .base import Strategy


def check_space(params: dict, name: str) -> str:
    space = params["space"]
    if space not in vocabulary.space_names():
        raise ValueError(f"{name}.space must be one of {', '.join(vocabulary.space_names())}, "
                         f"got {space!r}")
    return space


def check_normalize(params: dict, name: str) -> bool:
    value = params["normalize"]
    if not isinstance(value, bool):
        raise ValueError(f"{name}.normalize must be true or false, got {value!r}")
    return value


def l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """Each row divided by its Euclidean norm (an all-zero row stays zero)."""
    norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    return x / torch.where(norm > 0, norm, torch.ones_like(norm))


def embed(ctx, indices: np.ndarray, space: str, normalize: bool = False) -> torch.Tensor:
    """float32 rows (on ``ctx.device``) of the pool points ``indices`` in ``space``,
    L2-normalised when ``normalize``."""
    indices = np.asarray(indices, dtype=np.int64)
    if space != "features":  # the latents of the kind the space names (fed in by the workflow)
        if ctx.latents is None:
            raise ValueError("this strategy works on VAE latents but ctx.latents is None")
        x = torch.as_tensor(np.asarray(ctx.latents)[indices], dtype=torch.float32,
                            device=ctx.device)
    else:
        x = ctx.infer(indices)["features"].to(device=ctx.device, dtype=torch.float32)
    return l2_normalize(x) if normalize else x


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
    def normalize(self) -> bool:
        return check_normalize(self.params, self.name)

    def embed(self, ctx, indices: np.ndarray) -> torch.Tensor:
        """The rows this strategy works on: ``<name>.space``, normalised per ``<name>.normalize``."""
        return embed(ctx, indices, self.space, self.normalize)

    @property
    def needs_latents(self) -> bool:
        return self.space != "features"
