"""Labels saved: how many labels random sampling needs to match a strategy.

The field's headline for an AL gain ("random needs N labels to match strategy S
at budget B"): for each dataset, strategy S and budget B after the initial one,
in the dataset's primary metric (results/datasets.csv ``primary_metric``):

1. random's mean curve over the seeds is made monotone (non-decreasing) by
   isotonic regression (pool-adjacent-violators, equal weights), since a curve
   that dips would otherwise give several answers; c(B) is its value at B;
2. d̄ is the mean over seeds of the paired difference S − random at B (the
   seeds share their initial labels, as in the paired tests);
3. the labels random needs, N, is where that curve, linearly interpolated
   between the study's budgets, first reaches c(B) + d̄ (S's mean score at B,
   wherever the curve was not pooled at B);
4. labels saved = N − B, and as a share of random's labels, (N − B) / N.

Where random's curve never reaches the score within the study's budgets the
answer is "> final budget" (``reached`` False, N and the saving NaN): nothing
is extrapolated. Where the score is at or below random's curve at the first
budget, N is that first budget (an upper bound, marked "<= first budget").

The interval: the t interval (``level``, 95%) of the mean paired difference,
[d_lo, d_hi], mapped through the same curve: N(c(B) + d_lo) − B to
N(c(B) + d_hi) − B. The map is non-decreasing and takes 0 to B's own stretch
of the curve, so the interval covers "no labels saved" exactly when the t
interval covers 0, that is when the paired t-test of that budget (unadjusted)
has p >= 1 − level: it agrees with the test by construction, and where S and
random do not differ it covers 0 with the t interval's own probability
(simulated: ``tests/test_labels_saved.py``; a paired bootstrap over 3 seeds, the
earlier method, covered about 75%). Random's curve is taken as known away from
B; the interval is per budget, not adjusted for the many budgets and
strategies, so it can exclude 0 where the family's adjusted test does not.
What the report *claims* follows the adjusted test (:func:`with_tests`): a
budget saves or costs labels only where the paired test of S vs random there
``differs`` after the family's adjustment; elsewhere the saving is
inconclusive and only its interval is shown.

The words (the claims, the table's text columns and the report's sentences) are in
:mod:`alvae.analysis.pages.labels_saved`; this module computes the numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

# the words of the table (its text columns and claims) live with the report's other words
from .pages.labels_saved import (
    BEYOND,
    COSTS,
    INCONCLUSIVE,
    METHOD,
    NO_DIFFERENCE,
    NOT_TESTED,
    SAVES,
    ci_text,
    needed_text,
)

LEVEL = 0.95
REFERENCE = "random"
COLUMNS = ["dataset", "metric", "strategy", "n_labels", "n_seeds", "score", "random_score",
           "mean_diff", "diff_low", "diff_high", "reached", "random_needed",
           "random_needed_text", "labels_saved", "share_saved", "ci_low", "ci_high", "ci_text",
           "level", "interval_method", "final_budget", "test_verdict", "p_adj", "margin",
           "claim", "note"]
_TOL = 1e-12  # scores this close count as reached (float noise in the CSVs)


def monotone_curve(scores: Sequence[float]) -> np.ndarray:
    """The non-decreasing least-squares fit (pool-adjacent-violators, equal
    weights) of ``scores`` given in the order of their budgets. A curve that is
    already non-decreasing comes back unchanged, value for value."""
    y = np.asarray(scores, dtype=float)
    if np.all(np.diff(y) >= 0):
        return y.copy()
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


def labels_needed_many(budgets: Sequence[float], curve: Sequence[float],
                       scores: Sequence[float]) -> np.ndarray:
    """:func:`labels_needed` of each of ``scores`` (vectorised)."""
    b = np.asarray(budgets, dtype=float)
    c = np.asarray(curve, dtype=float)
    x = np.asarray(scores, dtype=float)
    out = np.full(x.shape, np.nan)
    if len(b) == 0:
        return out
    ok = np.isfinite(x)
    # first index whose value reaches the score (the curve is non-decreasing)
    i = np.searchsorted(c, x - _TOL, side="left")
    at_first = ok & (i == 0)
    beyond = ok & (i >= len(b))
    mid = ok & ~at_first & ~beyond
    out[at_first] = b[0]
    out[beyond] = np.inf
    j = i[mid]
    lo, hi = c[j - 1], c[j]
    rise = hi - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(rise > 0, (x[mid] - lo) / rise, 1.0)
    frac = np.clip(frac, 0.0, 1.0)
    out[mid] = b[j - 1] + frac * (b[j] - b[j - 1])
    return out


def labels_needed(budgets: Sequence[float], curve: Sequence[float], score: float) -> float:
    """The smallest number of labels at which the piecewise-linear ``curve``
    (non-decreasing, one value per budget, budgets ascending) reaches
    ``score``: the first budget when the curve starts at or above it, ``inf``
    when it never reaches it (no extrapolation beyond the last budget)."""
    return float(labels_needed_many(budgets, curve, [score])[0])


_T = {}


def _t_quantile(level: float, df: int) -> float:
    key = (level, df)
    if key not in _T:
        _T[key] = float(stats.t.ppf(0.5 + level / 2, df))
    return _T[key]


def saved_rows(R: np.ndarray, S: np.ndarray, budgets: np.ndarray, own: np.ndarray,
               level: float = LEVEL) -> list[dict]:
    """The numbers of one dataset x strategy: ``R`` random's seeds x ``budgets``
    matrix, ``S`` the strategy's seeds x ``own`` matrix (the same seeds, NaN
    where a run has no value). One dict per budget of ``own``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r_mean = np.nanmean(R, axis=0)
        curve = monotone_curve(r_mean)
        first = budgets[0]
        j = np.searchsorted(budgets, own)
        j = np.minimum(j, len(budgets) - 1)
        has = budgets[j] == own  # random ran at B
        Rj = np.where(has, R[:, j], np.nan)
        D = S - Rj  # paired differences, seeds x own
        ok = np.isfinite(D)
        n = ok.sum(axis=0)
        mean = np.where(n > 0, np.where(ok, D, 0).sum(axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(ok, D - mean, 0)
        sd = np.sqrt((dev ** 2).sum(axis=0) / np.maximum(n - 1, 1))
        t = np.array([_t_quantile(level, int(k) - 1) if k >= 2 else np.nan for k in n])
        half = t * sd / np.sqrt(np.maximum(n, 1))
        lo, hi = mean - half, mean + half
        score = np.nanmean(S, axis=0)
        anchor = np.where(has, curve[j], np.nan)
        # random has no value at B: S's mean score, no interval
        target = np.where(has, anchor + mean, score)
        needed, n_lo, n_hi = labels_needed_many(budgets, curve, np.stack([target, anchor + lo,
                                                                          anchor + hi]))
    rows = []
    for k, b in enumerate(own):
        note = ""
        if not has[k]:
            note = "random was not run at this budget: no paired difference, no interval"
        elif n[k] < 2:
            note = f"fewer than 2 paired seeds (n={int(n[k])}): no interval"
        rows.append({"n_labels": int(b), "score": float(score[k]),
                     "random_score": float(r_mean[j[k]]) if has[k] else float("nan"),
                     "n_seeds": int(n[k]) if has[k] else int(np.isfinite(S[:, k]).sum()),
                     "mean_diff": float(mean[k]), "diff_low": float(lo[k]),
                     "diff_high": float(hi[k]), "random_needed_raw": float(needed[k]),
                     "ci_low": float(n_lo[k] - b), "ci_high": float(n_hi[k] - b),
                     "low_clipped": bool(np.isfinite(n_lo[k]) and n_lo[k] <= first < b),
                     "note": note})
    return rows


def labels_saved(runs: pd.DataFrame, primary: Mapping[str, str], reference: str = REFERENCE,
                 level: float = LEVEL, tests: pd.DataFrame | None = None) -> pd.DataFrame:
    """The labels-saved table (:data:`COLUMNS`) of every dataset x strategy x
    budget after the first, in each dataset's ``primary`` metric.

    ``runs``: the tidy table of results/runs.csv (dataset, strategy, seed,
    n_labels and the metric columns). Seeds are paired: only seeds that both
    the strategy and ``reference`` ran are used. ``ci_low``/``ci_high``: the
    interval of the labels saved (module docstring; +inf: beyond the final
    budget; NaN with fewer than 2 seeds). ``tests``: results/tests.csv, whose
    paired test of each strategy vs ``reference`` at that budget (primary
    metric, adjusted within its family) gives ``test_verdict``, ``p_adj``,
    ``margin`` and the row's ``claim`` (:func:`with_tests`)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    for dataset in sorted(runs["dataset"].unique()):
        if dataset not in primary:
            raise ValueError(f"no primary metric for dataset {dataset!r} (results/datasets.csv)")
        if primary[dataset] not in runs.columns:
            raise ValueError(f"runs.csv has no column {primary[dataset]!r}, the primary metric "
                             f"of {dataset!r}")
    # one wide table for every dataset: (dataset, strategy, seed) x budget, in the
    # dataset's primary metric (numpy below, so that many datasets stay cheap)
    metric_of = runs["dataset"].map(primary)
    value = np.full(len(runs), np.nan)
    for m in metric_of.unique():
        rows_m = (metric_of == m).to_numpy()
        value[rows_m] = runs.loc[rows_m, m].to_numpy(dtype=float)
    tidy = pd.DataFrame({"dataset": runs["dataset"].to_numpy(),
                         "strategy": runs["strategy"].to_numpy(), "seed": runs["seed"].to_numpy(),
                         "n_labels": runs["n_labels"].to_numpy(), "value": value})
    wide = tidy.groupby(["dataset", "strategy", "seed", "n_labels"], sort=True)["value"].mean()
    wide = wide.unstack("n_labels")
    all_budgets = np.array(wide.columns, dtype=float)
    matrix = wide.to_numpy(dtype=float)
    ds = wide.index.get_level_values(0).to_numpy()
    st = wide.index.get_level_values(1).to_numpy()
    sd = wide.index.get_level_values(2).to_numpy()
    bounds = np.flatnonzero(np.r_[True, ds[1:] != ds[:-1], True])
    rows = []
    for lo_i, hi_i in zip(bounds[:-1], bounds[1:]):
        dataset = ds[lo_i]
        metric = primary[dataset]
        D, names, seeds_all = matrix[lo_i:hi_i], st[lo_i:hi_i], sd[lo_i:hi_i]
        is_ref = names == reference
        if not is_ref.any():
            continue  # nothing to compare with
        ref_cols = np.isfinite(D[is_ref]).any(axis=0)
        budgets = all_budgets[ref_cols]
        first, final = budgets[0], budgets[-1]
        ref_seeds = seeds_all[is_ref]
        for strategy in sorted(set(names[~is_ref])):
            mine = names == strategy
            seeds = np.intersect1d(seeds_all[mine], ref_seeds)
            own_cols = (np.isfinite(D[mine]).any(axis=0) & (all_budgets > first)
                        & (all_budgets <= final))
            own = all_budgets[own_cols]
            if not len(seeds) or not len(own):
                continue
            R = D[is_ref][np.isin(ref_seeds, seeds)][:, ref_cols]
            S = D[mine][np.isin(seeds_all[mine], seeds)][:, own_cols]
            for r in saved_rows(R, S, budgets, own, level):
                n = r.pop("random_needed_raw")
                b = r["n_labels"]
                reached = bool(np.isfinite(n))
                saved = n - b if reached else float("nan")
                r.update(dataset=dataset, metric=metric, strategy=strategy, reached=reached,
                         random_needed=n if reached else float("nan"),
                         random_needed_text=needed_text(n, first), labels_saved=saved,
                         share_saved=saved / n if reached and n > 0 else float("nan"),
                         ci_text=ci_text(r["ci_low"], r["ci_high"], r.pop("low_clipped")),
                         level=float(level), interval_method=METHOD.format(level=level),
                         final_budget=int(final))
                rows.append(r)
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in
                                      ("test_verdict", "p_adj", "margin", "claim")])
    return with_tests(out, tests, reference)


def with_tests(table: pd.DataFrame, tests: pd.DataFrame | None,
               reference: str = REFERENCE) -> pd.DataFrame:
    """``table`` with the paired test of each row's budget (strategy vs
    ``reference``, the row's metric) from ``tests`` (results/tests.csv):
    ``test_verdict``, ``p_adj`` (adjusted within its family), ``margin``, and
    the row's ``claim``: "saves" or "costs" only where the test ``differs``
    (the sign of the paired difference), "no difference larger than the margin"
    where it is ``equivalent``, else "inconclusive" (or "not tested" where
    ``tests`` has no such row)."""
    out = table.copy()
    out["test_verdict"], out["p_adj"], out["margin"] = "no test row", np.nan, np.nan
    if tests is not None and len(tests) and len(out):
        t = tests.copy()
        ref_b = t["strategy_b"] == reference
        ref_a = t["strategy_a"] == reference
        t = t[ref_a ^ ref_b].copy()
        t["strategy"] = np.where(t["strategy_b"] == reference, t["strategy_a"], t["strategy_b"])
        t = t[["dataset", "strategy", "metric", "n_labels", "verdict", "p_adj", "margin"]]
        keys = ["dataset", "strategy", "metric", "n_labels"]
        merged = out.drop(columns=["test_verdict", "p_adj", "margin"]).merge(
            t.drop_duplicates(keys), on=keys, how="left")
        out["test_verdict"] = merged["verdict"].fillna("no test row").to_numpy()
        out["p_adj"] = merged["p_adj"].to_numpy(dtype=float)
        out["margin"] = merged["margin"].to_numpy(dtype=float)
    out["claim"] = [_claim(v, m) for v, m in zip(out["test_verdict"], out["mean_diff"])]
    return out[COLUMNS]


def _claim(verdict: str, mean_diff: float) -> str:
    from .stats import DIFFERS, EQUIVALENT

    if verdict == DIFFERS and np.isfinite(mean_diff) and mean_diff != 0:
        return SAVES if mean_diff > 0 else COSTS
    if verdict == EQUIVALENT:
        return NO_DIFFERENCE
    if verdict == "no test row":
        return NOT_TESTED
    return INCONCLUSIVE


def primary_metrics(datasets_df: pd.DataFrame) -> dict:
    """dataset -> primary metric, from results/datasets.csv."""
    return dict(zip(datasets_df["dataset"], datasets_df["primary_metric"]))


# ------------------------------------------------------------------ figure
def labels_saved_figure(table: pd.DataFrame, out_png, out_pdf=None,
                        names: Mapping[str, str] | None = None):
    """Labels saved against the budget, one panel per dataset, one line per
    strategy with its interval (module docstring) as a vertical bar; a filled
    marker where the budget's adjusted paired test differs, an open one
    elsewhere. A budget where
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
            line = {k: v for k, v in st.items() if k != "marker"}
            ax.plot(x, y, label=names.get(strategy, strategy), linewidth=1.6, marker=st["marker"],
                    markersize=5, markevery=[], **line)
            shown = g["claim"].isin([SAVES, COSTS]).to_numpy()
            for mask, face in ((shown, st["color"]), (~shown, "white")):
                if mask.any():
                    ax.plot(x[mask], y[mask], linestyle="none", marker=st["marker"], markersize=6,
                            color=st["color"], markerfacecolor=face)
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
        ax.plot([], [], linestyle="none", marker="o", color="0.3", markerfacecolor="0.3",
                label="filled: the adjusted paired test differs")
        ax.plot([], [], linestyle="none", marker="o", color="0.3", markerfacecolor="white",
                label="open: inconclusive, no saving claimed")
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
        fig.suptitle(f"Labels saved (bars: {r['level']:.0%} t interval of the paired score "
                     "difference over seeds, through random's curve, per budget, not adjusted;"
                     "\nan arrowhead: the interval goes on beyond the final budget)", fontsize=10)
    fig.tight_layout()
    paths = [out_png] + ([out_pdf] if out_pdf else [])
    for p in paths:
        Path(p).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return [str(p) for p in paths]
