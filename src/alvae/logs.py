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


def job_logger(path: str | Path) -> Callable[[str], None]:
    """For Snakemake script jobs: send stdout, stderr (tracebacks included) and
    the returned ``log`` to the job's log file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a", buffering=1)
    sys.stdout = sys.stderr = fh
    return file_logger(None)
