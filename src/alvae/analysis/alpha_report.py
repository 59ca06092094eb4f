"""How much the latent block weighs (``latent_share``), and accuracy against α.

Both read the tidy runs table of the results stage (``runs.csv``: one row per
dataset × strategy × seed × round, with the ``latent_share`` column the loop
writes, see :mod:`alvae.strategies.alpha`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..labels import parse_label  # noqa: E402
from .results import t_interval  # noqa: E402


def _need(runs: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = set(columns) - set(runs.columns)
    if missing:
        raise ValueError(f"runs table lacks {sorted(missing)} (runs made before that column "
                         f"was recorded: rerun them)")


def round_table(runs: pd.DataFrame, strategies: Sequence[str], column: str) -> pd.DataFrame:
    """Mean and 95% t interval over seeds of ``column`` per dataset × strategy ×
    round (rounds where it was recorded, i.e. not NaN)."""
    _need(runs, [column])
    rows = []
    d = runs[runs["strategy"].isin(list(strategies))]
    for (dataset, strategy, rnd), g in d.groupby(["dataset", "strategy", "round"], sort=True):
        x = g[column].dropna().to_numpy(dtype=float)
        if len(x) == 0:
            continue
        mean, sd, lo, hi = t_interval(x)
        rows.append({"dataset": dataset, "strategy": strategy, "round": int(rnd),
                     "n_labels": int(g["n_labels"].iloc[0]), "mean": mean, "sd": sd, "n": len(x),
                     "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=["dataset", "strategy", "round", "n_labels", "mean", "sd",
                                       "n", "ci_low", "ci_high"])


def latent_share_table(runs: pd.DataFrame, strategies: Sequence[str]) -> pd.DataFrame:
    """:func:`round_table` of ``latent_share`` (rounds with a selection only)."""
    return round_table(runs, strategies, "latent_share")


def alpha_sweep_table(runs: pd.DataFrame, labels: Sequence[str],
                      metric: str = "test_acc") -> pd.DataFrame:
    """Per dataset × base strategy × α scale: the mean ``metric`` at the final
    budget and its area under the learning curve (mean over rounds), with t
    intervals over seeds, and the mean latent share. Scales come from the
    ``<strategy>@<scale>`` labels (a plain label is scale 1); a ``+<retrain>``
    suffix makes a variant of its own (``strategy`` keeps it)."""
    _need(runs, [metric, "latent_share"])
    rows = []
    d = runs[runs["strategy"].isin(list(labels))]
    for (dataset, label), g in d.groupby(["dataset", "strategy"], sort=True):
        parsed = parse_label(label)  # one line per variant: coreset_vae, coreset_vae+per_round
        name, scale = parsed.variant, parsed.scale
        last = g[g["n_labels"] == g["n_labels"].max()][metric].to_numpy(dtype=float)
        area = g.groupby("seed")[metric].mean().to_numpy(dtype=float)
        m, _, lo, hi = t_interval(last)
        am, _, alo, ahi = t_interval(area)
        share = g["latent_share"].dropna()
        rows.append({"dataset": dataset, "strategy": name, "label": label, "scale": scale,
                     f"final_{metric}": m, "final_ci_low": lo, "final_ci_high": hi,
                     f"mean_{metric}": am, "mean_ci_low": alo, "mean_ci_high": ahi,
                     "latent_share": float(share.mean()) if len(share) else np.nan,
                     "n_seeds": int(g["seed"].nunique())})
    return pd.DataFrame(rows)


def plot_rounds(table: pd.DataFrame, out_png, out_pdf, ylabel: str,
                reference: float | None = None) -> tuple[str, str]:
    """One panel per dataset: a :func:`round_table` against labels, one line per
    strategy with its 95% band, on [0, 1] (``reference``: a dotted level)."""
    datasets = sorted(table["dataset"].unique()) or ["(none)"]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        d = table[table["dataset"] == dataset]
        for strategy, g in d.groupby("strategy", sort=True):
            g = g.sort_values("n_labels")
            ax.plot(g["n_labels"], g["mean"], marker="o", label=strategy)
            ax.fill_between(g["n_labels"], g["ci_low"], g["ci_high"], alpha=0.15)
        if reference is not None:
            ax.axhline(reference, color="0.5", linestyle=":", linewidth=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("labels after the round")
        ax.set_ylabel(ylabel)
        ax.set_title(dataset)
        if len(d):
            ax.legend(fontsize=7)
    return _save(fig, out_png, out_pdf)


def plot_latent_share(table: pd.DataFrame, out_png, out_pdf) -> tuple[str, str]:
    """Latent share against labels (the 0.5 of a spread-matched α dotted)."""
    return plot_rounds(table, out_png, out_pdf, "latent share of the mean sq. distance", 0.5)


def plot_alpha_sweep(sweep: pd.DataFrame, metric: str, out_png, out_pdf) -> tuple[str, str]:
    """Accuracy (final budget and curve mean) against the α scale, per base strategy."""
    datasets = sorted(sweep["dataset"].unique()) or ["(none)"]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        d = sweep[sweep["dataset"] == dataset]
        for strategy, g in d.groupby("strategy", sort=True):
            g = g.sort_values("scale")
            if len(g) < 2:
                ax.axhline(g[f"final_{metric}"].iloc[0], linestyle="--", color="0.4",
                           linewidth=1, label=f"{strategy} (final)")
                continue
            ax.errorbar(g["scale"], g[f"final_{metric}"],
                        yerr=[g[f"final_{metric}"] - g["final_ci_low"],
                              g["final_ci_high"] - g[f"final_{metric}"]],
                        marker="o", capsize=3, label=f"{strategy} (final budget)")
            ax.plot(g["scale"], g[f"mean_{metric}"], marker="s", linestyle=":",
                    label=f"{strategy} (curve mean)")
        ax.set_xlabel("α / spread-matched α")
        ax.set_ylabel(metric)
        ax.set_title(dataset)
        if len(d):
            ax.legend(fontsize=7)
    return _save(fig, out_png, out_pdf)


def _save(fig, out_png, out_pdf) -> tuple[str, str]:
    for path in (out_png, out_pdf):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=150, bbox_inches="tight")
    fig.savefig(out_pdf, bbox_inches="tight")
    plt.close(fig)
    return str(out_png), str(out_pdf)
