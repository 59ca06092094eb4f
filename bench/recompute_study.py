"""Recompute a committed study's tables with today's statistics (no training).

A study folder under ``bench/results/`` keeps the per-run metrics (``runs.csv``) and
``datasets.csv`` of a full run. When the statistics change (issue #27: the AULC after
the first query, margins per metric, power at the adjusted level, the t-based
labels-saved interval), the tables built on those runs are recomputed from them with
the library functions the workflow's rules call (rule aggregate, stats, labels_saved),
for the pairs the study tested (read from its ``tests.csv``), at ``stats`` defaults
(significance 0.05, Holm, margins derived). The metrics of the runs are not touched.

    python bench/recompute_study.py bench/results/fashion_cpu_study

Writes ``summary.csv``, ``aulc.csv``, ``tests.csv``, ``tests_aulc.csv`` and
``labels_saved.csv`` in that folder, and prints the verdict counts per family.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from alvae.analysis.labels_saved import labels_saved, primary_metrics
from alvae.analysis.results import METRICS, aulc, summarize
from alvae.analysis.stats import (
    anchor_metric,
    equivalence_margins,
    metrics_for,
    paired_tests,
    paired_tests_aulc,
)


def recompute(folder: Path, alpha: float = 0.05, correction: str = "holm") -> dict:
    """The study's tables from its ``runs.csv``, ``datasets.csv`` and tested pairs."""
    runs = pd.read_csv(folder / "runs.csv")
    info = pd.read_csv(folder / "datasets.csv")
    old = pd.read_csv(folder / "tests.csv")
    pairs = [tuple(p) for p in old[["strategy_a", "strategy_b"]].drop_duplicates().to_numpy()]
    metrics = {r.dataset: metrics_for(r.task, None, r.primary_metric) for r in info.itertuples()}
    primary = {r.dataset: r.primary_metric for r in info.itertuples()}
    areas = pd.concat([aulc(runs, m) for m in ("test_acc", "test_auc", "test_ap")
                       if m in runs.columns], ignore_index=True)
    margins = equivalence_margins(runs, {r.dataset: anchor_metric(r.task)
                                         for r in info.itertuples()}, None)
    tests = paired_tests(runs, pairs, metrics, alpha=alpha, correction=correction,
                         margin=margins, primary=primary)
    tests_aulc = paired_tests_aulc(areas, pairs, alpha=alpha, correction=correction,
                                   metric=metrics, margin=margins, primary=primary)
    saved = labels_saved(runs, primary_metrics(info), tests=tests)
    return {"summary": summarize(runs, [m for m in METRICS if m in runs.columns]),
            "aulc": areas, "tests": tests, "tests_aulc": tests_aulc, "labels_saved": saved}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    args = ap.parse_args()
    tables = recompute(args.folder)
    for name, df in tables.items():
        df.to_csv(args.folder / f"{name}.csv", index=False)
    for name in ("tests", "tests_aulc"):
        df = tables[name]
        counts = df[df["role"] == "primary"].groupby("family")["verdict"].value_counts()
        print(f"{name}:\n{counts.to_string()}\n")
    print(f"wrote {', '.join(tables)} in {args.folder}")


if __name__ == "__main__":
    main()
