"""A frozen-feature task model: a linear or MLP head on a representation's features.

``task_model.arch: linear`` (or ``mlp``) with ``task_model.features: <kind>``: the
representation ``<kind>`` is trained once on the pool without labels (the
representation stage, rule ``train_representation``), its features of the pool
(``latents.npy``) and of the evaluation splits (``eval_latents.npz``, rule
``encode_eval``) are stored, and every AL round trains only a head on them, from
scratch, with the round's seed, in the same training engine as the ResNet-18
(:func:`alvae.training.engine.train_model`: batches, ``task_model.optimizer``,
``lr``, ``weight_decay``, ``epochs_initial`` / ``epochs_per_round`` / ``min_steps``,
``train_until``, ``val_fraction``). On a CPU a round takes about a second where the
ResNet-18 takes minutes (``bench/bench_head.py``).

The features are standardised once per run with the mean and standard deviation of
each dimension over the whole pool (unlabeled data: no label is read), the same shift
and scale for the test and val features (:func:`standardize`).

What the strategies read from this model (:func:`alvae.training.engine.infer`):

* ``probs``: its softmax (sigmoid for multi-label tasks);
* ``features``, the "penultimate" layer: for ``linear`` the standardised input
  features themselves (the last layer's input); for ``mlp`` the hidden layer's
  ReLU output. Core-set, MedAL and TypiClust/ProbCover with ``space: features``
  work on these; the ``<base>_<kind>`` variants append a kind's latents to them;
* BADGE's gradient embedding ``(p − onehot(ŷ)) ⊗ features`` is then, for ``linear``,
  exactly the gradient of the loss at ŷ with respect to the head's weights;
* MC dropout (BALD): a dropout layer before the last layer, as for the ResNet.

A head has no residual blocks: strategies that train a module on them (learning
loss, ``trains_loss_module`` in :mod:`alvae.vocabulary`) are refused (:func:`head_problems`).
VAAL trains its own networks on the pool images, which the loop still hands it.
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
import torch
from torch import nn

from .head_rules import HEAD_ARCHS, head_problems, is_head  # noqa: F401 (re-exported)

STD_FLOOR = 1e-6  # a constant feature is centred, not divided by ~0


class HeadModel(nn.Module):
    """``linear``: one linear layer on the features; ``mlp``: Linear → ReLU → Linear with
    ``hidden`` units. ``forward`` returns ``(logits, features, blocks)`` like the ResNet's
    :class:`alvae.training.model.TaskModel` (``blocks`` empty)."""

    def __init__(self, n_outputs: int, in_features: int, arch: str = "linear", hidden: int = 256,
                 dropout: float = 0.0):
        super().__init__()
        if arch not in HEAD_ARCHS:
            raise ValueError(f"task_model.arch must be one of {', '.join(HEAD_ARCHS)} for a head, "
                             f"got {arch!r}")
        self.arch = arch
        if arch == "mlp":
            self.body = nn.Sequential(nn.Linear(in_features, int(hidden)), nn.ReLU())
            width = int(hidden)
        else:
            self.body = nn.Identity()
            width = int(in_features)
        self.fc = nn.Linear(width, n_outputs)
        self.dropout = float(dropout)
        self.drop = nn.Dropout(self.dropout) if self.dropout > 0 else nn.Identity()

    @property
    def classifier(self) -> nn.Linear:
        """The last layer (MC dropout masks its input)."""
        return self.fc

    def prepare(self, features: torch.Tensor) -> torch.Tensor:
        """Pool rows (already standardised float32 features on the device) -> input."""
        return features.float()

    def forward(self, x: torch.Tensor):
        feats = self.body(x)
        return self.fc(self.drop(feats)), feats, []


def standardize(pool: np.ndarray, *others: Optional[np.ndarray]) -> list:
    """``pool`` and each of ``others`` (None stays None) shifted and scaled per dimension
    by the pool's mean and standard deviation (float32; a dimension whose sd is below
    :data:`STD_FLOOR` is only centred)."""
    pool = np.asarray(pool, dtype=np.float64)
    if pool.ndim != 2 or len(pool) == 0:
        raise ValueError(f"task features of the pool must be a non-empty N x d array, got "
                         f"shape {pool.shape}")
    mean = pool.mean(0)
    sd = pool.std(0)
    sd = np.where(sd < STD_FLOOR, 1.0, sd)
    out = [((pool - mean) / sd).astype(np.float32)]
    for x in others:
        if x is None:
            out.append(None)
            continue
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != pool.shape[1]:
            raise ValueError(f"task features of an evaluation split have shape {x.shape}, the "
                             f"pool's have {pool.shape[1]} columns")
        out.append(((x - mean) / sd).astype(np.float32))
    return out


def check_features(features: Optional[Mapping], n_pool: int, n_test: int,
                   n_val: Optional[int]) -> None:
    """The frozen features a head trains and is evaluated on: one row per pool, test and
    val image, finite."""
    if features is None:
        raise ValueError("task_model.arch linear/mlp needs the frozen features of the pool and "
                         "of the evaluation splits (task_model.features names their kind)")
    for split, n in (("pool", n_pool), ("test", n_test), ("val", n_val)):
        if n is None:
            continue
        x = features.get(split)
        if x is None or len(x) != n:
            raise ValueError(f"task features: {split} has "
                             f"{'no rows' if x is None else f'{len(x)} rows'} for {n} images")
        if not np.isfinite(np.asarray(x)).all():
            raise ValueError(f"task features: {split} holds NaN or infinite values")
