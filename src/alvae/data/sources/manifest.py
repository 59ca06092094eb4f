"""Source ``csv``: a manifest with a path column (relative to the CSV), one label column
(class names or integers) or several 0/1 label columns (multi-label), and an optional
split column (``train``/``test``/``val``); without one, a seeded hold-out of ``test_size``
rows is the test split. Images are decoded by :mod:`alvae.data.imagesources`."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Mapping

import numpy as np

from ...schema import dataset_defaults
from ..imagesources import SPLITS, decode_splits, holdout, task_of
from ..loaders import DataError, Dataset, finish_dataset
from ..sourcefiles import SourceFiles, listed_files
from .base import Source

DEFAULTS = dataset_defaults()  # of a datasets.<name> entry (given partial in library use)

SPLIT_VALUES = {"train": "train", "test": "test", "val": "val", "valid": "val",
                "validation": "val"}


def _csv_rows(path: Path) -> tuple:
    """(header, rows as dicts with their line numbers) of a manifest."""
    if not path.is_file():
        raise DataError(f"{path}: manifest not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = list(reader.fieldnames or [])
            rows = [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    if not header:
        raise DataError(f"{path}: empty manifest; expected a header line with the column names")
    return header, rows


# How spreadsheets, pandas and R write a missing value (pandas' default na_values, compared
# without case): a label cell holding one of them has no label, it is not a class named "nan".
MISSING_LABELS = ("", "nan", "-nan", "na", "n/a", "<na>", "#n/a", "#na", "null", "none")


def is_missing_label(value: str) -> bool:
    return value.strip().lower() in MISSING_LABELS


def _refuse_missing_labels(values: list, path: Path, column: str, lines: list) -> None:
    """One line naming the rows of ``column`` without a label (empty, or written as a
    missing value: nan, NA, null, ...), so that none becomes a class of its own."""
    missing = [(line, v) for v, line in zip(values, lines) if is_missing_label(v)]
    if not missing:
        return
    many = len(missing) > 1
    shown = ", ".join(str(line) for line, _ in missing[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    found = (["empty"] if any(not v.strip() for _, v in missing) else []) + sorted(
        {repr(v.strip()) for _, v in missing if v.strip()})
    raise DataError(f"{path} line{'s' if many else ''} {shown}{more}: no label in column "
                    f"{column!r} (a missing value: {', '.join(found)}); give every row a label, "
                    f"or remove {'those rows' if many else 'the row'}")


def _label_values(values: list, path: Path, column: str, lines: list) -> tuple:
    """Class names and int labels of one label column (integers sort numerically)."""
    _refuse_missing_labels(values, path, column, lines)
    if all(re.fullmatch(r"-?\d+", v) for v in values):
        uniq = sorted({int(v) for v in values})
        names = [str(u) for u in uniq]
        index = {str(u): i for i, u in enumerate(uniq)}
        return names, np.array([index[str(int(v))] for v in values], dtype=np.int64)
    names = sorted(set(values))
    index = {c: i for i, c in enumerate(names)}
    return names, np.array([index[v] for v in values], dtype=np.int64)


def _binary_column(values: list, path: Path, column: str, lines: list) -> np.ndarray:
    _refuse_missing_labels(values, path, column, lines)
    out = np.empty(len(values), np.uint8)
    for i, (v, line) in enumerate(zip(values, lines)):
        if v in ("0", "0.0"):
            out[i] = 0
        elif v in ("1", "1.0"):
            out[i] = 1
        else:
            raise DataError(f"{path} line {line}: label column {column!r} holds {v!r}; the "
                            f"columns of a multi-label task hold 0 or 1")
    return out


def scan_csv(spec: dict, key: str = "datasets.<name>") -> tuple:
    """(task, class names, {split: (files, labels)}) of a manifest, without decoding.
    Checks the columns, the label values and that every image path exists."""
    path = Path(spec["path"])
    header, rows = _csv_rows(path)
    path_col = spec.get("path_column") or DEFAULTS["path_column"]
    label_col = spec.get("label_column", DEFAULTS["label_column"])
    label_cols = [label_col] if isinstance(label_col, str) else list(label_col)
    split_col = spec.get("split_column")
    need = [path_col, *label_cols] + ([split_col] if split_col else [])
    missing = [c for c in need if c not in header]
    if missing:
        raise DataError(f"{path}: no column {', '.join(repr(c) for c in missing)} (columns: "
                        f"{', '.join(header)}); set path_column / label_column / split_column")
    if not rows:
        raise DataError(f"{path}: the manifest has no rows")
    lines = [line for line, _ in rows]
    base = path.parent
    files = []
    for line, row in rows:
        rel = (row[path_col] or "").strip()
        if not rel:
            raise DataError(f"{path} line {line}: empty value in path column {path_col!r}")
        f = base / rel
        if not f.is_file():
            raise DataError(f"{path} line {line}: image {f} does not exist (paths are relative "
                            f"to the manifest's folder {base})")
        files.append(f)
    if isinstance(label_col, str):
        values = [(row[label_col] or "").strip() for _, row in rows]
        names, labels = _label_values(values, path, label_col, lines)
        if len(names) < 2:
            raise DataError(f"{path}: label column {label_col!r} holds a single class "
                            f"({names[0]}); a classification needs at least two")
        task = task_of(len(names))
    else:
        task, names = "multi-label", label_cols
        labels = np.stack([_binary_column([(row[c] or "").strip() for _, row in rows], path, c, lines)
                           for c in label_cols], axis=1)
    if split_col:
        split_of = []
        for line, row in rows:
            v = (row[split_col] or "").strip().lower()
            if v not in SPLIT_VALUES:
                raise DataError(f"{path} line {line}: split column {split_col!r} holds {v!r}; "
                                f"expected train, test or val")
            split_of.append(SPLIT_VALUES[v])
        split_of = np.array(split_of)
        splits = {}
        for s in SPLITS:
            idx = np.flatnonzero(split_of == s)
            if len(idx):
                splits[s] = ([files[i] for i in idx], labels[idx])
        for s in ("train", "test"):
            if s not in splits:
                raise DataError(f"{path}: no {s} rows in split column {split_col!r}")
    else:
        if spec.get("test_size") is None:
            raise DataError(_no_split_line(path, header, rows, key))
        seed = spec.get("split_seed") or DEFAULTS["split_seed"]
        train, test = holdout(len(files), spec.get("test_size"), seed, str(path), key)
        splits = {"train": ([files[i] for i in train], labels[train]),
                  "test": ([files[i] for i in test], labels[test])}
    return task, names, splits


def _no_split_line(path: Path, header: list, rows: list, key: str) -> str:
    """The error of a manifest read without a split: it names ``split_column``, and the
    column that looks like one (every value train, test or val) where there is one."""
    looks = [c for c in header
             if all((row[c] or "").strip().lower() in SPLIT_VALUES for _, row in rows)]
    hint = (f"its column {looks[0]!r} holds train/test values: set {key}.split_column: "
            f"{looks[0]}" if looks else f"set {key}.split_column to a column of train / test / "
            f"val values")
    return (f"{path}: no train/test split given; {hint}, or {key}.test_size to the number of "
            f"images to hold out as the test split")


def load_csv(name: str, spec: dict) -> Dataset:
    """A ``source: csv`` dataset (see :func:`scan_csv`)."""
    task, names, splits = scan_csv(spec, f"datasets.{name}")
    arrays = decode_splits(name, spec, splits)
    return finish_dataset(name, task, names, arrays, str(spec["path"]), [spec["path"]])


def csv_files(spec: dict) -> list:
    """The manifest and every image it names (whether or not they exist), in row order."""
    path = Path(spec["path"])
    try:
        header, rows = _csv_rows(path)
    except DataError:
        return [path]
    col = spec.get("path_column") or DEFAULTS["path_column"]
    if col not in header:
        return [path]
    return [path] + [path.parent / (row[col] or "").strip() for _, row in rows]


class Manifest(Source):
    def load(self, name: str, spec: dict) -> Dataset:
        return load_csv(name, spec)

    def files(self, spec: Mapping) -> SourceFiles:
        return listed_files(csv_files(dict(spec)), Path(spec["path"]).parent)

    def image_side(self, spec: Mapping) -> int | None:
        return spec.get("image_size")

    def self_split(self, spec: Mapping) -> bool:
        """A manifest without a split column holds out its own test split."""
        return not spec.get("split_column")

    def source_keys(self, spec: Mapping) -> tuple:
        keys = ("image_size", "path_column", "label_column", "split_column")
        return keys + (("test_size", "split_seed") if self.self_split(spec) else ())

    def problems(self, key: str, spec: Mapping) -> list[str]:
        """``path`` given, a manifest the loader takes, and a training split of at least
        ``subset_size`` rows (counted without decoding)."""
        if not spec.get("path"):
            return [f"{key}.path: the manifest (.csv) is required for source csv"]
        try:
            n = len(scan_csv(dict(spec), key)[2]["train"][0])
        except DataError as exc:
            return [f"{key}: {exc}"]
        if spec["subset_size"] > n:
            return [f"{key}.subset_size ({spec['subset_size']}) is larger than the "
                    f"training split of {spec['path']} ({n} images)"]
        return []


SOURCE = Manifest()
