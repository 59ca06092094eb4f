"""Dataset loading into one in-memory form, and the seeded pool subset.

Every source ends as a :class:`Dataset`: uint8 images N×C×H×W, labels, the task
type, class names and the official splits. Problems raise :class:`DataError`
with a message that names the file and says what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import UserError

TASKS = ("multi-class", "binary", "multi-label")
FASHION_MNIST_DEBIAN = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


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


# -------------------------------------------------------------------- digits
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


# ----------------------------------------------------------------------- IDX
def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or not) as used by MNIST and Fashion-MNIST."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read IDX file ({exc}); replace it with a fresh copy") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise DataError(
            f"{path}: truncated or corrupt IDX file: {len(data) - header} bytes of data for "
            f"shape {dims} ({expected} expected); replace it with a fresh copy"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def find_idx_files(root: str | Path) -> dict | None:
    """Locate the four IDX files under ``root`` (plain or ``.gz``; also the
    ``MNIST/raw`` and ``FashionMNIST/raw`` layouts torchvision writes)."""
    root = Path(root)
    for folder in idx_folders(root):
        found = _idx_in(folder)
        if len(found) == 4:
            return found
    return None


def idx_folders(root: Path) -> tuple:
    return (root, root / "raw", root / "MNIST" / "raw", root / "FashionMNIST" / "raw")


def _idx_in(folder: Path) -> dict:
    found = {}
    for key, stem in IDX_FILES.items():
        for cand in (folder / stem, folder / f"{stem}.gz"):
            if cand.is_file():
                found[key] = cand
                break
    return found


def missing_idx_files(root: str | Path) -> tuple[Path, list[str]] | None:
    """The folder under ``root`` holding some but not all IDX files, and the missing names."""
    for folder in idx_folders(Path(root)):
        found = _idx_in(folder)
        if 0 < len(found) < 4:
            return folder, [IDX_FILES[k] for k in IDX_FILES if k not in found]
    return None


def _download_torchvision(kind: str, root: Path) -> None:
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST}[kind]
    for train in (True, False):
        cls(str(root), train=train, download=True)


def load_idx_dataset(kind: str, root: str | Path | None = None, download: bool = False) -> Dataset:
    """MNIST or Fashion-MNIST from IDX files in ``root``; downloads through
    torchvision when the files are missing and ``download`` is true."""
    if root is None:
        root = FASHION_MNIST_DEBIAN if kind == "fashion_mnist" else "data/mnist"
    root = Path(root)
    files = find_idx_files(root)
    if files is None and download:
        from ..io import file_lock

        try:
            with file_lock(root / ".alvae-download"):  # the pool and evaluation jobs may start together
                if find_idx_files(root) is None:
                    print(f"downloading {kind} through torchvision -> {root}", file=sys.stderr, flush=True)
                    _download_torchvision(kind, root)
        except Exception as exc:  # offline, proxy, checksum ...
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DataError(
                f"{kind}: no IDX files under {root} and the download failed ({reason}). "
                f"Place {', '.join(s + '.gz' for s in IDX_FILES.values())} in {root} "
                f"(plain or .gz) and run again."
            ) from None
        files = find_idx_files(root)
    partial = missing_idx_files(root) if files is None else None
    if partial is not None:
        folder, missing = partial
        raise DataError(
            f"{kind}: {folder} holds only some of the IDX files; missing: {', '.join(missing)} "
            f"(plain or .gz). Copy them there, or remove the folder's IDX files and set download: true."
        )
    if files is None:
        hint = " or set download: true" if not download else ""
        apt = " (Debian: apt-get install dataset-fashion-mnist)" if kind == "fashion_mnist" else ""
        raise DataError(
            f"{kind}: IDX files not found under {root}. Place "
            f"{', '.join(s + '.gz' for s in IDX_FILES.values())} there{apt}{hint}."
        )
    arrays = {key: read_idx(path) for key, path in files.items()}
    names = [str(i) for i in range(10)] if kind == "mnist" else FASHION_CLASSES
    return finish_dataset(kind, "multi-class", names, arrays, str(root), files.values())


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


def _require_keys(arrays: dict, path, optional=("val_images", "val_labels")) -> None:
    need = ["train_images", "train_labels", "test_images", "test_labels"]
    missing = [k for k in need if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}; expected the MedMNIST layout {need} "
                        f"(+ optional {list(optional)})")
    if ("val_images" in arrays) != ("val_labels" in arrays):
        raise DataError(f"{path}: val_images and val_labels must come together")


def infer_task(labels: np.ndarray) -> str:
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] > 1:
        return "multi-label"
    return "binary" if np.unique(labels).size <= 2 else "multi-class"


def load_npz_dataset(path: str | Path, name: str = "npz") -> Dataset:
    """A user file in the MedMNIST layout. The task is taken from an optional
    ``task`` array, else inferred from the labels' shape; class names from an
    optional ``class_names`` array."""
    arrays = read_npz(path)
    _require_keys(arrays, path)
    task = str(arrays.pop("task")) if "task" in arrays else infer_task(arrays["train_labels"])
    if task not in TASKS:
        raise DataError(f"{path}: task must be one of {TASKS}, got {task!r}")
    if "class_names" in arrays:
        names = [str(s) for s in arrays.pop("class_names")]
    elif task == "multi-label":
        names = [str(i) for i in range(np.asarray(arrays["train_labels"]).shape[1])]
    else:
        n = int(max(np.max(arrays[f"{s}_labels"]) for s in ("train", "test"))) + 1
        seen = np.unique(np.concatenate([np.ravel(arrays[f"{s}_labels"]) for s in ("train", "test")]))
        if n > 2 and len(seen) < n:
            raise DataError(
                f"{path}: labels run up to {n - 1}, which implies {n} classes, but only {len(seen)} "
                f"occur; relabel them 0..{len(seen) - 1}, or add a class_names array of {n} names "
                f"if the other classes exist"
            )
        names = [str(i) for i in range(max(n, 2))]
    return finish_dataset(name, task, names, arrays, str(path), [path])


# ------------------------------------------------------------------- medmnist
def md5sum(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def medmnist_info(flag: str) -> dict:
    try:
        from medmnist import INFO
    except ImportError:
        raise DataError("source medmnist needs the `medmnist` package (pip install medmnist)") from None
    if flag not in INFO:
        raise DataError(f"unknown MedMNIST flag {flag!r}; known: {', '.join(sorted(INFO))}")
    return INFO[flag]


def medmnist_task(info_task: str) -> str:
    if info_task.startswith("multi-label"):
        return "multi-label"
    if info_task.startswith("binary"):
        return "binary"
    return "multi-class"  # multi-class and ordinal-regression


def load_medmnist(flag: str, root: str | Path = "data/medmnist", size: int = 28,
                  download: bool = False, check_md5: bool = True, url: str | None = None) -> Dataset:
    """A 2D MedMNIST dataset from ``{root}/{flag}.npz`` (``{flag}_{size}.npz`` for
    other sizes), verified against the MD5 in medmnist's INFO, downloaded (from
    ``url``, by default medmnist's own address) when missing and allowed."""
    info = medmnist_info(flag)
    suffix = "" if size == 28 else f"_{size}"
    root = Path(root)
    path = root / f"{flag}{suffix}.npz"
    md5 = info.get(f"MD5{suffix}")
    url = url or info.get(f"url{suffix}")
    if not path.is_file():
        if not download:
            raise DataError(
                f"{path}: file not found. Place {path.name} from MedMNIST (url: {url}) in {root}, "
                f"or set download: true."
            )
        try:
            from torchvision.datasets.utils import download_url

            from ..io import file_lock

            with file_lock(root / ".alvae-download"):  # the pool and evaluation jobs may start together
                if not path.is_file():  # into a temporary name: a killed download leaves no partial npz
                    part = root / f".{path.name}.part"
                    print(f"downloading {url} -> {path}", file=sys.stderr, flush=True)
                    try:
                        download_url(url, str(root), filename=part.name)
                        got = md5sum(part) if check_md5 and md5 else None
                        if got is not None and got != md5:  # said here, not as "corrupted"
                            raise DataError(
                                f"{path}: the file downloaded from {url} fails its MD5 check (expected "
                                f"{md5}, got {got}): another version of the file, or a broken mirror. "
                                f"Set check_md5: false for this dataset to use it anyway.")
                        os.replace(part, path)
                    finally:
                        part.unlink(missing_ok=True)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(
                f"{path}: download from {url} failed ({exc}). Place {path.name} in {root} and run again."
            ) from None
    if check_md5 and md5:
        actual = md5sum(path)
        if actual != md5:
            raise DataError(
                f"{path}: MD5 mismatch (expected {md5}, got {actual}): the file is corrupt or another "
                f"version. Download it again, or set check_md5: false to use it anyway."
            )
    arrays = read_npz(path)
    _require_keys(arrays, path)
    task = medmnist_task(info["task"])
    names = [info["label"][str(i)] for i in range(len(info["label"]))]
    if task == "binary" and len(names) < 2:
        names = names + ["other"]
    return finish_dataset(flag, task, names, arrays, str(path), [path])


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
