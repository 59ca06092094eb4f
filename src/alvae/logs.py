"""Job logs: timestamped, line-buffered, so progress is visible while a job runs."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Callable, Optional


def log_line(msg: str) -> None:
    """Write one timestamped line to stderr (the job's log inside a workflow job)."""
    print(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _user_error_hook(exc_type, exc, tb, _default=sys.excepthook):
    """Bad input (a data file, weights, the config) ends the job with its message
    alone; anything else is a bug and keeps its traceback."""
    from .errors import UserError

    if issubclass(exc_type, UserError):
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


def format_duration(seconds: float) -> str:
    """``45s``, ``3m05s``, ``2h07m``: a duration for a log line."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """Progress lines of a training loop of ``total`` steps (iterations, batches).

    Call :meth:`step` after every step. A line is logged after the first step,
    after the last one, and in between as soon as ``every_s`` seconds (30) or
    ``every_frac`` of the steps (1 %) have passed since the last line, whichever
    comes first; a line due by the 1 % rule alone waits until ``min_gap_s``
    seconds (1) have passed, so that a short training does not flood its log.
    So a log is never silent for more than min(``every_s``, max(1 %, ``min_gap_s``))
    of training. Each line reads

        ``<name> <unit> i/total (p %) <losses> | 1m05s elapsed, ~3m10s left``

    with the time left extrapolated from the mean time per step so far. ``losses``
    is a dict or a function returning one, called only when a line is written (so
    a GPU loop syncs only then); writing lines never touches the training's
    numbers or random streams. One meter serves every trainer (VAAL, the
    representation kinds, the task model).
    """

    def __init__(self, name: str, total: int, log: Callable[[str], None], unit: str = "iteration",
                 every_s: float = 30.0, every_frac: float = 0.01, min_gap_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        self.name, self.unit, self.log, self.clock = name, unit, log, clock
        self.total = max(int(total), 1)
        self.every_s, self.every_frac, self.min_gap_s = float(every_s), float(every_frac), float(min_gap_s)
        self.done = 0
        self.t0 = self.last_t = clock()
        self.last_done = 0

    def extend(self, steps: int) -> None:
        """The loop runs ``steps`` more steps than planned (e.g. extra epochs)."""
        self.total += max(int(steps), 0)

    def due(self, now: float) -> bool:
        if self.done == 1 or self.done >= self.total:
            return True
        since = now - self.last_t
        if since >= self.every_s:
            return True
        chunk = self.every_frac * self.total  # a line at each multiple of 1 % of the steps
        crossed = chunk > 0 and math.floor(self.done / chunk) > math.floor(self.last_done / chunk)
        return crossed and since >= self.min_gap_s

    def step(self, losses=None, n: int = 1) -> Optional[str]:
        """Count ``n`` steps done; log and return a line when one is due."""
        self.done += int(n)
        now = self.clock()
        if not self.due(now):
            return None
        values = losses() if callable(losses) else (losses or {})
        elapsed = now - self.t0
        left = elapsed / self.done * max(self.total - self.done, 0)
        parts = " ".join(f"{k} {_number(v):.4f}" for k, v in values.items())
        line = (f"{self.name} {self.unit} {self.done}/{self.total} "
                f"({100.0 * self.done / self.total:.1f} %){' ' + parts if parts else ''} | "
                f"{format_duration(elapsed)} elapsed, ~{format_duration(left)} left")
        self.log(line)
        self.last_t, self.last_done = now, self.done
        return line


def _number(value) -> float:
    """A float from a number or a (possibly grad-carrying, device) scalar tensor."""
    return float(value.detach() if hasattr(value, "detach") else value)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches in one pass over ``n`` items (the last one may be short)."""
    return max(1, math.ceil(int(n) / int(batch_size)))
