"""Source ``digits``: scikit-learn's bundled 8×8 digits (1,797 images, 10 classes)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..loaders import Dataset, finish_dataset
from ..sourcefiles import SourceFiles
from .base import Source


def load_digits_dataset() -> Dataset:
    """scikit-learn's bundled 8×8 digits, scaled to uint8, with a fixed split:
    1,500 training and 297 test images (a seeded permutation, seed 0)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(images))
    train, test = order[:1500], order[1500:]
    arrays = {
        "train_images": images[train], "train_labels": bunch.target[train],
        "test_images": images[test], "test_labels": bunch.target[test],
    }
    return finish_dataset("digits", "multi-class", [str(i) for i in range(10)], arrays, "sklearn digits")


class Digits(Source):
    train_size = 1500
    test_size = 297  # the fixed split of load_digits_dataset

    def load(self, name: str, spec: dict) -> Dataset:
        return load_digits_dataset()

    def files(self, spec: Mapping) -> SourceFiles:
        import sklearn

        path = Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"
        return SourceFiles(present=(path,) if path.is_file() else ())


SOURCE = Digits()
