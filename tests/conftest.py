"""Shared fixtures: files in the real dataset formats, made here."""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def copy_repo(dest: Path) -> Path:
    """A copy of the repository's code at ``dest`` (no .git, venv, results, caches, bench,
    docs or the root's data folder; src/alvae/data is kept), for tests that add a file
    and a registry line and run the workflow on the copy."""
    skip_anywhere = shutil.ignore_patterns("__pycache__", "*.egg-info")
    skip_at_root = {".git", ".venv", "results", ".snakemake", "bench", "docs", "data"}

    def ignore(folder, names):
        at_root = Path(folder) == REPO
        return set(skip_anywhere(folder, names)) | ({n for n in names if n in skip_at_root} if at_root else set())

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    """Write ``array`` (uint8) in the IDX format of MNIST."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path = Path(str(path) + (".gz" if gz else ""))
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


@pytest.fixture
def idx_dir(tmp_path):
    """A folder with the four MNIST IDX files (small, random, gzipped)."""
    rng = np.random.default_rng(0)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (50, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, 50).astype(np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (20, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 20).astype(np.uint8))
    return tmp_path


def medmnist_arrays(n_labels: int = 14, seed: int = 0) -> dict:
    """Arrays in MedMNIST's npz layout for a multi-label task like ChestMNIST."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", 60), ("val", 20), ("test", 30)):
        out[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        out[f"{split}_labels"] = (rng.random((n, n_labels)) < 0.2).astype(np.uint8)
    return out
