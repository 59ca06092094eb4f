"""Seeded plumbing shared by the kinds that train their own loop (the label-aware and
mixture-prior VAEs).

Same conventions as :func:`alvae.representations.vae.train_vae`: the pool goes to the device
once as uint8, batch order from ``torch.randperm`` with a CPU generator seeded
by ``seed``, reparametrisation noise from a generator seeded by ``seed + 1``,
initial weights seeded by ``seed`` without touching the global RNG.
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ..logs import Progress, steps_per_epoch
from .vae import to01


def build_seeded(factory, seed: int, device):
    """``factory()`` under ``torch.manual_seed(seed)``; the global RNG is restored."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory().to(device)


def load_or_build(cls, config: dict, init_state, seed: int, device):
    if init_state is None:
        return build_seeded(lambda: cls(**config), seed, device), True
    model = cls(**config)
    model.load_state_dict(init_state["state_dict"])
    return model.to(device), False


def state_of(kind: str, model) -> dict:
    return {"kind": kind, "config": dict(model.config),
            "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}


def bce_per_sample(logits: torch.Tensor, x01: torch.Tensor) -> torch.Tensor:
    """Bernoulli reconstruction loss summed over pixels, one value per image."""
    return F.binary_cross_entropy_with_logits(logits, x01, reduction="none").flatten(1).sum(1)


def kl_normal_per_sample(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1)


class Epochs:
    """Seeded batches over the pool, epoch by epoch, with timing and a log line."""

    def __init__(self, n: int, batch_size: int, seed: int, device, name: str, log):
        self.n, self.batch_size, self.device, self.name, self.log = n, batch_size, device, name, log
        self.order_gen = torch.Generator(device="cpu").manual_seed(seed)
        self.noise_gen = torch.Generator(device=device).manual_seed(seed + 1)

    def progress(self, epochs: int) -> Progress:
        """A progress meter over ``epochs`` passes of this loop's batches."""
        return Progress(self.name, int(epochs) * steps_per_epoch(self.n, self.batch_size), self.log,
                        unit="batch")

    def batches(self):
        perm = torch.randperm(self.n, generator=self.order_gen).to(self.device)
        for start in range(0, self.n, self.batch_size):
            yield perm[start:start + self.batch_size]

    def noise(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self.noise_gen, device=like.device, dtype=like.dtype)

    def report(self, epoch: int, epochs: int, sums: dict, t0: float, extra: dict | None = None):
        row = {"epoch": epoch, **{k: float(v) / self.n for k, v in sums.items()}, **(extra or {}),
               "seconds": time.perf_counter() - t0}
        parts = " ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in row.items() if k not in ("epoch", "seconds"))
        self.log(f"{self.name} epoch {epoch}/{epochs} {parts} ({row['seconds']:.1f}s)")
        return row


@torch.no_grad()
def batched(model, images_uint8: np.ndarray, fn, device, batch_size: int = 1024) -> np.ndarray:
    """``fn(x01)`` over the images in batches, in eval mode, as float32 numpy."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images_uint8), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(images_uint8[start:start + batch_size]))
        out.append(fn(to01(x.to(device))).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out).astype(np.float32)
