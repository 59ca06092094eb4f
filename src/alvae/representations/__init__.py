"""Pool representations ("VAE kinds") the ``<base>_<kind>`` strategies concatenate.

One file per kind, each with a ``fit(...)`` function; a new kind is one new
file plus one line in :data:`REPRESENTATION_KINDS`.
"""

from __future__ import annotations

import numpy as np

from . import cvae, gmvae, simclr, vae
from .base import RepresentationResult

REPRESENTATION_KINDS = {
    "vae": vae.fit,
    "cvae": cvae.fit,
    "gmvae": gmvae.fit,
    "simclr": simclr.fit,
}


def train_representation(kind, images_uint8, labels, labeled, *, task, n_classes, vae_cfg, seed,
                         device="cpu", init_state=None, epochs=None, log=print
                         ) -> RepresentationResult:
    """Train the representation ``kind`` on the pool ``images_uint8`` (uint8 N×C×H×W).

    ``labels``: pool labels, (N,) int or (N, L) 0/1; only rows in ``labeled``
    (int64 pool indices; None or empty = unsupervised) are used, and only by
    the kinds that use labels. ``init_state``: a previous result's ``state``
    to continue from; ``epochs`` overrides ``vae_cfg["epochs"]``. Deterministic
    on CPU for a ``seed``. Returns a :class:`RepresentationResult`.
    """
    if kind not in REPRESENTATION_KINDS:
        raise ValueError(f"unknown representation kind {kind!r}; known: {sorted(REPRESENTATION_KINDS)}")
    if epochs is not None and int(epochs) < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(images_uint8):
            raise ValueError(f"labels ({len(labels)}) and images ({len(images_uint8)}) differ in length")
    return REPRESENTATION_KINDS[kind](images_uint8, labels, labeled, task=task, n_classes=n_classes,
                                      vae_cfg=vae_cfg, seed=seed, device=device,
                                      init_state=init_state, epochs=epochs, log=log)


__all__ = ["REPRESENTATION_KINDS", "RepresentationResult", "train_representation"]
