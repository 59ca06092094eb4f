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
    from .engine import TrainingDiverged
    from .io import DiskFullError
    from .model import WeightsError

    if issubclass(exc_type, (DataError, WeightsError, ConfigError, DiskFullError, TrainingDiverged)):
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
    else:
        _default(exc_type, exc, tb)


def console_line(msg: str) -> None:
    """A line for the job's log and, inside a workflow job, for the console too (the
    user sees it without opening the log): warnings a study's results depend on."""
    log_line(msg)
    if sys.__stderr__ is not None and sys.stderr is not sys.__stderr__:
        print(msg, file=sys.__stderr__, flush=True)


class _Tee:
    """A text stream that writes to several line-buffered files."""

    def __init__(self, *files):
        self.files = files

    def write(self, text):
        for fh in self.files:
            fh.write(text)
        return len(text)

    def flush(self):
        for fh in self.files:
            fh.flush()

    def isatty(self):
        return False


def attempts_path(path: str | Path) -> Path:
    """Where a job's log lines of every attempt are kept: Snakemake deletes a job's
    ``log:`` file before each run, not this one next to it."""
    path = Path(path)
    return path.with_name(path.name + ".attempts")


def job_logger(path: str | Path) -> Callable[[str], None]:
    """For Snakemake script jobs: send stdout, stderr and the returned ``log``
    to the job's log file; user errors are logged as one clear line.

    The lines of earlier attempts (a killed or failed run of the same job) come
    first, then a header for this attempt: a rerun keeps what the last one logged."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    history = attempts_path(path)
    earlier = history.read_text(errors="replace") if history.is_file() else ""
    attempt = earlier.count(ATTEMPT_HEADER) + 1
    log_fh = open(path, "a", buffering=1)
    log_fh.write(earlier)
    hist_fh = open(history, "a", buffering=1)
    header = f"{ATTEMPT_HEADER} {attempt} started {time.strftime('%Y-%m-%d %H:%M:%S')} =====\n"
    sys.stdout = sys.stderr = _Tee(log_fh, hist_fh)
    sys.stdout.write(header)
    sys.excepthook = _user_error_hook
    return log_line


ATTEMPT_HEADER = "===== attempt"
