"""alvae.analysis.ranking: PPM counts on a table with a known answer; Friedman, Wilcoxon-Holm and
the Nemenyi critical value against scipy and published values."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from alvae.analysis.ranking import (
    block_means,
    cliques,
    friedman,
    mean_ranks,
    nemenyi_cd,
    pairwise_penalty,
    ppm,
    rank_table,
    smallest_p,
    wilcoxon_holm,
    with_primary,
)
from alvae.analysis.stats import holm

NOISE = [0.000, 0.004, -0.003, 0.002, -0.001]  # per seed, shared by all strategies


def table(levels: dict, datasets=("d1", "d2"), budgets=(100, 200), jitter=None):
    """levels: {strategy: offset}; every (dataset, budget, seed) gets base + offset + noise."""
    rows = []
    for d in datasets:
        for b in budgets:
            for s, off in levels.items():
                for seed, e in enumerate(NOISE):
                    j = 0.0 if jitter is None else jitter(s, d, b, seed)
                    rows.append(dict(dataset=d, strategy=s, seed=seed, round=b // 100,
                                     n_labels=b, test_acc=0.5 + b / 1000 + off + e + j))
    return pd.DataFrame(rows)


def test_ppm_known_answer():
    # a beats b by 0.05 with a small seed-dependent spread: significant in all 4 cells;
    # c equals b plus noise in d1 only, and is far ahead of both on d2 -> wins 2 of 4 cells
    def jitter(s, d, b, seed):
        return {"a": 0.001 * seed, "b": 0.0, "c": (0.0007 * (seed % 2) if d == "d1"
                                                    else 0.1 + 0.002 * (seed % 3))}[s]
    df = table({"a": 0.05, "b": 0.0, "c": 0.0}, jitter=jitter)
    wins, cells = pairwise_penalty(df, "test_acc")
    assert (cells.to_numpy()[~np.eye(3, dtype=bool)] == 4).all()
    assert wins.loc["a", "b"] == 4 and wins.loc["b", "a"] == 0
    assert wins.loc["c", "b"] == 2 and wins.loc["c", "a"] == 2 and wins.loc["a", "c"] == 2
    assert wins.loc["b", "c"] == 0
    m = ppm(wins, cells)
    assert m.loc["a", "b"] == 1.0 and m.loc["c", "b"] == 0.5 and np.isnan(m.loc["a", "a"])
    # column means: how often each is beaten
    assert np.nanmean(m["b"]) == pytest.approx(0.75)


def test_ppm_identical_and_missing_strategy():
    df = table({"a": 0.0, "b": 0.0})  # identical values: no test, no win
    df = pd.concat([df, table({"c": 0.1}, datasets=("d1",))])
    wins, cells = pairwise_penalty(df, "test_acc")
    assert wins.loc["a", "b"] == 0 and wins.loc["b", "a"] == 0
    assert cells.loc["a", "b"] == 4 and cells.loc["a", "c"] == 2
    assert wins.loc["c", "a"] == 0  # c - a constant 0.1 in every seed: t undefined, no win


def _blocks(seed=0, n=12, k=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k)) + np.arange(k) * 0.6
    x[0, 1] = x[0, 2]  # a tie
    return pd.DataFrame(x, columns=[f"s{i}" for i in range(k)])


@pytest.mark.parametrize("seed", range(3))
def test_friedman_against_scipy(seed):
    b = _blocks(seed)
    chi2, p = friedman(b)
    ref = sps.friedmanchisquare(*[b[c] for c in b.columns])
    assert chi2 == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)


def test_friedman_and_ranks_by_hand():
    # 3 blocks, 3 strategies, always a > b > c: ranks (1, 2, 3); chi2 = 12/(3*3*4) * (9+36+81)
    # ... in rank sums of ascending ranks: (3,6,9) -> 12/36*126 - 3*3*4 = 42 - 36 = 6
    b = pd.DataFrame({"a": [3.0, 3, 3], "b": [2.0, 2, 2], "c": [1.0, 1, 1]})
    chi2, p = friedman(b)
    assert chi2 == pytest.approx(6.0) and p == pytest.approx(np.exp(-3.0))  # chi2(2) sf = e^-x/2
    assert mean_ranks(b).to_dict() == {"a": 1.0, "b": 2.0, "c": 3.0}


def test_wilcoxon_holm_against_scipy():
    b = _blocks(1, n=15, k=3)
    got = wilcoxon_holm(b)
    raw = [sps.wilcoxon(b[x], b[y]).pvalue for x, y in (("s0", "s1"), ("s0", "s2"), ("s1", "s2"))]
    assert got["p_wilcoxon"].to_numpy() == pytest.approx(raw)
    assert got["p_holm"].to_numpy() == pytest.approx(holm(raw))
    assert (got["significant"] == (got["p_holm"] < 0.05)).all()


def test_nemenyi_two_tailed_critical_values():
    # Demšar 2006, Table 5(a), alpha = 0.05: q = 1.960, 2.343, 2.569, 2.728 for k = 2..5.
    # The one-tailed mistake would give 1.645 for k = 2.
    for k, q in ((2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728)):
        assert nemenyi_cd(k, 6) == pytest.approx(q * np.sqrt(k * (k + 1) / 36), abs=2e-3)
    assert nemenyi_cd(2, 1) == pytest.approx(sps.norm.ppf(0.975) * 1.0, abs=1e-3)


def test_cliques_and_rank_table():
    sig = pd.DataFrame({"strategy_a": ["a", "a", "b"], "strategy_b": ["b", "c", "c"],
                        "significant": [False, True, False]})
    assert cliques(["a", "b", "c"], sig) == [["a", "b"], ["b", "c"]]
    df = table({"a": 0.05, "b": 0.0, "c": -0.05}, budgets=(100, 200, 300))
    pairs, info = rank_table(df, "test_acc")
    assert info["n_blocks"] == 6 and info["k"] == 3
    assert list(info["mean_ranks"]) == ["a", "b", "c"]
    assert info["friedman_chi2"] == pytest.approx(12.0)  # 6 blocks, perfect agreement: n(k-1)
    bm = block_means(df, "test_acc")
    assert bm.shape == (6, 3)
    assert pairs.loc[0, "mean_rank_a"] == 1.0 and pairs.loc[0, "mean_rank_b"] == 2.0


def test_smallest_attainable_p_against_scipy():
    # all differences of one sign is the extreme of the exact Wilcoxon distribution
    for n in (2, 3, 5, 8):
        x, y = np.arange(1.0, n + 1), np.zeros(n)
        assert smallest_p(n)[0] == pytest.approx(sps.wilcoxon(x, y).pvalue)
    assert smallest_p(3) == (0.25, 0.25)  # Holm over 1 pair: the raw p
    assert smallest_p(3, 28) == (0.25, 1.0)
    assert smallest_p(10, 3) == pytest.approx((2 / 1024, 6 / 1024))
    assert np.isnan(smallest_p(0)[0])


def test_three_blocks_cannot_separate_any_pair():
    # 3 budgets after the first query, one dataset: a always first, c always last
    df = table({"a": 0.05, "b": 0.0, "c": -0.05}, datasets=("d1",), budgets=(100, 200, 300))
    pairs, info = rank_table(df, "test_acc")
    assert info["n_blocks"] == 3 and info["min_p_wilcoxon"] == 0.25
    assert info["n_pairs"] == 3 and info["min_p_holm"] == 0.75 and not info["separable"]
    assert not pairs["significant"].any() and pairs["p_wilcoxon"].min() >= 0.25
    _, many = rank_table(table({"a": 0.05, "b": 0.0}, budgets=range(100, 700, 100)), "test_acc")
    assert many["n_blocks"] == 12 and many["separable"]


def test_round_zero_is_left_out_of_cells_and_blocks():
    df = table({"a": 0.05, "b": 0.0}, budgets=(0, 100, 200))  # round = budget // 100
    assert sorted(df["round"].unique()) == [0, 1, 2]
    assert block_means(df, "test_acc").shape == (4, 2)  # 2 datasets x 2 budgets after a query
    wins, cells = pairwise_penalty(df, "test_acc")
    assert cells.loc["a", "b"] == 4


def test_primary_column_per_dataset():
    df = table({"a": 0.05, "b": 0.0})
    df["test_auc"] = 1 - df["test_acc"]  # reversed order on AUC
    both = with_primary(df, {"d1": "test_acc", "d2": "test_auc"})
    bm = block_means(both, "primary")
    assert (bm.loc["d1", "a"] > bm.loc["d1", "b"]).all() and (bm.loc["d2", "a"] < bm.loc["d2", "b"]).all()


def test_blocks_are_independent_only_when_each_is_its_own_dataset():
    """Issue 27: budgets of one dataset share runs and seeds; the Friedman p over them is
    descriptive. One block per dataset: a test."""
    levels = {"a": 0.8, "b": 0.7, "c": 0.6}
    _, info = rank_table(table(levels, datasets=("d1",), budgets=(100, 200, 300)), "test_acc")
    assert info["n_blocks"] == 3 and info["n_datasets"] == 1
    assert info["independent_blocks"] is False
    _, info = rank_table(table(levels, datasets=("d1", "d2", "d3"), budgets=(100,)), "test_acc")
    assert info["n_blocks"] == 3 and info["n_datasets"] == 3
    assert info["independent_blocks"] is True
    _, info = rank_table(table(levels, datasets=("d1", "d2"), budgets=(100, 200)), "test_acc")
    assert info["n_datasets"] == 2 and info["independent_blocks"] is False
