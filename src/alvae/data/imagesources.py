"""Image sources beyond the built-in ones, into the same :class:`alvae.data.loaders.Dataset`:

- ``folder``: torchvision's ImageFolder layout, ``root/<class>/<image>``; either
  ``root/train/`` and ``root/test/`` (optional ``root/val/``) holding the class
  folders, or the class folders directly under ``root`` and a seeded hold-out of
  ``test_size`` images as the test split;
- ``csv``: a manifest with a path column (relative to the CSV), one label column
  (class names or integers) or several 0/1 label columns (multi-label), and an
  optional split column (``train``/``test``/``val``);
- ``cifar10``, ``cifar100``, ``svhn``: the files torchvision's dataset classes read,
  read through those classes;
- the file lists of these sources and of MedMNIST+ (``{flag}_{size}.npz``), for the
  content digest that makes a changed file rerun the pool (:data:`SOURCE_FILES`,
  :func:`source_digest`).

Images of ``folder`` and ``csv`` are decoded with Pillow in the data jobs (``subset``,
``eval_split``) and cached as uint8 arrays in the pool and evaluation files; the AL
jobs never decode them again. Every problem raises :class:`alvae.data.loaders.DataError`
with one line that names the file or folder and says what to do.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from .loaders import DataError, Dataset, finish_dataset, md5sum

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".pbm",
                    ".tif", ".tiff", ".webp")
SPLITS = ("train", "test", "val")
SPLIT_VALUES = {"train": "train", "test": "test", "val": "val", "valid": "val",
                "validation": "val"}

# datasets.<name> keys read by the sources of this module (besides source, root, path)
SPEC_KEYS = ("image_size", "path_column", "label_column", "split_column", "split_seed")


# ------------------------------------------------------------------- decoding
def _mode_channels(mode: str) -> int:
    return 1 if mode in ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F") else 3


def read_image(path: str | Path, image_size: int | None = None) -> np.ndarray:
    """One image file -> uint8 H×W×C (C = 1 for grayscale modes, 3 for colour ones),
    resized to ``image_size``×``image_size`` (Pillow's bicubic filter) when given.
    16-bit grayscale is mapped linearly to 0..255 (value / 257)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
                arr = np.asarray(im).astype(np.int64)
                if arr.min() < 0 or arr.max() > 65535:
                    raise DataError(f"{path}: 32-bit integer pixels ({arr.min()}..{arr.max()}); "
                                    f"save the image with 8 or 16 bits per pixel")
                im2 = Image.fromarray(np.round(arr / 257.0).astype(np.uint8), mode="L")
            elif mode == "F":
                raise DataError(f"{path}: floating-point pixels (mode F); save the image with "
                                f"8 or 16 bits per pixel")
            elif _mode_channels(mode) == 1:
                im2 = im.convert("L")
            else:
                im2 = im.convert("RGB")
            if image_size is not None and im2.size != (image_size, image_size):
                im2 = im2.resize((image_size, image_size), Image.Resampling.BICUBIC)
            arr = np.asarray(im2, dtype=np.uint8)
    except DataError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise DataError(f"{path}: unreadable or truncated image ({reason}); replace or remove "
                        f"the file") from None
    return arr[:, :, None] if arr.ndim == 2 else arr


def _channel_name(c: int) -> str:
    return "grayscale (1 channel)" if c == 1 else "RGB (3 channels)"


def read_images(paths: list, image_size: int | None, key: str) -> np.ndarray:
    """Decode ``paths`` into one uint8 N×C×H×W array. Mixed channel counts, and sizes
    that differ while ``image_size`` is null, name a file of each kind; ``key`` is the
    config key to set (``datasets.<name>.image_size``)."""
    if not paths:
        return np.zeros((0, 1, image_size or 8, image_size or 8), np.uint8)
    first = read_image(paths[0], image_size)
    out = np.empty((len(paths), first.shape[2], first.shape[0], first.shape[1]), np.uint8)
    out[0] = first.transpose(2, 0, 1)
    for i, path in enumerate(paths[1:], start=1):
        arr = read_image(path, image_size)
        if arr.shape[2] != first.shape[2]:
            raise DataError(
                f"{path} is {_channel_name(arr.shape[2])} but {paths[0]} is "
                f"{_channel_name(first.shape[2])}: mixed channel counts; convert the images to "
                f"one mode (all grayscale or all RGB)")
        if arr.shape[:2] != first.shape[:2]:
            raise DataError(
                f"{path} is {arr.shape[1]}×{arr.shape[0]} pixels but {paths[0]} is "
                f"{first.shape[1]}×{first.shape[0]}: set {key} to resize every image to one size")
        out[i] = arr.transpose(2, 0, 1)
    return out


def task_of(n_classes: int) -> str:
    return "binary" if n_classes == 2 else "multi-class"


def holdout(n: int, test_size: int | None, seed: int, where: str, key: str) -> tuple:
    """(train, test) positions of a seeded uniform hold-out of ``test_size`` of ``n`` items."""
    if test_size is None:
        raise DataError(f"{where}: no train/test split given; set {key}.test_size to the number "
                        f"of images to hold out as the test split")
    if test_size >= n:
        raise DataError(f"{key}.test_size ({test_size}) must be smaller than the {n} images "
                        f"of {where}")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[test_size:]), np.sort(perm[:test_size])


