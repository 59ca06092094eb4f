"""The data sources: ``datasets.<name>.source`` -> the :class:`alvae.data.sources.base.Source`
that knows everything about it (how to load it, its files, its known split sizes, its image
side, the checks of its options), one module each in this package.

A new source is one new module here (a :class:`~alvae.data.sources.base.Source` subclass,
its instance named ``SOURCE``) and one line in :data:`SOURCES`; nothing else names it. The
config schema takes the source names from here (:func:`names`).

The rest of alvae asks through the functions below, never by a source's name:
:func:`load_dataset`, :func:`source_problems`, :func:`known_train_size`,
:func:`known_test_size`, :func:`image_side`, :func:`self_split`, :func:`source_keys`,
:func:`source_files`.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import Mapping

from ..loaders import DataError, Dataset
from .base import Source

# source name -> "module" (its SOURCE) or "module:NAME", a module of this package.
# A new source adds one line.
SOURCES: dict[str, str] = {
    "digits": "digits",
    "mnist": "idx:MNIST",
    "fashion_mnist": "idx:FASHION_MNIST",
    "medmnist": "medmnist",
    "npz": "npz",
    "folder": "folder",
    "csv": "manifest",
    "cifar10": "torchvision_sets:CIFAR10",
    "cifar100": "torchvision_sets:CIFAR100",
    "svhn": "torchvision_sets:SVHN",
}


def names() -> list[str]:
    """The known source names, in registry order."""
    return list(SOURCES)


@functools.lru_cache(maxsize=None)
def get(source: str) -> Source:
    """The :class:`Source` registered as ``source`` (its module imported on first use);
    KeyError for an unknown name."""
    module, _, attr = SOURCES[source].partition(":")
    return getattr(import_module(f"{__name__}.{module}"), attr or "SOURCE")


def source_of(spec: Mapping) -> Source:
    """The :class:`Source` of one ``datasets.<name>`` entry."""
    return get(spec["source"])


def load_dataset(name: str, spec: dict) -> Dataset:
    """Load the dataset described by one ``datasets.<name>`` config entry (its fetch keys
    included: ``download``, ``check_md5``, ``url``)."""
    try:
        source = get(spec["source"])
    except KeyError:
        raise DataError(f"datasets.{name}.source: unknown source {spec['source']!r}") from None
    ds = source.load(name, spec)
    ds.name = name
    return ds


# ------------------------------------------------------------ what the config checks ask
def source_problems(key: str, ds: Mapping) -> list[str]:
    """Problems of the ``datasets.<name>`` entry ``ds`` (``key`` = ``datasets.<name>``)
    that its source finds before any job (a required option missing, a folder or
    manifest that cannot work, a MedMNIST flag or size that does not exist, ...); when
    there are none, a ``subset_size`` larger than the source's known training split."""
    problems = list(source_of(ds).problems(key, ds))
    if problems:
        return problems
    n_train = known_train_size(ds)
    if n_train is not None and ds["subset_size"] > n_train:
        problems.append(
            f"{key}.subset_size ({ds['subset_size']}) is larger than the training split "
            f"of {ds['source']}{'/' + ds['flag'] if ds.get('flag') else ''} ({n_train})"
        )
    return problems


def known_train_size(ds: Mapping) -> int | None:
    """Training-split size of a dataset entry when it is known without loading it."""
    return source_of(ds).known_train_size(ds)


def known_test_size(ds: Mapping) -> int | None:
    """Test-split size of a dataset entry when it is known without loading it."""
    return source_of(ds).known_test_size(ds)


def image_side(ds: Mapping) -> int | None:
    """The side of a source's square images when the config fixes it, else None."""
    return source_of(ds).image_side(ds)


# ------------------------------------------------------------ what the workflow asks
def self_split(spec: Mapping) -> bool:
    """Whether the source draws its own test split (test_size images, split_seed)."""
    return source_of(spec).self_split(spec)


def source_keys(spec: Mapping) -> tuple:
    """The datasets.<name> keys, beyond source/root/path/flag/size, that decide what
    this source's loader returns (so that they, and only they, rerun the pool)."""
    return tuple(source_of(spec).source_keys(spec))


def source_files(spec: Mapping):
    """The files a source reads (:class:`alvae.data.sourcefiles.SourceFiles`)."""
    return source_of(spec).files(spec)
