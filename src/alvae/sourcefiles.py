"""What a dataset's files are, how they are obtained, and what they hold.

A ``datasets.<name>`` entry mixes two kinds of keys:

- keys that decide *what* the data is (``source``, ``root``, ``path``, ``flag``,
  ``size``, ...): a changed value must rerun the pool and everything after it;
- keys that decide only *how* the files are obtained (:data:`FETCH_KEYS`:
  ``download``, ``check_md5``, ``url``): the job needs them, but toggling one
  must rerun nothing.

The workflow therefore passes the first kind in the rules' ``params`` and the
second kind through the job's config (:func:`fetch_options`), and adds the
*content* of the source files to the params as :func:`source_identity`: one
string per dataset that changes exactly when a file's content changes (an MD5
per file, cached by path, size and modification time, so that a ``touch``
reruns nothing and an unchanged file is hashed once).

A file that is missing when the workflow is planned and will be downloaded by
the job gets a *planned* identity (the source, the URL and the official MD5s).
The downloading job writes a receipt (:func:`record_download`): as long as the
downloaded files are unchanged, their identity stays the planned one, so the
run after a download reruns nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

from .io import file_lock as _locked
from .data import (FASHION_MNIST_DEBIAN, IDX_FILES, DataError, find_idx_files, md5sum,
                   medmnist_info, missing_idx_files)

# Keys of datasets.<name> that decide how files are obtained, never what they hold.
FETCH_KEYS = ("download", "check_md5", "url")
FETCH_DEFAULTS = {"download": False, "check_md5": True, "url": None}


def fetch_options(dataset_config: Mapping) -> dict:
    """The fetch keys of one ``datasets.<name>`` entry, defaults filled in."""
    return {k: dataset_config.get(k, FETCH_DEFAULTS[k]) for k in FETCH_KEYS}


def content_spec(dataset_config: Mapping) -> dict:
    """A ``datasets.<name>`` entry without its fetch keys."""
    return {k: v for k, v in dataset_config.items() if k not in FETCH_KEYS}


@dataclass(frozen=True)
class SourceFiles:
    """The files a source reads (``present``) or, when they are missing, what a
    download would fetch (``planned``: a description with the official MD5s, None
    when the source cannot download them) and where to place them by hand."""

    present: tuple = ()
    planned: Optional[str] = None
    missing: str = ""
    root: Optional[Path] = None  # the folder a download writes into (its lock lives there)


# ----------------------------------------------------------------- per source
def _digits_files(spec: Mapping) -> SourceFiles:
    import sklearn

    path = Path(sklearn.__file__).parent / "datasets" / "data" / "digits.csv.gz"
    return SourceFiles(present=(path,) if path.is_file() else ())


def _idx_files(kind: str) -> Callable[[Mapping], SourceFiles]:
    def files(spec: Mapping) -> SourceFiles:
        root = Path(spec.get("root") or (FASHION_MNIST_DEBIAN if kind == "fashion_mnist" else "data/mnist"))
        found = find_idx_files(root)
        if found is not None:
            return SourceFiles(present=tuple(found[k] for k in IDX_FILES), root=root)
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
    return files


def medmnist_file(spec: Mapping) -> tuple[Path, Optional[str], Optional[str]]:
    """The npz of a MedMNIST flag at ``size``, its official MD5 and URL (``url`` overrides
    the address, not the expected content)."""
    info = medmnist_info(spec["flag"])
    size = spec.get("size", 28)
    suffix = "" if size == 28 else f"_{size}"
    root = Path(spec.get("root") or "data/medmnist")
    url = spec.get("url") or info.get(f"url{suffix}")
    return root / f"{spec['flag']}{suffix}.npz", info.get(f"MD5{suffix}"), url


def _medmnist_files(spec: Mapping) -> SourceFiles:
    path, md5, url = medmnist_file(spec)
    if path.is_file():
        return SourceFiles(present=(path,), root=path.parent)
    return SourceFiles(planned=f"medmnist {path.name} md5:{md5}", root=path.parent,
                       missing=f"{path}: file not found; place {path.name} from MedMNIST "
                               f"(url: {url}) in {path.parent}")


def _npz_files(spec: Mapping) -> SourceFiles:
    path = Path(spec["path"])
    if path.is_file():
        return SourceFiles(present=(path,))
    return SourceFiles(missing=f"{path}: file not found (datasets.<name>.path of source npz)")


# source -> the files its loader reads. A new source adds one entry here.
SOURCE_FILES: dict[str, Callable[[Mapping], SourceFiles]] = {
    "digits": _digits_files,
    "mnist": _idx_files("mnist"),
    "fashion_mnist": _idx_files("fashion_mnist"),
    "medmnist": _medmnist_files,
    "npz": _npz_files,
}


def source_files(spec: Mapping) -> SourceFiles:
    return SOURCE_FILES[spec["source"]](spec)


# ------------------------------------------------------------ the digest store
def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # missing or damaged: a cache, rebuilt on demand


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _stat_key(path: Path) -> list:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


class DigestStore:
    """MD5s of source files (cached by path, size and mtime) and download receipts,
    kept in a folder of the run (``<out_dir>/data/.sources``)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.md5_file = self.folder / "md5.json"
        self.receipt_file = self.folder / "receipts.json"

    def md5(self, path: Path) -> str:
        key, stat = str(Path(path).resolve()), _stat_key(path)
        cached = _read_json(self.md5_file).get(key)
        if cached and cached[:2] == stat:
            return cached[2]
        digest = md5sum(path)
        with _locked(self.md5_file):
            table = _read_json(self.md5_file)
            table[key] = stat + [digest]
            _write_json(self.md5_file, table)
        return digest

    def receipt(self, files: tuple) -> Optional[str]:
        """The planned identity of these files when a job of this run downloaded them
        and they have not changed since."""
        key = "|".join(str(Path(p).resolve()) for p in files)
        entry = _read_json(self.receipt_file).get(key)
        if entry and entry["stats"] == [_stat_key(Path(p)) for p in files]:
            return entry["identity"]
        return None

    def record(self, files: tuple, identity: str) -> None:
        key = "|".join(str(Path(p).resolve()) for p in files)
        with _locked(self.receipt_file):
            table = _read_json(self.receipt_file)
            table[key] = {"identity": identity, "stats": [_stat_key(Path(p)) for p in files]}
            _write_json(self.receipt_file, table)


