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

A file that is missing when the workflow is planned and will be downloaded (or
extracted from a placed archive) by the job gets a *planned* identity (the
source and the official MD5s). The job then writes a receipt
(:func:`record_download`): as long as the files it obtained are unchanged, their
identity stays the planned one, so the run after a download reruns nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

from ..errors import UserError
from ..io import file_lock as _locked
from ..io import waiting_for_lock
from .loaders import (
    FASHION_MNIST_DEBIAN,
    IDX_FILES,
    DataError,
    find_idx_files,
    md5sum,
    medmnist_info,
    missing_idx_files,
)

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
    """The files a source reads (``present``), named in digests by their path relative
    to ``base``; or, when they are missing, how the job would obtain them (``planned``:
    a description with the official MD5s, None when it cannot) and whether that is a
    download (``needs_download``; else, say, a placed archive to extract), with the
    message that says what to place where (``missing``)."""

    present: tuple = ()
    planned: Optional[str] = None
    missing: str = ""
    root: Optional[Path] = None  # the folder a download writes into (its lock lives there)
    needs_download: bool = True
    base: Optional[Path] = None
    expected_md5: tuple = ()  # (path, official MD5) of present files, checked unless check_md5 is off


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
            return SourceFiles(present=tuple(found[k] for k in IDX_FILES), root=root, base=root)
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
        return SourceFiles(present=(path,), root=path.parent, base=path.parent,
                           expected_md5=((path, md5),) if md5 else ())
    return SourceFiles(planned=f"medmnist {path.name} md5:{md5}", root=path.parent,
                       missing=f"{path}: file not found; place {path.name} from MedMNIST "
                               f"(url: {url}) in {path.parent}")


def _npz_files(spec: Mapping) -> SourceFiles:
    path = Path(spec["path"])
    if path.is_file():
        return SourceFiles(present=(path,), base=path.parent)
    return SourceFiles(missing=f"{path}: file not found (datasets.<name>.path of source npz)")


def _listed_files(spec: Mapping) -> SourceFiles:
    """folder and csv: every image file the loader reads (and the manifest), listed by
    alvae.data.imagesources; nothing to download."""
    from . import imagesources

    files = tuple(imagesources.SOURCE_FILES[spec["source"]](dict(spec)))
    base = Path(spec["path"]).parent if spec["source"] == "csv" else Path(spec["root"])
    missing = [f for f in files if not Path(f).is_file()]
    if missing or not files:
        return SourceFiles(missing=f"{missing[0] if missing else base}: not found", base=base)
    return SourceFiles(present=files, base=base)


def _torchvision_files(spec: Mapping) -> SourceFiles:
    """cifar10, cifar100, svhn: the batches or .mat files torchvision's class reads; when
    missing, a placed archive to extract, or a download (alvae.data.imagesources)."""
    from . import imagesources

    expected = imagesources.tv_expected(dict(spec))
    root = imagesources.default_root(spec["source"]) if not spec.get("root") else Path(spec["root"])
    if all(Path(f).is_file() for f, _ in expected):
        return SourceFiles(present=tuple(f for f, _ in expected), root=root, base=root,
                           expected_md5=tuple((Path(f), md5) for f, md5 in expected if md5))
    planned = f"{spec['source']} via torchvision: " + " ".join(f"{Path(f).name}:{md5}" for f, md5 in expected)
    cls = imagesources.tv_class(spec["source"])
    archive = root / cls.filename if hasattr(cls, "filename") and spec["source"] != "svhn" else None
    if archive is not None and archive.is_file():  # placed by hand: the job extracts it
        return SourceFiles(planned=planned, root=root, needs_download=False)
    first = next(f for f, _ in expected if not Path(f).is_file())
    return SourceFiles(planned=planned, root=root,
                       missing=f"{first} not found; place {imagesources.where_from(spec['source'], cls)} "
                               f"in {root}")


# source -> the files its loader reads. A new source adds one entry here.
SOURCE_FILES: dict[str, Callable[[Mapping], SourceFiles]] = {
    "digits": _digits_files,
    "mnist": _idx_files("mnist"),
    "fashion_mnist": _idx_files("fashion_mnist"),
    "medmnist": _medmnist_files,
    "npz": _npz_files,
    "folder": _listed_files,
    "csv": _listed_files,
    "cifar10": _torchvision_files,
    "cifar100": _torchvision_files,
    "svhn": _torchvision_files,
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

    def __init__(self, folder: str | Path, key: str = "out_dir"):
        self.folder, self.key = Path(folder), key  # key: the config key that chose the folder
        self.md5_file = self.folder / "md5.json"
        self.receipt_file = self.folder / "receipts.json"

    def _update(self, path: Path, entry: str, value) -> None:
        """Set ``entry`` in the JSON table ``path``, under its lock; a folder that cannot be
        written is one line naming the config key that chose it."""
        try:
            with _locked(path):
                table = _read_json(path)
                table[entry] = value
                _write_json(path, table)
        except OSError as exc:
            raise UserError(f"{self.key}: cannot write {path} ({exc.strerror or exc}); set "
                            f"{self.key} to a folder you can write to") from None

    def md5(self, path: Path) -> str:
        key, stat = str(Path(path).resolve()), _stat_key(path)
        cached = _read_json(self.md5_file).get(key)
        if cached and cached[:2] == stat:
            return cached[2]
        digest = md5sum(path)
        self._update(self.md5_file, key, stat + [digest])
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
        self._update(self.receipt_file, key,
                     {"identity": identity, "stats": [_stat_key(Path(p)) for p in files]})


def _digest_of(found: SourceFiles, store: DigestStore) -> str:
    """md5 of every file, named by its path below the source's folder (so that an image
    moved to another class folder counts as a change); a long list is hashed once more."""
    def name(p: Path) -> str:
        try:
            return str(Path(p).relative_to(found.base)) if found.base else Path(p).name
        except ValueError:
            return Path(p).name

    parts = sorted(f"{name(p)}:{store.md5(Path(p))}" for p in found.present)
    text = " ".join(parts)
    if len(parts) > 8:  # folders of images: one digest of the whole list
        text = f"{len(parts)} files, sha256 {hashlib.sha256(text.encode()).hexdigest()[:32]}"
    return "md5 " + text


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
    return _digest_of(found, store)


def record_download(dataset_config: Mapping, identity: str, store: DigestStore) -> None:
    """After a job downloaded the files of a planned identity: keep that identity for
    them while they stay unchanged (no rerun on the next invocation)."""
    if identity.startswith("obtain ("):
        found = source_files(dataset_config)
        if found.present:
            store.record(found.present, identity)

