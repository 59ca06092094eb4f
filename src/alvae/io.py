"""Atomic file writes: a killed job never leaves a half-written output.

Files get the permissions the user's umask gives (as ``open`` would), not the
0600 of a temporary file, and a write that fails on a full disk says so.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
from pathlib import Path

from .errors import UserError

# RuntimeError texts of torch.save (C++ streams) when a write fails: they do not say why
_WRITE_FAILURES = ("iostream error", "file write failed", "PytorchStreamWriter failed")
LOW_SPACE_BYTES = 16 << 20


class DiskFullError(UserError, OSError):
    """A write failed because the file system holding it is full."""


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def free_bytes(folder: str | Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def is_disk_full(exc: BaseException, folder: str | Path) -> bool:
    """Whether ``exc``, raised while writing into ``folder``, means the disk is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, (OSError, RuntimeError)) and any(t in str(exc) for t in _WRITE_FAILURES):
        try:
            return free_bytes(folder) < LOW_SPACE_BYTES
        except OSError:
            return False
    return False


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path next to ``path``; rename it over ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        try:
            yield Path(tmp)
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, path)
        except (OSError, RuntimeError) as exc:
            if isinstance(exc, DiskFullError) or not is_disk_full(exc, path.parent):
                raise
            raise DiskFullError(errno.ENOSPC, f"no space left on device: cannot write {path} "
                                f"({exc}); free space there and run again") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def write_json_atomic(path: str | Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


@contextlib.contextmanager
def file_lock(path: str | Path):
    """An exclusive lock on ``<path>.lock`` (created, with its folder), held for the block:
    jobs that may start together (the pool and evaluation jobs of one dataset, say) take
    turns at a download or at a shared table. The kernel drops it if the holder dies."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def waiting_for_lock(path: str | Path):
    """Wait while another process holds :func:`file_lock` on ``path``, and keep it from
    starting until the block ends; unlike :func:`file_lock` it creates nothing (no lock
    file, no folder). For a reader that must not write, such as the planning of a dry
    run: a lock file that does not exist is held by no one."""
    try:
        fh = open(f"{path}.lock", "rb")
    except OSError:  # no lock file (or none readable): nobody is writing there now
        yield
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def writable_folder(path: str | Path, key: str) -> Path:
    """Make the folder ``path`` (with its parents) and prove that a file can be written
    there; else raise :class:`UserError` naming the config ``key`` that chose it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".alvae-write-test.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f"{key}: cannot create or write the folder {path} ({reason}); "
                        f"set {key} to a folder you can write to") from None
    return path