# --------------------------------------------------------------------- folder
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
        train, test = holdout(len(files), spec.get("test_size"), spec.get("split_seed", 0) or 0,
                              str(root), key)
        splits["train"] = ([files[i] for i in train], labels[train])
        splits["test"] = ([files[i] for i in test], labels[test])
    return classes, splits


def _decode_splits(name: str, spec: dict, splits: dict) -> dict:
    key = f"datasets.{name}.image_size"
    size = spec.get("image_size")
    order = [s for s in SPLITS if s in splits]
    files = [f for s in order for f in splits[s][0]]
    images = read_images(files, size, key)  # one pass, so that the channel/size checks span splits
    arrays, start = {}, 0
    for s in order:
        n = len(splits[s][0])
        arrays[f"{s}_images"], arrays[f"{s}_labels"] = images[start:start + n], splits[s][1]
        start += n
    return arrays


def load_folder(name: str, spec: dict) -> Dataset:
    """A ``source: folder`` dataset: class names from the folder names (sorted), task
    binary for two classes, else multi-class."""
    classes, splits = scan_folder(spec, f"datasets.{name}")
    arrays = _decode_splits(name, spec, splits)
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


# ------------------------------------------------------------------------ csv
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
    path_col = spec.get("path_column") or "path"
    label_col = spec.get("label_column", "label")
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
        train, test = holdout(len(files), spec.get("test_size"), spec.get("split_seed", 0) or 0,
                              str(path), key)
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
    arrays = _decode_splits(name, spec, splits)
    return finish_dataset(name, task, names, arrays, str(spec["path"]), [spec["path"]])


def csv_files(spec: dict) -> list:
    """The manifest and every image it names (whether or not they exist), in row order."""
    path = Path(spec["path"])
    try:
        header, rows = _csv_rows(path)
    except DataError:
        return [path]
    col = spec.get("path_column") or "path"
    if col not in header:
        return [path]
    return [path] + [path.parent / (row[col] or "").strip() for _, row in rows]


# -------------------------------------------------------------- CIFAR, SVHN
def tv_class(source: str):
    from torchvision import datasets

    return {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100,
            "svhn": datasets.SVHN}[source]


def _without_md5(cls):
    """The torchvision class with its MD5s removed: ``check_integrity(f, None)`` only
    checks that a file exists (the MD5s are checked here first, naming the file)."""
    if hasattr(cls, "split_list"):
        attrs = {"split_list": {k: [u, f, None] for k, (u, f, _) in cls.split_list.items()}}
    else:
        attrs = {"train_list": [[f, None] for f, _ in cls.train_list],
                 "test_list": [[f, None] for f, _ in cls.test_list],
                 "meta": {**cls.meta, "md5": None}, "tgz_md5": None}
    return type(f"{cls.__name__}WithoutMD5", (cls,), attrs)


def default_root(source: str) -> Path:
    return Path("data") / source


def _root(spec: dict) -> Path:
    return Path(spec.get("root") or default_root(spec["source"]))


def tv_expected(spec: dict) -> list:
    """[(file, md5)] that torchvision's class for a cifar10/cifar100/svhn source reads."""
    cls, root = tv_class(spec["source"]), _root(spec)
    if spec["source"] == "svhn":
        return [(root / cls.split_list[s][1], cls.split_list[s][2]) for s in ("train", "test")]
    folder = root / cls.base_folder
    return ([(folder / f, md5) for f, md5 in cls.train_list + cls.test_list]
            + [(folder / cls.meta["filename"], cls.meta["md5"])])


