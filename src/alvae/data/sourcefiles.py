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
from typing import Mapping, Optional

from ..errors import UserError
from ..io import file_lock as _locked
from ..schema import dataset_defaults
from .loaders import md5sum

# Keys of datasets.<name> that decide how files are obtained, never what they hold.
FETCH_KEYS = ("download", "check_md5", "url")
FETCH_DEFAULTS = {k: dataset_defaults()[k] for k in FETCH_KEYS}  # the schema's


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


# --------------------------------------------------------------- what a source reads
# (each source's own files: alvae.data.sources.<module>, Source.files)
def listed_files(files: list, base: Path) -> SourceFiles:
    """The files of a source that lists them (image folders, manifests: each file it
    reads, nothing to download), named below ``base``; missing ones, or none at all,
    make a "not found" naming the first."""
    files = tuple(files)
    missing = [f for f in files if not Path(f).is_file()]
    if missing or not files:
        return SourceFiles(missing=f"{missing[0] if missing else base}: not found", base=base)
    return SourceFiles(present=files, base=base)


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


def digest_of(found: SourceFiles, store: DigestStore) -> str:
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
