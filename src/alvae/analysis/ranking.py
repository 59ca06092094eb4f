"""Rankings across datasets and budgets: the pairwise penalty matrix (Ash et
al. 2020, BADGE; Lüth et al. 2023) and mean ranks with a Friedman test,
pairwise Wilcoxon-Holm tests and a critical-difference diagram (Demšar 2006;
Benavoli et al. 2016).

A *cell* is one (dataset, label budget) after the first query: round 0 (the
initial labels, before any query) is left out, as in the per-budget tests
(alvae.analysis.stats). The PPM counts, for each ordered pair (A, B), the cells where A
beats B: two-sided paired t-test over the seeds with p < alpha (unadjusted, as
in BADGE) and a positive mean difference; each entry is divided by the number
of cells where both strategies ran. The ranks use one *block* per cell holding
every strategy: the mean over seeds of each strategy, rank 1 the highest.

Budgets of one dataset are not independent blocks (they share the dataset's
runs and seeds): over them the Friedman and Wilcoxon p-values are descriptive,
and the report calls them so; only blocks that are independent datasets (one
block per dataset) make them tests (``independent_blocks``).

What the blocks can resolve is stated, not left to the reader: with n blocks
the exact two-sided Wilcoxon signed-rank test cannot go below 2 / 2^n, so with
m pairs Holm's smallest adjusted p is at least m 2 / 2^n (see
:func:`smallest_p`); when that is not below alpha no pair can be separated.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from .stats import compare, holm

CELL = ["dataset", "n_labels"]
PRIMARY_COLUMN = "primary"  # the ranking on each dataset's primary metric
EXACT_MAX_N = 50  # scipy.stats.wilcoxon uses the exact distribution up to here


def after_first_query(runs: pd.DataFrame) -> pd.DataFrame:
    """The rows measured after at least one query (round > 0); a table
    without a ``round`` column is returned whole."""
    if "round" not in runs.columns:
        return runs
    return runs[runs["round"] > 0]


def with_primary(runs: pd.DataFrame, primary: dict[str, str]) -> pd.DataFrame:
    """``runs`` with a column ``primary`` holding each dataset's primary metric
    ({dataset: metric}); ranks are within a block, so mixing metrics across
    datasets is well defined."""
    out = runs.copy()
    out[PRIMARY_COLUMN] = np.nan
    for dataset, m in primary.items():
        rows = out["dataset"] == dataset
        if m in out.columns:
            out.loc[rows, PRIMARY_COLUMN] = out.loc[rows, m]
    return out


def smallest_p(n_blocks: int, n_pairs: int = 1) -> tuple[float, float]:
    """(smallest two-sided Wilcoxon signed-rank p over ``n_blocks`` blocks,
    smallest Holm-adjusted p over ``n_pairs`` pairs). Exact distribution (what
    scipy uses up to 50 blocks): all differences of one sign, 2 / 2^n; above
    that the normal approximation at the extreme statistic."""
    n = int(n_blocks)
    if n < 1:
        return float("nan"), float("nan")
    if n <= EXACT_MAX_N:
        p = 2.0 ** (1 - n)
    else:
        z = np.sqrt(3.0 * n * (n + 1) / (2 * n + 1))
        p = float(2 * sps.norm.sf(z))
    return float(min(1.0, p)), float(min(1.0, max(1, n_pairs) * p))


def _strategies(runs: pd.DataFrame, strategies: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(runs["strategy"]))
    return [s for s in (strategies or present) if s in present]


def pairwise_penalty(runs: pd.DataFrame, metric: str, alpha: float = 0.05,
                     strategies: Sequence[str] | None = None):
    """(wins, cells): square DataFrames indexed by strategy (rows A, columns
    B). wins[A, B] counts the cells where A beats B significantly, cells[A, B]
    the cells where both ran; the PPM is wins / cells."""
    names = _strategies(runs, strategies)
    wins = pd.DataFrame(0, index=names, columns=names, dtype=int)
    cells = pd.DataFrame(0, index=names, columns=names, dtype=int)
    if metric not in runs:
        return wins, cells
    runs = after_first_query(runs)
    data = runs[runs["strategy"].isin(names)].dropna(subset=[metric])
    for _, g in data.groupby(CELL, sort=True):
        by = {s: gs.set_index("seed")[metric] for s, gs in g.groupby("strategy")}
        for a in by:
            for b in by:
                if a == b:
                    continue
                cells.loc[a, b] += 1
                r = compare(by[a], by[b], alpha, power=False)
                if r["p"] < alpha and r["mean_diff"] > 0:
                    wins.loc[a, b] += 1
    return wins, cells


def ppm(wins: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """wins / cells (NaN where the pair never met); the diagonal is NaN."""
    out = wins / cells.where(cells > 0)
    for s in out.index:
        out.loc[s, s] = np.nan
    return out.astype(float)


def block_means(runs: pd.DataFrame, metric: str,
                strategies: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean over seeds per cell (rows) and strategy (columns); only cells
    after the first query where every strategy has a value."""
    names = _strategies(runs, strategies)
    if metric not in runs:
        return pd.DataFrame(columns=names, dtype=float)
    runs = after_first_query(runs)
    d = runs[runs["strategy"].isin(names)].dropna(subset=[metric])
    table = d.groupby(CELL + ["strategy"])[metric].mean().unstack("strategy")
    return table.reindex(columns=names).dropna()


