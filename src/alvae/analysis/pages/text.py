"""Small formatters the report's pages share: headings, numbers, p-values, ranges,
the direction of a difference, and reStructuredText csv tables."""

from __future__ import annotations

import numpy as np
import pandas as pd


def heading(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def fmt(v: float, digits: int = 4) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def fmt_p(v: float) -> str:
    return "n/a" if v is None or pd.isna(v) else f"{v:.3g}"


def span(lo: float, hi: float, fmt: str) -> str:
    return format(lo, fmt) if format(lo, fmt) == format(hi, fmt) else \
        f"{format(lo, fmt)} to {format(hi, fmt)}"


def direction(a: str, b: str, diff: float, suffix: str = " on average") -> str:
    if np.isnan(diff):
        return "no paired values"
    if diff == 0:
        return f"{a} and {b} equal{suffix}"
    hi, lo = (a, b) if diff > 0 else (b, a)
    return f"{hi} higher than {lo} by {abs(diff):.4f}{suffix}"


def csv_table(header: list[str], rows: list[list]) -> list[str]:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "n/a" if not np.isfinite(v) else f"{v:.4g}"
        return str(v).replace('"', "'")

    lines = ["", ".. csv-table::", "   :header: " + ", ".join(f'"{h}"' for h in header), ""]
    lines += ["   " + ", ".join(f'"{cell(v)}"' for v in r) for r in rows]
    return lines + [""]
