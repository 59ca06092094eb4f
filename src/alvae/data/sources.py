"""One ``datasets.<name>`` entry -> a :class:`alvae.data.loaders.Dataset`: the loader of each
source. A new source adds its loader here (and its file list in alvae.data.sourcefiles)."""

from __future__ import annotations

from . import imagesources
from .loaders import (
    DataError,
    Dataset,
    load_digits_dataset,
    load_idx_dataset,
    load_medmnist,
    load_npz_dataset,
)


def _digits(name: str, spec: dict) -> Dataset:
    return load_digits_dataset()


def _idx(name: str, spec: dict) -> Dataset:
    return load_idx_dataset(spec["source"], spec.get("root"), spec.get("download", False))


def _medmnist(name: str, spec: dict) -> Dataset:
    return load_medmnist(spec["flag"], spec.get("root") or "data/medmnist", spec.get("size", 28),
                         spec.get("download", False), spec.get("check_md5", True), spec.get("url"))


def _npz(name: str, spec: dict) -> Dataset:
    return load_npz_dataset(spec["path"], name)


# source -> loader(name, spec)
LOADERS = {"digits": _digits, "mnist": _idx, "fashion_mnist": _idx, "medmnist": _medmnist,
           "npz": _npz, **imagesources.LOADERS}


def load_dataset(name: str, spec: dict) -> Dataset:
    """Load the dataset described by one ``datasets.<name>`` config entry (its fetch keys
    included: ``download``, ``check_md5``, ``url``)."""
    try:
        loader = LOADERS[spec["source"]]
    except KeyError:
        raise DataError(f"datasets.{name}.source: unknown source {spec['source']!r}") from None
    ds = loader(name, spec)
    ds.name = name
    return ds