def _digest_of(files: tuple, store: DigestStore) -> str:
    parts = sorted(f"{Path(p).name}:{store.md5(Path(p))}" for p in files)
    return "md5 " + " ".join(parts)


def source_identity(name: str, dataset_config: Mapping, store: DigestStore) -> str:
    """One string that changes exactly when what the dataset's files hold changes.

    Raises :class:`DataError` (naming the file and the key) when the files are missing
    and ``download`` is off, or when a MedMNIST file fails its MD5 check, so that the
    workflow stops before any job.
    """
    fetch = fetch_options(dataset_config)
    found = source_files(dataset_config)
    if not found.present and fetch["download"] and found.root is not None:
        with _locked(found.root / ".alvae-download"):  # a job may be downloading them right now
            found = source_files(dataset_config)
    if not found.present:
        if found.planned is None or not fetch["download"]:
            hint = (f", or set datasets.{name}.download: true" if found.planned is not None else "")
            raise DataError(f"datasets.{name}: {found.missing or 'no files'}{hint}.")
        return f"download ({found.planned})"
    receipt = store.receipt(found.present)
    if receipt is not None:
        return receipt
    if dataset_config["source"] == "medmnist" and fetch["check_md5"]:
        path, md5, _ = medmnist_file(dataset_config)
        actual = store.md5(path)
        if md5 and actual != md5:
            raise DataError(
                f"{path}: MD5 mismatch (expected {md5}, got {actual}): the file is corrupt or "
                f"another version. Download it again, or set datasets.{name}.check_md5: false "
                f"to use it anyway.")
    return _digest_of(found.present, store)


def record_download(dataset_config: Mapping, identity: str, store: DigestStore) -> None:
    """After a job downloaded the files of a planned identity: keep that identity for
    them while they stay unchanged (no rerun on the next invocation)."""
    if identity.startswith("download ("):
        found = source_files(dataset_config)
        if found.present:
            store.record(found.present, identity)

