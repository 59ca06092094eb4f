"""The one in-memory form of a dataset, what the sources share to reach it, and the
seeded pool subset.

Every source (:mod:`alvae.data.sources`, one module each) ends as a :class:`Dataset`:
uint8 images N×C×H×W, labels, the task type, class names and the official splits.
Problems raise :class:`DataError` with a message that names the file and says what to do.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import UserError

TASKS = ("multi-class", "binary", "multi-label")


class DataError(UserError, RuntimeError):
    """A dataset file that is missing, unreadable or inconsistent."""


@dataclass
class Dataset:
    """A dataset in memory. Labels: int64 (N,) for multi-class and binary tasks,
    uint8 (N, L) of 0/1 for multi-label ones."""

    name: str
    task: str
    class_names: list
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    val_images: Optional[np.ndarray] = None
    val_labels: Optional[np.ndarray] = None
    source_files: list = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


# --------------------------------------------------------------------- checks
def to_nchw_uint8(images: np.ndarray, what: str) -> np.ndarray:
    """N×H×W or N×H×W×C (C in 1, 3) or N×C×H×W uint8 -> N×C×H×W uint8."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise DataError(f"{what}: images must be uint8 (0..255), got dtype {images.dtype}")
    if images.ndim == 3:
        return images[:, None, :, :]
    if images.ndim == 4:
        if images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
            return np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        if images.shape[1] in (1, 3):
            return images
    raise DataError(
        f"{what}: images must have shape N×H×W, N×H×W×C or N×C×H×W with C in (1, 3), "
        f"got {images.shape}"
    )


def check_labels(labels: np.ndarray, n: int, task: str, n_classes: int, what: str) -> np.ndarray:
    """Validate labels against the task and return them in canonical form."""
    labels = np.asarray(labels)
    if len(labels) != n:
        raise DataError(f"{what}: {len(labels)} labels for {n} images")
    if task == "multi-label":
        if labels.ndim != 2 or labels.shape[1] != n_classes:
            raise DataError(
                f"{what}: multi-label labels must have shape N×{n_classes}, got {labels.shape}"
            )
        if not np.isin(labels, (0, 1)).all():
            raise DataError(f"{what}: multi-label labels must be 0 or 1")
        return labels.astype(np.uint8)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(f"{what}: labels must have shape N or N×1, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{what}: labels must be integers, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        raise DataError(
            f"{what}: labels out of range: found {labels.min()}..{labels.max()}, "
            f"expected 0..{n_classes - 1}"
        )
    return labels.astype(np.int64)


def finish_dataset(name, task, class_names, arrays: dict, where: str, files=()) -> Dataset:
    splits = {}
    for split in ("train", "test", "val"):
        if f"{split}_images" not in arrays:
            continue
        what = f"{where} ({split} split)"
        images = to_nchw_uint8(arrays[f"{split}_images"], what)
        labels = check_labels(arrays[f"{split}_labels"], len(images), task, len(class_names), what)
        splits[f"{split}_images"], splits[f"{split}_labels"] = images, labels
    shapes = {v.shape[1:] for k, v in splits.items() if k.endswith("images")}
    if len(shapes) != 1:
        raise DataError(f"{where}: splits have different image shapes {sorted(shapes)}")
    return Dataset(name=name, task=task, class_names=list(class_names),
                   source_files=[str(f) for f in files], **splits)


