"""Source ``folder``: torchvision's ImageFolder layout, ``root/<class>/<image>``; either
``root/train/`` and ``root/test/`` (optional ``root/val/``) holding the class folders, or the
class folders directly under ``root`` and a seeded hold-out of ``test_size`` images as the
test split. Class names from the folder names (sorted); task binary for two classes, else
multi-class. Images are decoded by :mod:`alvae.data.imagesources`."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ...schema import dataset_defaults
from ..imagesources import decode_splits, holdout, task_of
from ..loaders import DataError, Dataset, finish_dataset
from ..sourcefiles import SourceFiles, listed_files
from .base import Source

DEFAULTS = dataset_defaults()  # of a datasets.<name> entry (given partial in library use)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".pbm",
                    ".tif", ".tiff", ".webp")


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def _visible(path: Path, base: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(base).parts)


def folder_layout(root: str | Path) -> dict:
    """{split: folder}: ``train``/``test`` (+ ``val``) when ``root/train`` exists, else
    ``{"all": root}`` (the class folders directly under ``root``)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found; expected {root}/<class>/<image> "
                        f"(or {root}/train/<class>/<image> and {root}/test/<class>/<image>)")
    if (root / "train").is_dir():
        if not (root / "test").is_dir():
            raise DataError(f"{root}: has train/ but no test/ folder; add {root}/test/<class>/"
                            f"<image>, or put the class folders directly under {root} and set "
                            f"test_size")
        layout = {"train": root / "train", "test": root / "test"}
        if (root / "val").is_dir():
            layout["val"] = root / "val"
        return layout
    return {"all": root}


def scan_class_folders(folder: Path) -> dict:
    """{class name: sorted image files} of one split folder (sorted class names)."""
    strays = sorted(p for p in folder.iterdir() if p.is_file() and _is_image(p)
                    and not p.name.startswith("."))
    if strays:
        raise DataError(f"{strays[0]}: an image outside any class folder; the layout is "
                        f"{folder}/<class>/<image>")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{folder}: no class folders; expected {folder}/<class>/<image>")
    out = {}
    for name in classes:
        d = folder / name
        files = sorted((p for p in d.rglob("*") if p.is_file() and _is_image(p) and _visible(p, d)),
                       key=lambda p: str(p))
        if not files:
            raise DataError(f"{d}: empty class folder (no {'/'.join(IMAGE_EXTENSIONS)} images); "
                            f"add images or remove the folder")
        out[name] = files
    return out


def scan_folder(spec: dict, key: str = "datasets.<name>") -> tuple:
    """(class names, {split: (files, labels)}) of a folder source, without decoding.
    A single folder is split into train and test by a seeded hold-out."""
    root = Path(spec["root"])
    layout = folder_layout(root)
    scans = {split: scan_class_folders(folder) for split, folder in layout.items()}
    classes = sorted(set().union(*scans.values()))
    if len(classes) < 2:
        raise DataError(f"{root}: a single class folder ({classes[0]}); a classification needs "
                        f"at least two")
    index = {c: i for i, c in enumerate(classes)}
    splits = {}
    for split, scan in scans.items():
        files = [f for c in scan for f in scan[c]]
        labels = np.array([index[c] for c in scan for _ in scan[c]], dtype=np.int64)
        splits[split] = (files, labels)
    if "all" in splits:
        files, labels = splits.pop("all")
        seed = spec.get("split_seed") or DEFAULTS["split_seed"]
        train, test = holdout(len(files), spec.get("test_size"), seed, str(root), key)
        splits["train"] = ([files[i] for i in train], labels[train])
        splits["test"] = ([files[i] for i in test], labels[test])
    return classes, splits


def load_folder(name: str, spec: dict) -> Dataset:
    """A ``source: folder`` dataset: class names from the folder names (sorted), task
    binary for two classes, else multi-class."""
    classes, splits = scan_folder(spec, f"datasets.{name}")
    arrays = decode_splits(name, spec, splits)
    return finish_dataset(name, task_of(len(classes)), classes, arrays, str(spec["root"]), [spec["root"]])


def folder_files(spec: dict) -> list:
    """Every image file a folder source reads (all splits), sorted. A folder the loader
    would refuse lists every visible image file under ``root`` (or nothing)."""
    root = Path(spec["root"])
    try:
        layout = folder_layout(root)
        files = [f for folder in layout.values()
                 for class_files in scan_class_folders(folder).values() for f in class_files]
    except DataError:
        if not root.is_dir():
            return []
        files = [p for p in root.rglob("*") if p.is_file() and _is_image(p) and _visible(p, root)]
    return sorted(files, key=lambda p: str(p))


class Folder(Source):
    def load(self, name: str, spec: dict) -> Dataset:
        return load_folder(name, spec)

    def files(self, spec: Mapping) -> SourceFiles:
        return listed_files(folder_files(dict(spec)), Path(spec["root"]))

    def image_side(self, spec: Mapping) -> int | None:
        return spec.get("image_size")

    def self_split(self, spec: Mapping) -> bool:
        """A folder without train/ and test/ holds out its own test split."""
        return not (Path(spec.get("root") or "") / "train").is_dir()

    def source_keys(self, spec: Mapping) -> tuple:
        return ("image_size",) + (("test_size", "split_seed") if self.self_split(spec) else ())

    def problems(self, key: str, spec: Mapping) -> list[str]:
        """``root`` given, a layout the loader takes, and a training split of at least
        ``subset_size`` images (counted without decoding)."""
        if not spec.get("root"):
            return [f"{key}.root: the folder of the images is required for source folder"]
        try:
            n = len(scan_folder(dict(spec), key)[1]["train"][0])
        except DataError as exc:
            return [f"{key}: {exc}"]
        if spec["subset_size"] > n:
            return [f"{key}.subset_size ({spec['subset_size']}) is larger than the "
                    f"training split of {spec['root']} ({n} images)"]
        return []


SOURCE = Folder()
