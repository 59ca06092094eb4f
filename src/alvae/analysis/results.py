"""Collect the AL runs' metrics tables and summarise them.

Every run writes ``metrics.csv`` with one row per AL round; the dataset,
strategy and seed of a run come from its place in the workflow, not the file.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.integrate import trapezoid

KEYS = ["dataset", "strategy", "seed"]
METRICS = ["test_acc", "test_auc", "test_ap", "val_acc", "val_auc", "val_ap", "train_acc",
           "train_loss", "epochs", "train_time_s", "select_time_s", "n_picked"]
PRIMARY = {"multi-label": "test_auc", "binary": "test_acc", "multi-class": "test_acc"}


def load_runs(records: Iterable[tuple]) -> pd.DataFrame:
    """Read ``(dataset, strategy, seed, path)`` records into one tidy table:
    dataset, strategy, seed, round, n_labels and every metric column."""
    frames = []
    for dataset, strategy, seed, path in records:
        df = pd.read_csv(path)
        missing = {"round", "n_labels"} - set(df.columns)
        if missing:
            raise ValueError(f"{path}: missing columns {sorted(missing)}")
        df.insert(0, "seed", int(seed))
        df.insert(0, "strategy", str(strategy))
        df.insert(0, "dataset", str(dataset))
        frames.append(df)
    if not frames:
        raise ValueError("load_runs: no runs given")
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(KEYS + ["round"], kind="stable").reset_index(drop=True)


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd, low, high) of the t confidence interval of the mean; the
    interval is NaN for fewer than 2 values (sd and CI undefined)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        return (np.nan,) * 4
    mean = float(x.mean())
    if n < 2:
        return mean, np.nan, np.nan, np.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


def summarize(df: pd.DataFrame, metrics: Sequence[str] | str = ("test_acc", "test_auc"),
              level: float = 0.95) -> pd.DataFrame:
    """Mean, sd, n and the t CI (ci_low, ci_high) over seeds, per dataset x
    strategy x n_labels x metric. NaN values (e.g. val_* without a val split)
    are left out of n; combinations without any value are dropped. With n = 1
    sd and the CI are NaN, and ``n`` says why."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    rows = []
    for metric in metrics:
        if metric not in df.columns:
            continue
        for (dataset, strategy, n_labels), g in df.groupby(["dataset", "strategy", "n_labels"]):
            values = g[metric].dropna().to_numpy(dtype=float)
            if len(values) == 0:
                continue
            mean, sd, lo, hi = t_interval(values, level)
            rows.append({"dataset": dataset, "strategy": strategy, "n_labels": int(n_labels),
                         "metric": metric, "mean": mean, "std": sd, "n": len(values),
                         "ci_low": lo, "ci_high": hi})
    cols = ["dataset", "strategy", "n_labels", "metric", "mean", "std", "n", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def aulc(df: pd.DataFrame, metric: str = "test_acc", first_round: int = 1) -> pd.DataFrame:
    """Area under each run's learning curve (``metric`` over n_labels) by the
    trapezoid rule, divided by the label range: a curve constant at v gives v.
    A run with a single budget in the area gets that budget's value.
    n_labels_min/max (the area's first and last budget) are kept so that runs
    over different ranges can be told apart.

    The area starts at round ``first_round`` (default 1: the first budget after
    a query). Round 0 is the seed's initial labels, before any strategy picked
    anything: strategies that train alike have the same value there, seed by
    seed, so it would add a shared point to both areas and pull their
    difference towards 0 (an equivalence verdict could come from it); for lloss
    and bald it measures how the strategy trains, not what it queried. The
    per-budget tests leave it out for the same reason
    (:func:`alvae.analysis.stats.before_first_query`). ``first_round=0``: the
    whole curve as the figures draw it. A table without a ``round`` column is
    taken whole; a run without a round from ``first_round`` on gets no row."""
    rows = []
    if "round" in df.columns:
        df = df[df["round"] >= first_round]
    for (dataset, strategy, seed), g in df.groupby(KEYS):
        g = g[["n_labels", metric]].dropna().sort_values("n_labels")
        if g.empty:
            continue
        x = g["n_labels"].to_numpy(dtype=float)
        y = g[metric].to_numpy(dtype=float)
        span = x[-1] - x[0]
        area = float(trapezoid(y, x) / span) if span > 0 else float(y[0])
        rows.append({"dataset": dataset, "strategy": strategy, "seed": int(seed), "metric": metric,
                     "aulc": area, "n_rounds": len(x), "n_labels_min": int(x[0]),
                     "n_labels_max": int(x[-1]), "first_round": int(first_round)})
    cols = ["dataset", "strategy", "seed", "metric", "aulc", "n_rounds", "n_labels_min",
            "n_labels_max", "first_round"]
    return pd.DataFrame(rows, columns=cols)


def all_negative_accuracy(test_labels: np.ndarray) -> float:
    """Accuracy of predicting "negative" for every label of a multi-label
    (or binary 0/1) test set: the mean over labels of the share of negatives."""
    y = np.asarray(test_labels)
    if y.ndim == 1:
        y = y[:, None]
    return float(np.mean(y == 0))


def majority_class_accuracy(test_labels: np.ndarray) -> float:
    """Accuracy of always predicting the most frequent class of the test split
    (binary and multi-class tasks, labels as class indices)."""
    y = np.asarray(test_labels).reshape(-1)
    if y.size == 0:
        return float("nan")
    return float(np.bincount(y.astype(np.int64)).max() / y.size)


def trivial_baseline(task: str, test_labels: np.ndarray) -> tuple[str, float]:
    """(name, accuracy) of the trivial classifier of a task: all-negative for
    multi-label tasks (MedMNIST's per-label accuracy), the majority class of
    the test split for binary and multi-class tasks."""
    if task == "multi-label":
        return "all-negative", all_negative_accuracy(test_labels)
    return "majority-class", majority_class_accuracy(test_labels)


def dataset_info(dataset: str, task: str, test_labels: np.ndarray, primary: str | None = None,
                 n_outputs: int | None = None, shared_with_train: dict | None = None) -> dict:
    """One row of results/datasets.csv: task, test size, primary metric
    (``primary``, else the task's: alvae.analysis.stats.primary_metric), the trivial
    baseline's accuracy on the test split, how many labels or classes
    (``n_outputs``) the AUC and AP averages leave out (alvae.training.metrics.left_out), and
    how many test and val images also occur in the training split (``test_shared``,
    ``val_shared``)."""
    from ..training.metrics import left_out

    name, value = trivial_baseline(task, test_labels)
    shared = shared_with_train or {}
    return {"dataset": dataset, "task": task, "n_test": int(len(test_labels)),
            "primary_metric": primary or PRIMARY.get(task, "test_acc"), "baseline": name,
            "baseline_acc": value, **left_out(test_labels, task, n_outputs),
            "test_shared": int(shared.get("test", 0)),  # not config
            "val_shared": int(shared.get("val", 0))}  # not config