# ------------------------------------------------------------------------ npz
def read_npz(path: str | Path) -> dict:
    """Load every array of an ``.npz`` file, turning corruption into DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {}
            for k in npz.files:
                try:
                    arrays[k] = npz[k]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise DataError(
                        f"{path}: array {k!r} holds Python objects (dtype object), which alvae "
                        f"does not load; save it as numbers (labels as integers, images as uint8) "
                        f"or, for class_names, as strings") from None
            return arrays
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, KeyError) as exc:
        raise DataError(
            f"{path}: not a readable .npz file (truncated or corrupt: {exc}). "
            f"Delete it and download or copy it again."
        ) from None


def require_keys(arrays: dict, path, optional=("val_images", "val_labels")) -> None:
    need = ["train_images", "train_labels", "test_images", "test_labels"]
    missing = [k for k in need if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}; expected the MedMNIST layout {need} "
                        f"(+ optional {list(optional)})")
    if ("val_images" in arrays) != ("val_labels" in arrays):
        raise DataError(f"{path}: val_images and val_labels must come together")


# ----------------------------------------------------------------------- md5
def md5sum(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------- subset
@dataclass
class Subset:
    """The pool an AL study works on, plus its evaluation splits."""

    name: str
    task: str
    class_names: list
    pool_indices: np.ndarray   # positions in the official training split
    pool_images: np.ndarray
    pool_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    val_images: Optional[np.ndarray] = None
    val_labels: Optional[np.ndarray] = None
    preview_images: Optional[np.ndarray] = None  # a few held-out images, for figures

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.pool_indices)


def pool_seed(subset_seed: int, run_seed: int | None = None):
    """The seed of a pool draw: ``subset_seed`` (one pool per dataset), or
    ``[subset_seed, run_seed]`` when each AL seed draws its own pool."""
    return subset_seed if run_seed is None else [subset_seed, run_seed]


def draw_subset(ds: Dataset, subset_size: int, seed, test_size: int | None = None) -> Subset:
    """Draw ``subset_size`` training points without replacement (seeded)."""
    n = len(ds.train_images)
    if subset_size > n:
        raise DataError(
            f"datasets.{ds.name}.subset_size ({subset_size}) is larger than the training split ({n})"
        )
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(n, size=subset_size, replace=False)).astype(np.int64)
    test_x, test_y = ds.test_images, ds.test_labels
    if test_size is not None and test_size > len(test_x):
        raise DataError(f"datasets.{ds.name}.test_size ({test_size}) is larger than the test split "
                        f"({len(test_x)} images); use null for all of it")
    if test_size is not None and test_size < len(test_x):
        keep = np.sort(rng.choice(len(test_x), size=test_size, replace=False))
        test_x, test_y = test_x[keep], test_y[keep]
    return Subset(ds.name, ds.task, ds.class_names, idx, ds.train_images[idx],
                  ds.train_labels[idx], test_x, test_y, ds.val_images, ds.val_labels)


def save_subset(sub: Subset, path: str | Path) -> None:
    arrays = {
        "pool_indices": sub.pool_indices, "pool_images": sub.pool_images,
        "pool_labels": sub.pool_labels, "test_images": sub.test_images,
        "test_labels": sub.test_labels, "task": np.array(sub.task),
        "class_names": np.array(sub.class_names), "name": np.array(sub.name),
    }
    if sub.val_images is not None:
        arrays["val_images"], arrays["val_labels"] = sub.val_images, sub.val_labels
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


PREVIEW_IMAGES = 10  # held-out images a pool file carries for the VAE's figure


def _save_npz(path, arrays: dict) -> None:
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def _meta(sub: Subset) -> dict:
    return {"task": np.array(sub.task), "class_names": np.array(sub.class_names),
            "name": np.array(sub.name)}


def save_pool(sub: Subset, path: str | Path) -> None:
    """The pool alone (what the VAE and the AL runs draw from), without the evaluation
    splits, so that a new test split leaves the pool file, and the VAE, untouched."""
    _save_npz(path, {"pool_indices": sub.pool_indices, "pool_images": sub.pool_images,
                     "pool_labels": sub.pool_labels,
                     "preview_images": sub.test_images[:PREVIEW_IMAGES], **_meta(sub)})


def save_eval(sub: Subset, path: str | Path, shared_with_train: dict | None = None) -> None:
    """The evaluation splits (test, optional val) of a subset, and how many of their
    images also occur in the training split (``shared_test``, ``shared_val``)."""
    arrays = {"test_images": sub.test_images, "test_labels": sub.test_labels, **_meta(sub)}
    for split, n in (shared_with_train or {}).items():
        arrays[f"shared_{split}"] = np.array(int(n))
    if sub.val_images is not None:
        arrays["val_images"], arrays["val_labels"] = sub.val_images, sub.val_labels
    _save_npz(path, arrays)


def load_subset(path: str | Path, eval_path: str | Path | None = None) -> Subset:
    """A subset from one file (:func:`save_subset`), or from a pool file and an
    evaluation file (:func:`save_pool`, :func:`save_eval`)."""
    a = read_npz(path)
    e = read_npz(eval_path) if eval_path is not None else a
    empty = np.zeros((0,) + a["pool_images"].shape[1:], np.uint8)
    return Subset(
        name=str(a["name"]), task=str(a["task"]), class_names=[str(c) for c in a["class_names"]],
        pool_indices=a["pool_indices"], pool_images=a["pool_images"], pool_labels=a["pool_labels"],
        test_images=e.get("test_images", empty), test_labels=e.get("test_labels", a["pool_labels"][:0]),
        val_images=e.get("val_images"), val_labels=e.get("val_labels"),
        preview_images=a.get("preview_images", e.get("test_images", empty)[:PREVIEW_IMAGES]),
    )


# The readers of the built-in sources live in their source modules now; their old names
# here keep working (``from alvae.data.loaders import load_digits_dataset``).
_MOVED = {"load_digits_dataset": "digits",
          **dict.fromkeys(("load_idx_dataset", "read_idx", "find_idx_files", "missing_idx_files",
                           "IDX_FILES", "FASHION_MNIST_DEBIAN", "FASHION_CLASSES"), "idx"),
          **dict.fromkeys(("load_medmnist", "medmnist_info", "medmnist_task"), "medmnist"),
          **dict.fromkeys(("load_npz_dataset", "infer_task"), "npz")}


def __getattr__(name: str):
    if name in _MOVED:
        from importlib import import_module

        return getattr(import_module(f"alvae.data.sources.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
