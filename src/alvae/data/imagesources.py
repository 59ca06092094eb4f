"""Images read from files into the arrays of a :class:`alvae.data.loaders.Dataset`, shared
by the sources that decode image files (``folder``, ``csv``: :mod:`alvae.data.sources`):
decoding with Pillow (one uint8 N×C×H×W array, one channel count and size, or resized to
``image_size``), the seeded hold-out of a test split, and the task of a class count.

Images are decoded in the data jobs (``subset``, ``eval_split``) and cached as uint8 arrays
in the pool and evaluation files; the AL jobs never decode them again. Every problem raises
:class:`alvae.data.loaders.DataError` with one line that names the file or folder and says
what to do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .loaders import DataError

SPLITS = ("train", "test", "val")


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


def decode_splits(name: str, spec: dict, splits: dict) -> dict:
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

