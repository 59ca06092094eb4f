"""Paired significance tests between strategies.

Runs with the same seed share their initial labels, so strategies are
compared seed by seed: paired t-test and Wilcoxon signed-rank test on the
per-seed differences at each label budget, Holm-adjusted over the budgets of
one dataset x pair x metric. Edge cases are stated in a ``note`` column
rather than raised or left as silent NaN.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .results import t_interval

GROUP = ["dataset", "strategy_a", "strategy_b", "metric"]
RESULT_COLUMNS = ["n_pairs", "mean_a", "mean_b", "mean_diff", "sd_diff", "ci_low", "ci_high",
                  "t", "p", "p_wilcoxon", "d_z", "p_holm", "significant", "note"]
TEST_COLUMNS = GROUP + ["n_labels"] + RESULT_COLUMNS
AULC_TEST_COLUMNS = GROUP + RESULT_COLUMNS
ZERO_TOL = 1e-12  # differences this close are "equal" (float noise in the CSVs)


def default_pairs(strategies: Iterable[str]) -> list[tuple[str, str]]:
    """Each X vs X_vae (then X_cvae, X_gmvae) where both exist, then each
    non-random strategy vs random."""
    s = list(strategies)
    pairs = [(x, f"{x}_{kind}") for x in s for kind in ("vae", "cvae", "gmvae")
             if f"{x}_{kind}" in s]
    if "random" in s:
        pairs += [(x, "random") for x in s if x != "random"]
    return pairs


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values; NaN entries stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def compare(a: pd.Series, b: pd.Series) -> dict:
    """Paired comparison of two per-seed Series (index: seed). Returns the
    RESULT_COLUMNS except p_holm / significant."""
    a, b = a.dropna(), b.dropna()
    for s, name in ((a, "a"), (b, "b")):
        if s.index.has_duplicates:
            raise ValueError(f"strategy {name}: several values for one seed")
    both = sorted(set(a.index) & set(b.index))
    only = sorted(set(a.index) ^ set(b.index))
    notes = []
    if only:
        notes.append(f"missing rounds for seeds {', '.join(str(s) for s in only)} "
                     f"(paired on the {len(both)} seeds with both values)")
    x = a.loc[both].to_numpy(dtype=float)
    y = b.loc[both].to_numpy(dtype=float)
    d = x - y
    n = len(d)
    row = dict(n_pairs=n, mean_a=np.nan, mean_b=np.nan, mean_diff=np.nan, sd_diff=np.nan,
               ci_low=np.nan, ci_high=np.nan, t=np.nan, p=np.nan, p_wilcoxon=np.nan, d_z=np.nan)
    if n:
        row.update(mean_a=float(x.mean()), mean_b=float(y.mean()), mean_diff=float(d.mean()))
    if n < 2:
        notes.append(f"fewer than 2 seeds (n={n}): no test")
        return {**row, "note": "; ".join(notes)}
    mean, sd, lo, hi = t_interval(d)
    row.update(sd_diff=sd, ci_low=lo, ci_high=hi)
    if np.all(np.abs(d) <= ZERO_TOL):
        notes.append("zero variance in differences: identical values in every seed "
                     "(t undefined; p = 1 for both tests, d_z = 0; not counted in Holm)")
        row.update(mean_diff=0.0, sd_diff=0.0, ci_low=0.0, ci_high=0.0, p=1.0, p_wilcoxon=1.0,
                   d_z=0.0)
        return {**row, "note": "; ".join(notes)}
    if np.all(np.abs(d - d[0]) <= ZERO_TOL):
        notes.append(f"zero variance in differences: constant difference {mean:+.4g} in every "
                     "seed (t and d_z undefined, t-test p NaN)")
        row.update(sd_diff=0.0, ci_low=mean, ci_high=mean)
    else:
        res = stats.ttest_rel(x, y)
        row.update(t=float(res.statistic), p=float(res.pvalue), d_z=mean / sd)
    n_zero = int(np.sum(np.abs(d) <= ZERO_TOL))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["p_wilcoxon"] = float(stats.wilcoxon(x, y).pvalue)
        if n_zero:
            notes.append(f"Wilcoxon dropped {n_zero} zero difference(s)")
    except ValueError as e:
        notes.append(f"Wilcoxon not computable: {e}")
    if np.isnan(row["p_wilcoxon"]) and not any(s.startswith("Wilcoxon not") for s in notes):
        notes.append("Wilcoxon not computable")
    return {**row, "note": "; ".join(notes)}


def _finish(rows: list[dict], columns: list[str], alpha: float) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    # Holm over the budgets actually tested; identical-value rows (p = 1 by
    # convention, e.g. round 0 from shared initial labels) keep p_holm = 1.
    tested = out["t"].notna()
    out["p_holm"] = np.where(out["p"] == 1.0, 1.0, np.nan)
    for _, idx in out[tested].groupby(GROUP, sort=False).groups.items():
        out.loc[idx, "p_holm"] = holm(out.loc[idx, "p"].to_numpy(dtype=float))
    out["significant"] = (out["p_holm"] < alpha).astype(bool)
    out["n_pairs"] = out["n_pairs"].astype(int)
    return out


def _as_list(metric) -> list[str]:
    return [metric] if isinstance(metric, str) else list(metric)


def paired_tests(df: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                 metric: str | Sequence[str] = "test_acc", alpha: float = 0.05) -> pd.DataFrame:
    """One row per dataset x pair x metric x n_labels of the tidy runs table
    (see results.load_runs). mean_diff is a - b. p_holm adjusts p over the
    budgets of one dataset x pair x metric that had a t-test; raw p is kept. A pair with a
    strategy absent from a dataset, or a metric that is all NaN there, is
    skipped."""
    rows = []
    for m in _as_list(metric):
        for dataset, g in df.groupby("dataset", sort=True):
            present = set(g["strategy"])
            for a, b in pairs:
                if a not in present or b not in present:
                    continue
                ga, gb = g[g["strategy"] == a], g[g["strategy"] == b]
                if ga[m].isna().all() and gb[m].isna().all():
                    continue
                for n_labels in sorted(set(ga["n_labels"]) | set(gb["n_labels"])):
                    va = ga[ga["n_labels"] == n_labels].set_index("seed")[m]
                    vb = gb[gb["n_labels"] == n_labels].set_index("seed")[m]
                    rows.append({"dataset": dataset, "strategy_a": a, "strategy_b": b, "metric": m,
                                 "n_labels": int(n_labels), **compare(va, vb)})
    return _finish(rows, TEST_COLUMNS, alpha)


def paired_tests_aulc(aulc_df: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                      alpha: float = 0.05) -> pd.DataFrame:
    """The same tests on per-run AULC (results.aulc, any number of metrics):
    one row per dataset x pair x metric, so p_holm equals p."""
    rows = []
    for (dataset, m), g in aulc_df.groupby(["dataset", "metric"], sort=True):
        present = set(g["strategy"])
        for a, b in pairs:
            if a not in present or b not in present:
                continue
            ga = g[g["strategy"] == a].set_index("seed")
            gb = g[g["strategy"] == b].set_index("seed")
            row = compare(ga["aulc"], gb["aulc"])
            both = sorted(set(ga.index) & set(gb.index))
            cols = ["n_labels_min", "n_labels_max"]
            differ = [s for s in both if tuple(ga.loc[s, cols]) != tuple(gb.loc[s, cols])]
            if differ:
                extra = f"label ranges differ for seeds {', '.join(map(str, differ))}"
                row["note"] = "; ".join(x for x in (row["note"], extra) if x)
            rows.append({"dataset": dataset, "strategy_a": a, "strategy_b": b, "metric": m, **row})
    return _finish(rows, AULC_TEST_COLUMNS, alpha)


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{v:.4g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(df: pd.DataFrame) -> str:
    """A plain Markdown table of ``df`` (floats to 4 significant digits, NaN empty)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for rec in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in rec) + " |")
    return "\n".join(lines) + "\n"