def where_from(source: str, cls) -> str:
    if source == "svhn":
        return (f"train_32x32.mat and test_32x32.mat (from "
                f"{cls.split_list['train'][0].rsplit('/', 1)[0]}/)")
    return f"the extracted folder {cls.base_folder}/ or the archive {cls.filename} (from {cls.url})"


def _obtain(spec: dict, name: str) -> None:
    """Make the files of a torchvision source present: extract a placed archive, or
    download when allowed; else one line saying what to place where."""
    source, root = spec["source"], _root(spec)
    cls = tv_class(source)
    missing = [f for f, _ in tv_expected(spec) if not f.is_file()]
    if not missing:
        return
    check = spec.get("check_md5", True)
    archive = root / cls.filename if hasattr(cls, "filename") and source != "svhn" else None
    if archive is not None and archive.is_file():
        from torchvision.datasets.utils import extract_archive

        if check and md5sum(archive) != cls.tgz_md5:
            raise DataError(f"{archive}: MD5 mismatch (expected {cls.tgz_md5}): the archive is "
                            f"corrupt or another version; download it again, or set "
                            f"datasets.{name}.check_md5: false to use it anyway")
        try:
            extract_archive(str(archive), str(root))
        except Exception as exc:
            raise DataError(f"{archive}: cannot extract the archive ({exc}); download it again") from None
    elif spec.get("download", False):
        getter = cls if check else _without_md5(cls)
        try:
            if source == "svhn":
                for s in ("train", "test"):
                    getter(str(root), split=s, download=True)
            else:
                getter(str(root), train=True, download=True)
        except Exception as exc:  # offline, proxy, checksum ...
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{source}: {missing[0]} is missing and the download failed ({reason}). "
                            f"Place {where_from(source, cls)} in {root} and run again.") from None
    else:
        raise DataError(f"{source}: {missing[0]} not found. Place {where_from(source, cls)} in "
                        f"{root}, or set datasets.{name}.download: true.")
    missing = [f for f, _ in tv_expected(spec) if not f.is_file()]
    if missing:
        raise DataError(f"{source}: {missing[0]} is still missing after extracting or downloading; "
                        f"place {where_from(source, cls)} in {root}")


def load_torchvision(name: str, spec: dict) -> Dataset:
    """CIFAR-10, CIFAR-100 (fine labels) or SVHN (train and test; no ``extra``) through
    torchvision's dataset classes, MD5-checked file by file unless ``check_md5`` is false."""
    source, root = spec["source"], _root(spec)
    cls = tv_class(source)
    from ..io import file_lock

    with file_lock(root / ".alvae-download"):  # the pool and evaluation jobs may start together
        _obtain(spec, name)
    if spec.get("check_md5", True):
        for f, md5 in tv_expected(spec):
            actual = md5sum(f)
            if actual != md5:
                raise DataError(f"{f}: MD5 mismatch (expected {md5}, got {actual}): the file is "
                                f"corrupt or another version; replace it, or set "
                                f"datasets.{name}.check_md5: false to use it anyway")
    reader = _without_md5(cls)
    arrays = {}
    for split in ("train", "test"):
        where = (root / cls.split_list[split][1]) if source == "svhn" else (root / cls.base_folder)
        try:
            ds = (reader(str(root), split=split) if source == "svhn"
                  else reader(str(root), train=split == "train"))
        except Exception as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise DataError(f"{where}: cannot read the {split} split ({reason}); replace the "
                            f"file(s) with a fresh copy") from None
        if source == "svhn":
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = ds.data, ds.labels
            classes = [str(i) for i in range(10)]
        else:  # N×32×32×3 (HWC), as torchvision keeps it
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = ds.data, np.asarray(ds.targets)
            classes = list(ds.classes)
    return finish_dataset(name, "multi-class", classes, arrays, str(root), [root])


def cifar_files(spec: dict) -> list:
    """The pickled batches and the meta file of a cifar10/cifar100 source."""
    return [f for f, _ in tv_expected(spec)]


def svhn_files(spec: dict) -> list:
    """train_32x32.mat and test_32x32.mat of an svhn source."""
    return [f for f, _ in tv_expected(spec)]


# ------------------------------------------------------------------ MedMNIST+
MEDMNIST_SIZES = (28, 64, 128, 224)


