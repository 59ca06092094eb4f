"""Optional parts of the classifier recipe (``task_model`` keys, all off by default).

- :func:`augment_uint8`: random crop with zero padding and optional horizontal
  flips of a whole uint8 batch on its device, one seeded draw per batch, no
  per-sample Python.
- :func:`batch_bounds`: the batches of one training epoch; a tiny last batch is
  merged into the one before (always on: BatchNorm on a batch of 1 or 2 points
  whose last ResNet stages see 1×1 maps blows the running statistics up).
- :func:`planned_epochs`: label-budget-scaled training length (``min_steps``).
- :func:`make_scheduler`: ``lr_schedule: cosine`` over the planned optimizer steps.
- :func:`split_validation`: the labeled validation hold-out (``val_fraction``).

With every key at its default none of these draws a random number or changes
a value, so training stays bit for bit what it was without them.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F


def augment_uint8(images: torch.Tensor, gen: torch.Generator, padding: int = 4,
                  flip: bool = False) -> torch.Tensor:
    """Randomly crop (after ``padding`` zero pixels on each side) and flip a batch.

    ``images`` is uint8 N×C×H×W on any device; the offsets and flip coins come
    from the CPU generator ``gen`` (so a seed gives the same batch on every
    device) and the gather runs on the images' device.
    """
    n, c, h, w = images.shape
    dev = images.device
    out = images
    if padding > 0:
        padded = F.pad(images, (padding, padding, padding, padding))
        oy = torch.randint(0, 2 * padding + 1, (n,), generator=gen).to(dev)
        ox = torch.randint(0, 2 * padding + 1, (n,), generator=gen).to(dev)
        rows = (oy[:, None] + torch.arange(h, device=dev)[None, :])[:, None, :, None]
        cols = (ox[:, None] + torch.arange(w, device=dev)[None, :])[:, None, None, :]
        batch = torch.arange(n, device=dev)[:, None, None, None]
        chan = torch.arange(c, device=dev)[None, :, None, None]
        out = padded[batch, chan, rows, cols]
    if flip:
        coin = (torch.rand(n, generator=gen) < 0.5).to(dev)[:, None, None, None]
        out = torch.where(coin, out.flip(-1), out)
    return out


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each training batch of an epoch over ``n`` shuffled points.

    Consecutive slices of ``batch_size``; a last slice of fewer than half a batch
    (or of a single point) is merged into the slice before it: every batch holds
    at least half a batch and 2 points (unless ``n`` itself is smaller) and at
    most 1.5 batches, and every point is seen once per epoch. (A last batch of 1 or 2 points normalises each channel
    of the 1×1 maps of ResNet's last stages over 1 or 2 values: the running
    variance explodes and the model under-fits or diverges.)
    """
    if n <= 0:
        return []
    starts = list(range(0, n, batch_size))
    last = n - starts[-1]
    if len(starts) > 1 and (2 * last < batch_size or last < 2):
        starts.pop()
    return [(s, starts[i + 1] if i + 1 < len(starts) else n) for i, s in enumerate(starts)]


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Optimizer steps of one epoch over ``n`` points (:func:`batch_bounds`)."""
    return len(batch_bounds(n, batch_size))


def planned_epochs(epochs: int, n_train: int, batch_size: int, min_steps: int = 0) -> int:
    """``epochs``, raised so that training takes at least ``min_steps`` optimizer
    steps (:func:`steps_per_epoch` steps per epoch)."""
    if not min_steps or n_train <= 0:
        return epochs
    return max(epochs, math.ceil(min_steps / steps_per_epoch(n_train, batch_size)))


def make_scheduler(opt: torch.optim.Optimizer, schedule: str, total_steps: int):
    """A per-step LR scheduler, or ``None`` for ``schedule == "none"``.

    ``cosine`` decays the rate from its initial value to 0 over ``total_steps``
    optimizer steps (no warm-up, no restarts).
    """
    if schedule in (None, "none"):
        return None
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, total_steps))
    raise ValueError(f"task_model.lr_schedule must be none or cosine, got {schedule!r}")


def validation_size(n_labeled: int, val_fraction: float) -> int:
    """Number of labeled points held out: ``round(val_fraction · n_labeled)``,
    at least 1 and leaving at least 2 to train on (0 when the fraction is 0)."""
    if not val_fraction:
        return 0
    return int(min(max(1, round(val_fraction * n_labeled)), max(0, n_labeled - 2)))


def split_validation(labeled: np.ndarray, val_fraction: float,
                     seed: int) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """``(train, val)`` pool indices: a seeded random ``validation_size`` part of
    ``labeled`` is held out (never the test split). ``val`` is None when off."""
    labeled = np.asarray(labeled, dtype=np.int64)
    k = validation_size(len(labeled), val_fraction)
    if k == 0:
        return labeled, None
    rng = np.random.default_rng([seed, 23])
    val = np.sort(rng.choice(labeled, size=k, replace=False))
    return np.setdiff1d(labeled, val, assume_unique=True), val
