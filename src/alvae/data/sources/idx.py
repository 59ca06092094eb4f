"""Sources ``mnist`` and ``fashion_mnist``: the four IDX files (plain or ``.gz``) under
``root`` (also torchvision's ``MNIST/raw`` and ``FashionMNIST/raw`` layouts), downloaded
through torchvision when missing and allowed. Fashion-MNIST's default ``root`` is the
Debian package's folder."""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path
from typing import Mapping

import numpy as np

from ...schema import dataset_defaults
from ..loaders import DataError, Dataset, finish_dataset
from ..sourcefiles import SourceFiles
from .base import Source

DEFAULTS = dataset_defaults()  # of a datasets.<name> entry (given partial in library use)

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
        from ...io import file_lock

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


class Idx(Source):
    """mnist or fashion_mnist (``kind``): 60,000 training and 10,000 test images, 28×28."""

    train_size = 60000
    test_size = 10000
    side = 28

    def __init__(self, kind: str):
        self.kind = kind

    def default_root(self) -> str:
        return FASHION_MNIST_DEBIAN if self.kind == "fashion_mnist" else "data/mnist"

    def load(self, name: str, spec: dict) -> Dataset:
        return load_idx_dataset(self.kind, spec.get("root"), spec.get("download", DEFAULTS["download"]))

    def files(self, spec: Mapping) -> SourceFiles:
        kind = self.kind
        root = Path(spec.get("root") or self.default_root())
        found = find_idx_files(root)
        if found is not None:
            return SourceFiles(present=tuple(found[k] for k in IDX_FILES), root=root, base=root)
        partial = missing_idx_files(root)
        if partial is not None:
            folder, missing = partial
            return SourceFiles(missing=f"{folder} holds only some of the IDX files; missing: "
                                       f"{', '.join(missing)} (plain or .gz)", root=root)
        from torchvision import datasets

        cls = {"mnist": datasets.MNIST, "fashion_mnist": datasets.FashionMNIST}[kind]
        planned = f"{kind} via torchvision: " + " ".join(f"{name}:{md5}" for name, md5 in cls.resources)
        apt = " (Debian: apt-get install dataset-fashion-mnist)" if kind == "fashion_mnist" else ""
        return SourceFiles(planned=planned, root=root, missing=(
            f"IDX files not found under {root}: place "
            f"{', '.join(s + '.gz' for s in IDX_FILES.values())} there{apt}"))


MNIST = Idx("mnist")
FASHION_MNIST = Idx("fashion_mnist")
