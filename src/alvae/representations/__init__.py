"""Pool representations ("VAE kinds") the ``<base>_<kind>`` strategies concatenate.

One file per kind, each with a ``fit(...)`` function and its module class as
``MODEL`` (and, where its latents are more than ``model.encode(x)[0]``, an
``encode(model, images, rep_cfg=, device=)`` function); a new kind is one new
file plus one line in :data:`alvae.vocabulary.KINDS`.
"""

from __future__ import annotations

from importlib import import_module

import numpy as np

from .. import vocabulary
from .base import RepresentationResult

#: kind -> its module's name (alvae.vocabulary.KINDS)
REPRESENTATION_KINDS = {kind: t.module for kind, t in vocabulary.KINDS.items()}


def kind_module(kind: str):
    """The module of a representation kind (its ``fit`` and ``MODEL``)."""
    if kind not in REPRESENTATION_KINDS:
        raise ValueError(f"unknown representation kind {kind!r}; known: {sorted(REPRESENTATION_KINDS)}")
    return import_module(f"{__name__}.{REPRESENTATION_KINDS[kind]}")


def train_representation(kind, images_uint8, labels, labeled, *, task, n_classes, rep_cfg, seed,
                         device="cpu", init_state=None, epochs=None, log=print
                         ) -> RepresentationResult:
    """Train the representation ``kind`` on the pool ``images_uint8`` (uint8 N×C×H×W).

    ``labels``: pool labels, (N,) int or (N, L) 0/1; only rows in ``labeled``
    (int64 pool indices; None or empty = unsupervised) are used, and only by
    the kinds that use labels. ``init_state``: a previous result's ``state``
    to continue from; ``epochs`` overrides ``rep_cfg["epochs"]``. Deterministic
    on CPU for a ``seed``. Returns a :class:`RepresentationResult`.
    """
    fit = kind_module(kind).fit
    if epochs is not None and int(epochs) < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(images_uint8):
            raise ValueError(f"labels ({len(labels)}) and images ({len(images_uint8)}) differ in length")
    return fit(images_uint8, labels, labeled, task=task, n_classes=n_classes, rep_cfg=rep_cfg,
               seed=seed, device=device, init_state=init_state, epochs=epochs, log=log)


def encode_images(kind, model, images_uint8, *, rep_cfg, device="cpu") -> np.ndarray:
    """The representation of ``images_uint8`` (uint8 N×C×H×W) under a trained model of
    ``kind``, computed as that kind's ``fit`` computes the pool's latents: the kind
    module's ``encode(model, images, rep_cfg=..., device=...)`` when it has one (kinds
    that append soft labels or responsibilities, or resize the images), else the
    model's ``encode(x01)[0]`` in batches of 1,024 in eval mode. Used for the test
    and validation images of a frozen-feature task model (rule ``encode_eval``)."""
    import torch

    from ._train import batched
    from .vae import check_images

    mod = kind_module(kind)
    images = check_images(images_uint8)
    if hasattr(mod, "encode"):
        return np.asarray(mod.encode(model, images, rep_cfg=rep_cfg, device=device), np.float32)
    if len(images) == 0:
        return np.zeros((0, int(model.config["latent_dim"])), np.float32)
    return batched(model, images, lambda x: model.encode(x)[0], torch.device(device))


__all__ = ["REPRESENTATION_KINDS", "RepresentationResult", "encode_images", "kind_module",
           "train_representation"]
