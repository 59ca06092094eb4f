"""Source ``npz``: a user's ``.npz`` file (``path``) in the MedMNIST layout."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..loaders import TASKS, DataError, Dataset, finish_dataset, read_npz, require_keys
from ..sourcefiles import SourceFiles
from .base import Source


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
    require_keys(arrays, path)
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


class Npz(Source):
    def load(self, name: str, spec: dict) -> Dataset:
        return load_npz_dataset(spec["path"], name)

    def files(self, spec: Mapping) -> SourceFiles:
        path = Path(spec["path"])
        if path.is_file():
            return SourceFiles(present=(path,), base=path.parent)
        return SourceFiles(missing=f"{path}: file not found (datasets.<name>.path of source npz)")

    def problems(self, key: str, spec: Mapping) -> list[str]:
        if not spec.get("path"):
            return [f"{key}.path: the .npz file is required for source npz"]
        return []


SOURCE = Npz()
