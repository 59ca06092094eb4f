"""Checks of a loaded dataset that its loader cannot make alone: enough classes,
images large enough for the models, evaluation splits that are not training data.

:func:`check_dataset` raises :class:`alvae.data.loaders.DataError` naming the file and what
to do, and returns warnings (strings) for the job's log.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .loaders import DataError, Dataset

# The smallest image side the task model (ResNet-18 without resizing) and the VAE
# take: 8×8 is scikit-learn's digits; below it the feature maps vanish and the loss
# turns NaN. `task_model.input_size` resizes for the task model, not for the VAE.
MIN_IMAGE_SIDE = 8


def image_hashes(images: np.ndarray) -> np.ndarray:
    """One content hash per image (identical pixels -> identical hash)."""
    images = np.ascontiguousarray(images)
    return np.array([hashlib.blake2b(im.tobytes(), digest_size=16).digest() for im in images])


def shared_images(train: np.ndarray, other: np.ndarray) -> int:
    """How many images of ``other`` also occur in ``train`` (by content)."""
    return int(np.isin(image_hashes(other), image_hashes(train)).sum())


def split_overlaps(train_images: np.ndarray, **splits) -> dict:
    """{split: number of its images that also occur in ``train_images``} for each
    non-empty split given (``test=..., val=...``), compared by content."""
    return {name: shared_images(train_images, images) for name, images in splits.items()
            if images is not None and len(images)}


def check_dataset(ds: Dataset) -> list[str]:
    """Raise DataError for a dataset the study cannot use; return warnings."""
    where = ", ".join(ds.source_files) or ds.name
    h, w = ds.train_images.shape[2:]
    if min(h, w) < MIN_IMAGE_SIDE:
        raise DataError(f"{where}: images are {h}×{w} pixels; the models need at least "
                        f"{MIN_IMAGE_SIDE}×{MIN_IMAGE_SIDE}. Upsample the images in the file.")
    if ds.task != "multi-label":
        present = np.unique(ds.train_labels)
        if present.size < 2:
            raise DataError(f"{where}: the training split holds a single class "
                            f"({present.tolist()}); active learning needs at least two classes.")
    warnings = []
    for split, n in split_overlaps(ds.train_images, test=ds.test_images, val=ds.val_images).items():
        images = getattr(ds, f"{split}_images")
        if n == len(images):
            raise DataError(f"{where}: every {split} image ({n}) also occurs in the training "
                            f"split; the {split} split must be held-out data.")
        if n:
            warnings.append(f"WARNING: {where}: {n} of {len(images)} {split} images also occur "
                            f"in the training split; their metrics are not held-out")
    return warnings