def medmnist_path(spec: dict) -> Path:
    size = spec.get("size", 28) or 28
    suffix = "" if size == 28 else f"_{size}"
    return Path(spec.get("root") or "data/medmnist") / f"{spec['flag']}{suffix}.npz"


def medmnist_files(spec: dict) -> list:
    """The one ``.npz`` a medmnist source reads: ``{flag}.npz`` at 28 px,
    ``{flag}_{size}.npz`` at 64, 128 and 224 px."""
    return [medmnist_path(spec)]


# ------------------------------------------------------------------- dispatch
LOADERS = {"folder": load_folder, "csv": load_csv, "cifar10": load_torchvision,
           "cifar100": load_torchvision, "svhn": load_torchvision}

# source -> the files its loader reads (for a content digest of the pool's inputs)
SOURCE_FILES = {"folder": folder_files, "csv": csv_files, "cifar10": cifar_files,
                "cifar100": cifar_files, "svhn": svhn_files, "medmnist": medmnist_files}


def self_split(spec: dict) -> bool:
    """Whether the source draws its own test split (test_size images, split_seed):
    a folder without train/ and test/, or a manifest without a split column."""
    if spec["source"] == "folder":
        return not (Path(spec.get("root") or "") / "train").is_dir()
    if spec["source"] == "csv":
        return not spec.get("split_column")
    return False


def source_keys(spec: dict) -> tuple:
    """The datasets.<name> keys, beyond source/root/path/flag/size, that decide what
    this source's loader returns (so that they, and only they, rerun the pool)."""
    source = spec["source"]
    if source == "folder":
        keys = ("image_size",)
    elif source == "csv":
        keys = ("image_size", "path_column", "label_column", "split_column")
    else:
        return ()
    return keys + (("test_size", "split_seed") if self_split(spec) else ())


def image_side(spec: dict) -> int | None:
    """The side of a source's square images when the config fixes it (MedMNIST+ size,
    CIFAR/SVHN 32, a folder's or manifest's image_size), else None."""
    source = spec["source"]
    if source == "medmnist":
        return spec.get("size", 28) or 28
    if source in ("cifar10", "cifar100", "svhn"):
        return 32
    if source in ("mnist", "fashion_mnist"):
        return 28
    if source in ("folder", "csv"):
        return spec.get("image_size")
    return None


def train_size(spec: dict, key: str = "datasets.<name>") -> int | None:
    """Training-split size of a folder or csv source, counted without decoding (raises
    DataError naming the folder or file that cannot work); None for other sources."""
    source = spec["source"]
    if source == "folder":
        return len(scan_folder(spec, key)[1]["train"][0])
    if source == "csv":
        return len(scan_csv(spec, key)[2]["train"][0])
    return None


def spec_problems(key: str, spec: dict) -> list:
    """Problems of one datasets.<name> entry (``key``) found before any job: missing
    required keys, folders and manifests that cannot work, MedMNIST flags and sizes."""
    source = spec["source"]
    problems = []
    if source == "folder" and not spec.get("root"):
        return [f"{key}.root: the folder of the images is required for source folder"]
    if source == "csv" and not spec.get("path"):
        return [f"{key}.path: the manifest (.csv) is required for source csv"]
    if source in ("folder", "csv"):
        try:
            n = train_size(spec, key)
        except DataError as exc:
            return [f"{key}: {exc}"]
        if spec["subset_size"] > n:
            where = spec["root"] if source == "folder" else spec["path"]
            problems.append(f"{key}.subset_size ({spec['subset_size']}) is larger than the "
                            f"training split of {where} ({n} images)")
    if source == "medmnist" and spec.get("flag"):
        try:
            from medmnist import INFO
        except ImportError:
            return problems
        info = INFO.get(spec["flag"])
        if info is None:
            problems.append(f"{key}.flag: unknown MedMNIST flag {spec['flag']!r}; known 2D flags: "
                            f"{', '.join(f for f in INFO if not f.endswith('3d'))}")
        elif info["python_class"].endswith("3D"):
            problems.append(f"{key}.flag: {spec['flag']} is a 3D MedMNIST dataset; alvae takes "
                            f"2D images")
        else:
            size = spec.get("size", 28)
            suffix = "" if size == 28 else f"_{size}"
            if f"MD5{suffix}" not in info or f"url{suffix}" not in info:
                problems.append(f"{key}.size: medmnist's INFO has no {size}-px file of "
                                f"{spec['flag']}")
    return problems