def mean_ranks(blocks: pd.DataFrame) -> pd.Series:
    """Mean rank of each strategy over the blocks (1 = highest value, ties share
    the average rank)."""
    ranks = blocks.apply(lambda row: pd.Series(sps.rankdata(-row.to_numpy()), index=row.index),
                         axis=1)
    return ranks.mean(axis=0)


def friedman(blocks: pd.DataFrame) -> tuple[float, float]:
    """Friedman chi-square (with the tie correction) and its p-value over the
    blocks (rows) for the strategies (columns); NaN for < 2 blocks or < 2
    strategies or when every block is a complete tie."""
    n, k = blocks.shape
    if n < 2 or k < 2:
        return float("nan"), float("nan")
    r = np.vstack([sps.rankdata(row) for row in blocks.to_numpy(dtype=float)])
    ssum = r.sum(axis=0)
    ties = 0.0
    for row in r:
        _, t = np.unique(row, return_counts=True)
        ties += float((t ** 3 - t).sum())
    c = 1.0 - ties / (n * k * (k * k - 1))
    if c <= 0:
        return float("nan"), float("nan")
    chi2 = (12.0 / (n * k * (k + 1)) * float((ssum ** 2).sum()) - 3.0 * n * (k + 1)) / c
    return float(chi2), float(sps.chi2.sf(chi2, k - 1))


def nemenyi_cd(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of mean ranks, q_alpha sqrt(k(k+1)/(6n)),
    with q_alpha the *two-tailed* studentized-range quantile divided by sqrt 2
    (Demšar 2006, Table 5a: 1.960 for k = 2, 2.343 for k = 3)."""
    if k < 2 or n < 1:
        return float("nan")
    q = sps.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n)))


def wilcoxon_holm(blocks: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Two-sided Wilcoxon signed-rank test between each pair of strategies over
    the blocks, Holm-adjusted over all pairs. A pair with every difference
    zero gets p = NaN and is not counted."""
    names = list(blocks.columns)
    rows = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            x, y = blocks[a].to_numpy(float), blocks[b].to_numpy(float)
            p = np.nan
            if len(x) >= 1 and np.any(x != y):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    p = float(sps.wilcoxon(x, y).pvalue)
            rows.append({"strategy_a": a, "strategy_b": b, "n_blocks": len(x), "p_wilcoxon": p})
    out = pd.DataFrame(rows, columns=["strategy_a", "strategy_b", "n_blocks", "p_wilcoxon"])
    out["p_holm"] = holm(out["p_wilcoxon"].to_numpy(float)) if len(out) else []
    out["significant"] = (out["p_holm"] < alpha).astype(bool)
    return out


def cliques(order: Sequence[str], pairwise: pd.DataFrame) -> list[list[str]]:
    """Maximal runs of strategies, consecutive in mean-rank order, with no
    significant pair inside (the bars of a CD diagram); runs of one left out."""
    sig = {frozenset((r.strategy_a, r.strategy_b)) for r in pairwise.itertuples() if r.significant}
    runs = []
    for i in range(len(order)):
        j = i
        while j + 1 < len(order) and all(frozenset((order[m], order[j + 1])) not in sig
                                         for m in range(i, j + 1)):
            j += 1
        if j > i:
            runs.append(list(order[i:j + 1]))
    return [r for r in runs if not any(set(r) < set(o) for o in runs)]


def rank_table(runs: pd.DataFrame, metric: str, alpha: float = 0.05,
               strategies: Sequence[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Pairwise Wilcoxon-Holm table (with each strategy's mean rank) and a dict
    of the Friedman test: chi2, p, n_blocks, k, nemenyi_cd, mean_ranks, and
    what the blocks can resolve: min_p_wilcoxon, min_p_holm (:func:`smallest_p`
    over the k(k-1)/2 pairs) and separable (min_p_holm < alpha). n_datasets and
    independent_blocks (one block per dataset): blocks that are budgets of one
    dataset share its runs and seeds, so they are not independent, and the
    Friedman and Wilcoxon p-values over them describe the ranks; they are not
    tests (the report and the CD figure say "descriptive", never
    "significant")."""
    blocks = block_means(runs, metric, strategies)
    ranks = mean_ranks(blocks) if len(blocks) else pd.Series(dtype=float)
    chi2, p = friedman(blocks)
    pairs = wilcoxon_holm(blocks, alpha) if len(blocks) else wilcoxon_holm(blocks.iloc[:0], alpha)
    pairs.insert(2, "mean_rank_a", pairs["strategy_a"].map(ranks))
    pairs.insert(3, "mean_rank_b", pairs["strategy_b"].map(ranks))
    k = blocks.shape[1]
    min_p, min_holm = smallest_p(len(blocks), k * (k - 1) // 2)
    n_datasets = int(blocks.index.get_level_values(0).nunique()) if len(blocks) else 0
    info = {"metric": metric, "friedman_chi2": chi2, "friedman_p": p, "n_blocks": len(blocks),
            "n_datasets": n_datasets,
            "independent_blocks": bool(len(blocks) and n_datasets == len(blocks)),
            "k": k, "nemenyi_cd": nemenyi_cd(k, len(blocks), alpha),
            "mean_ranks": ranks.sort_values().to_dict(), "n_pairs": k * (k - 1) // 2,
            "min_p_wilcoxon": min_p, "min_p_holm": min_holm,
            "separable": bool(k >= 2 and min_holm < alpha)}
    return pairs, info
