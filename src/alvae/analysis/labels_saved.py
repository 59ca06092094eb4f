"""Labels saved: how many labels random sampling needs to match a strategy.

The field's headline for an AL gain ("random needs N labels to match strategy S
at budget B"): for each dataset, strategy S and budget B after the initial one,

1. random's mean curve over the seeds (the task's primary metric, results/
   datasets.csv ``primary_metric``) is made monotone (non-decreasing) by
   isotonic regression (pool-adjacent-violators, equal weights), since a curve
   that dips would otherwise give several answers;
2. the labels random needs, N, is where that curve, linearly interpolated
   between the study's budgets, first reaches S's mean score at B;
3. labels saved = N − B, and as a share of random's labels, (N − B) / N.

Where random's curve never reaches the score within the study's budgets the
answer is "> final budget" (``reached`` False, N and the saving NaN): nothing
is extrapolated. Where the score is at or below random's curve at the first
budget, N is that first budget (an upper bound, marked "<= first budget").

The spread over seeds: a percentile bootstrap over seeds (the same resampled
seeds for S and random: the seeds share their initial labels), ``n_boot``
resamples from a generator seeded with ``(boot_seed, dataset, strategy)``, so a
row does not depend on which other strategies are in the table. A resample in
which random never reaches the score counts as beyond the final budget; an
interval end there is written "> final budget".
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

N_BOOT = 2000
BOOT_SEED = 0
LEVEL = 0.95
BEYOND = "> final budget"
AT_FIRST = "<= first budget"
REFERENCE = "random"
COLUMNS = ["dataset", "metric", "strategy", "n_labels", "score", "random_score", "reached",
           "random_needed", "random_needed_text", "labels_saved", "share_saved", "ci_low",
           "ci_high", "ci_text", "n_seeds", "n_boot", "boot_seed", "level", "final_budget"]
_TOL = 1e-12  # scores this close count as reached (float noise in the CSVs)


def monotone_curve(scores: Sequence[float]) -> np.ndarray:
    """The non-decreasing least-squares fit (pool-adjacent-violators, equal
    weights) of ``scores`` given in the order of their budgets. A curve that is
    already non-decreasing comes back unchanged, value for value."""
    y = np.asarray(scores, dtype=float)
    blocks = []  # [sum, count] per pooled block
    for v in y:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    out = []
    for s, c in blocks:
        out += [s / c] * c  # a block of one keeps its value exactly
    return np.asarray(out, dtype=float)


def labels_needed(budgets: Sequence[float], curve: Sequence[float], score: float) -> float:
    """The smallest number of labels at which the piecewise-linear ``curve``
    (non-decreasing, one value per budget, budgets ascending) reaches
    ``score``: the first budget when the curve starts at or above it, ``inf``
    when it never reaches it (no extrapolation beyond the last budget)."""
    b = np.asarray(budgets, dtype=float)
    c = np.asarray(curve, dtype=float)
    if len(b) == 0 or not np.isfinite(score):
        return float("nan")
    if c[0] >= score - _TOL:
        return float(b[0])
    for i in range(len(b) - 1):
        if c[i + 1] >= score - _TOL:
            rise = c[i + 1] - c[i]
            frac = 1.0 if rise <= 0 else min(1.0, max(0.0, (score - c[i]) / rise))
            return float(b[i] + frac * (b[i + 1] - b[i]))
    return float("inf")


def _needed_for(random_matrix: np.ndarray, budgets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Labels random needs (per score) given random's seeds × budgets matrix."""
    curve = monotone_curve(np.nanmean(random_matrix, axis=0))
    return np.array([labels_needed(budgets, curve, s) for s in scores])


def _stable_seed(*parts) -> list[int]:
    return [int(p) if isinstance(p, (int, np.integer)) else zlib.crc32(str(p).encode())
            for p in parts]


def _quantiles(values: np.ndarray, level: float) -> tuple[float, float]:
    """Percentile interval that picks observed values (no interpolation), so
    that +inf ("beyond the final budget") survives as an end."""
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2
    v = np.sort(values[~np.isnan(values)])
    if len(v) == 0:
        return float("nan"), float("nan")
    return (float(np.quantile(v, lo, method="inverted_cdf")),
            float(np.quantile(v, hi, method="inverted_cdf")))


def _matrix(df: pd.DataFrame, metric: str, seeds, budgets) -> np.ndarray:
    piv = df.pivot_table(index="seed", columns="n_labels", values=metric, aggfunc="mean")
    return piv.reindex(index=seeds, columns=budgets).to_numpy(dtype=float)


def _fmt_labels(v: float) -> str:
    return f"{v:,.0f}"


