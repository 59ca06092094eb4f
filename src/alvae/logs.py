"""Job logs: timestamped, line-buffered, so progress is visible while a job runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable


def file_logger(path: str | Path | None, echo: bool = False) -> Callable[[str], None]:
    """Return ``log(msg)`` appending timestamped lines to ``path`` (stderr when None)."""
    fh = None
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a", buffering=1)

    def log(msg: str) -> None:
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}"
        if fh is not None:
            fh.write(line + "\n")
        if fh is None or echo:
            print(line, file=sys.stderr, flush=True)

    return log


def _user_error_hook(exc_type, exc, tb, _default=sys.excepthook):
    """Bad input (a data file, weights, the config) ends the job with its message
    alone; anything else is a bug and keeps its traceback."""
    from .config import ConfigError
    from .data import DataError
    from .model import WeightsError

    if issubclass(exc_type, (DataError, WeightsError, ConfigError)):
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
    else:
        _default(exc_type, exc, tb)


def job_logger(path: str | Path) -> Callable[[str], None]:
    """For Snakemake script jobs: send stdout, stderr and the returned ``log``
    to the job's log file; user errors are logged as one clear line."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a", buffering=1)
    sys.stdout = sys.stderr = fh
    sys.excepthook = _user_error_hook
    return file_logger(None)
