"""The data sources: ``datasets.<name>.source`` -> the :class:`alvae.data.sources.base.Source`
that knows everything about it (how to load it, its files, its known split sizes, its image
side, the checks of its options), one module each in this package.

A new source is one new module here (a :class:`~alvae.data.sources.base.Source` subclass,
its instance named ``SOURCE``) and one line in :data:`alvae.vocabulary.SOURCES`, where the
strategies and representation kinds are registered too; nothing else names it. The
config schema takes the source names from there.

The rest of alvae asks through the functions below, never by a source's name:
:func:`load_dataset`, :func:`source_problems`, :func:`known_train_size`,
:func:`known_test_size`, :func:`image_side`, :func:`self_split`, :func:`source_keys`,
:func:`source_files`, :func:`source_identity` (what a change of the files reruns) and
:func:`record_download`.
"""

from __future__ import annotations

import functools
from importlib import import_module
from pathlib import Path
from typing import Mapping

from ...io import waiting_for_lock
from ...vocabulary import SOURCES
from ..loaders import DataError, Dataset
from ..sourcefiles import DigestStore, SourceFiles, digest_of, fetch_options
from .base import Source


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


def source_files(spec: Mapping) -> SourceFiles:
    """The files a source reads (:class:`alvae.data.sourcefiles.SourceFiles`)."""
    return source_of(spec).files(spec)


def source_identity(name: str, dataset_config: Mapping, store: DigestStore) -> str:
    """One string that changes exactly when what the dataset's files hold changes.

    Raises :class:`DataError` (naming the file and the key) when the files are missing
    and ``download`` is off, or when a MedMNIST file fails its MD5 check, so that the
    workflow stops before any job.
    """
    fetch = fetch_options(dataset_config)
    found = source_files(dataset_config)
    if not found.present and fetch["download"] and found.root is not None:
        # a job may be downloading them right now: wait for it, leaving no lock file behind
        # (planning, a dry run included, writes nothing into the data folder)
        with waiting_for_lock(found.root / ".alvae-download"):
            found = source_files(dataset_config)
    if not found.present:
        if found.planned is None or (found.needs_download and not fetch["download"]):
            hint = (f", or set datasets.{name}.download: true" if found.planned is not None else "")
            raise DataError(f"datasets.{name}: {found.missing or 'no files'}{hint}.")
        return f"obtain ({found.planned})"
    receipt = store.receipt(found.present)
    if receipt is not None:
        return receipt
    if fetch["check_md5"]:
        for path, md5 in found.expected_md5:
            actual = store.md5(Path(path))
            if actual != md5:
                raise DataError(
                    f"{path}: MD5 mismatch (expected {md5}, got {actual}): the file is corrupt or "
                    f"another version. Download it again, or set datasets.{name}.check_md5: false "
                    f"to use it anyway.")
    return digest_of(found, store)


def record_download(dataset_config: Mapping, identity: str, store: DigestStore) -> None:
    """After a job downloaded the files of a planned identity: keep that identity for
    them while they stay unchanged (no rerun on the next invocation)."""
    if identity.startswith("obtain ("):
        found = source_files(dataset_config)
        if found.present:
            store.record(found.present, identity)