def _needed_text(needed: float, first: float) -> str:
    if np.isinf(needed):
        return BEYOND
    if needed <= first:
        return f"{AT_FIRST} ({_fmt_labels(first)})"
    return _fmt_labels(needed)


def _ci_text(lo: float, hi: float) -> str:
    if np.isnan(lo) or np.isnan(hi):
        return "n/a (fewer than 2 seeds)"
    ends = [BEYOND if np.isinf(v) else _fmt_labels(v) for v in (lo, hi)]
    return f"{ends[0]} to {ends[1]}"


def labels_saved(runs: pd.DataFrame, primary: Mapping[str, str], reference: str = REFERENCE,
                 n_boot: int = N_BOOT, boot_seed: int = BOOT_SEED,
                 level: float = LEVEL) -> pd.DataFrame:
    """The labels-saved table (:data:`COLUMNS`) of every dataset × strategy ×
    budget after the first, in each dataset's ``primary`` metric.

    ``runs``: the tidy table of results/runs.csv (dataset, strategy, seed,
    n_labels and the metric columns). Seeds are paired: only seeds that both
    the strategy and ``reference`` ran are used. ``ci_low``/``ci_high``: the
    bootstrap interval of the labels saved (+inf: beyond the final budget; NaN
    with fewer than 2 seeds)."""
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    rows = []
    for dataset, d in runs.groupby("dataset", sort=True):
        if dataset not in primary:
            raise ValueError(f"no primary metric for dataset {dataset!r} (results/datasets.csv)")
        metric = primary[dataset]
        if metric not in d.columns:
            raise ValueError(f"runs.csv has no column {metric!r}, the primary metric of {dataset!r}")
        ref = d[d["strategy"] == reference]
        if ref.empty:
            continue  # nothing to compare with
        budgets = np.array(sorted(ref["n_labels"].unique()), dtype=float)
        first, final = budgets[0], budgets[-1]
        for strategy, s in d[d["strategy"] != reference].groupby("strategy", sort=True):
            seeds = sorted(set(s["seed"]) & set(ref["seed"]))
            own = np.array([b for b in sorted(s["n_labels"].unique()) if first < b <= final],
                           dtype=float)
            if not seeds or not len(own):
                continue
            R = _matrix(ref, metric, seeds, budgets)
            S = _matrix(s, metric, seeds, own)
            scores = np.nanmean(S, axis=0)
            needed = _needed_for(R, budgets, scores)
            k = len(seeds)
            boot = np.full((n_boot, len(own)), np.nan)
            if k >= 2:
                rng = np.random.default_rng(_stable_seed(boot_seed, dataset, strategy))
                for i in range(n_boot):
                    idx = rng.integers(0, k, size=k)
                    boot[i] = _needed_for(R[idx], budgets, np.nanmean(S[idx], axis=0)) - own
            rand_at = dict(zip(budgets, np.nanmean(R, axis=0)))
            for j, b in enumerate(own):
                n = needed[j]
                reached = bool(np.isfinite(n))
                saved = n - b if reached else float("nan")
                lo, hi = _quantiles(boot[:, j], level) if k >= 2 else (float("nan"),) * 2
                rows.append({
                    "dataset": dataset, "metric": metric, "strategy": strategy,
                    "n_labels": int(b), "score": float(scores[j]),
                    "random_score": float(rand_at.get(b, np.nan)), "reached": reached,
                    "random_needed": n if reached else float("nan"),
                    "random_needed_text": _needed_text(n, first),
                    "labels_saved": saved,
                    "share_saved": saved / n if reached and n > 0 else float("nan"),
                    "ci_low": lo, "ci_high": hi, "ci_text": _ci_text(lo, hi),
                    "n_seeds": k, "n_boot": int(n_boot), "boot_seed": int(boot_seed),
                    "level": float(level), "final_budget": int(final),
                })
    return pd.DataFrame(rows, columns=COLUMNS)


def primary_metrics(datasets_df: pd.DataFrame) -> dict:
    """dataset -> primary metric, from results/datasets.csv."""
    return dict(zip(datasets_df["dataset"], datasets_df["primary_metric"]))


