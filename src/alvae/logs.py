"""Job logs: timestamped, line-buffered, so progress is visible while a job runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable


def log_line(msg: str) -> None:
    """Write one timestamped line to stderr (the job's log inside a workflow job)."""
    print(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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
    sys.stdout = sys.stderr = open(path, "a", buffering=1)
    sys.excepthook = _user_error_hook
    return log_line