# ------------------------------------------------------------------ report text
def summary_rst(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """One sentence per dataset × strategy about its labels saved at the final
    budget, with the range over the other budgets (reStructuredText)."""
    names = names or {}
    lines = ["Labels saved", "------------", ""]
    if table.empty:
        return "\n".join(lines + ["No strategy was run beside random sampling: no labels-saved "
                                  "table.", ""])
    first = table.iloc[0]
    lines += [f"How many labels random sampling needs to match each strategy's mean score "
              f"(monotone interpolation of random's mean curve; {first['level']:.0%} "
              f"bootstrap interval over seeds, {int(first['n_boot']):,} resamples, seed "
              f"{int(first['boot_seed'])}; ``results/labels_saved.csv``).", ""]
    for (dataset, strategy), g in table.groupby(["dataset", "strategy"], sort=True):
        g = g.sort_values("n_labels")
        r = g.iloc[-1]
        who = names.get(strategy, strategy)
        text = (f"- **{dataset}, {who}** ({r['metric']}): at {_fmt_labels(r['n_labels'])} labels "
                f"it scores {r['score']:.4f}; ")
        if not r["reached"]:
            text += (f"random does not reach that within the study's budgets "
                     f"({BEYOND}, {_fmt_labels(r['final_budget'])}), so it saves ")
            margin = r["final_budget"] - r["n_labels"]
            text += (f"more than {_fmt_labels(margin)} labels" if margin > 0 else
                     "labels, how many this study cannot tell (it would take budgets beyond "
                     "the last)")
        else:
            verb = "saves" if r["labels_saved"] >= 0 else "costs"
            text += (f"random needs {r['random_needed_text']} labels for that, so it {verb} "
                     f"{_fmt_labels(abs(r['labels_saved']))} labels "
                     f"({abs(r['share_saved']):.0%} of random's)")
        text += f"; interval {r['ci_text']} labels saved, {int(r['n_seeds'])} seeds."
        if len(g) > 1:
            others = [("> final" if not x.reached else _fmt_labels(x.labels_saved))
                      + f" at {_fmt_labels(x.n_labels)}" for x in g.iloc[:-1].itertuples()]
            text += " Earlier budgets: " + ", ".join(others) + "."
        lines.append(text)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ figure
def labels_saved_figure(table: pd.DataFrame, out_png, out_pdf=None,
                        names: Mapping[str, str] | None = None):
    """Labels saved against the budget, one panel per dataset, one line per
    strategy with its bootstrap interval as a vertical bar. A budget where
    random never reaches the score is an open triangle at the lower bound
    (final budget − B); an interval that ends beyond the final budget ends in
    a small arrowhead at that bound (it goes on upwards). Strategies are
    dodged sideways so that equal values stay visible."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import style

    names = names or {}
    datasets = sorted(table["dataset"].unique()) if not table.empty else []
    fig, axes = plt.subplots(1, max(len(datasets), 1), figsize=(6.0 * max(len(datasets), 1), 4.4),
                             squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        d = table[table["dataset"] == dataset]
        groups = list(d.groupby("strategy", sort=True))
        span = max(float(d["n_labels"].max() - d["n_labels"].min()), 1.0)
        dodge = 0.015 * span
        for i, (strategy, g) in enumerate(groups):
            g = g.sort_values("n_labels")
            st = style(strategy, i)
            x = g["n_labels"].to_numpy(dtype=float) + (i - (len(groups) - 1) / 2) * dodge
            y = g["labels_saved"].to_numpy(dtype=float)
            lo = g["ci_low"].to_numpy(dtype=float)
            hi = g["ci_high"].to_numpy(dtype=float)
            cap = (g["final_budget"] - g["n_labels"]).to_numpy(dtype=float)
            ax.plot(x, y, label=names.get(strategy, strategy), markersize=5, linewidth=1.6, **st)
            ok = ~np.isnan(lo)
            top = np.where(np.isinf(hi), cap, hi)
            ax.vlines(x[ok], lo[ok], top[ok], color=st["color"], linewidth=1.2, alpha=0.7)
            open_end = ok & np.isinf(hi)
            if open_end.any():
                ax.plot(x[open_end], top[open_end], linestyle="none", marker=6, markersize=7,
                        color=st["color"])
            never = ~g["reached"].to_numpy(dtype=bool)
            if never.any():
                ax.plot(x[never], cap[never], linestyle="none", marker="^", markersize=9,
                        color=st["color"], markerfacecolor="none")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.plot([], [], linestyle="none", marker="^", color="0.3", markerfacecolor="none",
                label=f"{BEYOND}: at least final budget − B")
        metric = d["metric"].iloc[0]
        ax.set_title(f"{dataset}: labels saved over random ({metric})")
        ax.set_xlabel("number of labels (budget B)")
        ax.set_ylabel("labels random needs − B")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    if not datasets:
        axes[0][0].text(0.5, 0.5, "no strategy beside random", ha="center", va="center")
        axes[0][0].axis("off")
    if not table.empty:
        r = table.iloc[0]
        fig.suptitle(f"Labels saved (bars: {r['level']:.0%} bootstrap interval over seeds, "
                     f"{int(r['n_boot']):,} resamples;\nan arrowhead: the interval goes on "
                     f"beyond the final budget)", fontsize=10)
    fig.tight_layout()
    paths = [out_png] + ([out_pdf] if out_pdf else [])
    for p in paths:
        Path(p).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return [str(p) for p in paths]
