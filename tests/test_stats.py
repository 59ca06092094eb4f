"""alvae.stats: paired tests against scipy, Holm by hand, edge cases as notes."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from alvae.stats import (default_pairs, holm, paired_tests, paired_tests_aulc, to_markdown)

A = {0: [0.80, 0.85, 0.90], 1: [0.82, 0.86, 0.91], 2: [0.85, 0.84, 0.93],
     3: [0.81, 0.88, 0.92], 4: [0.84, 0.87, 0.95]}
B = {0: [0.79, 0.85, 0.91], 1: [0.80, 0.83, 0.90], 2: [0.82, 0.86, 0.90],
     3: [0.80, 0.85, 0.93], 4: [0.81, 0.84, 0.92]}


def runs(values: dict, dataset="d") -> pd.DataFrame:
    """{strategy: {seed: [test_acc per budget 1000, 2000, ...]}} -> tidy runs table."""
    rows = [{"dataset": dataset, "strategy": s, "seed": seed, "round": r,
             "n_labels": 1000 * (r + 1),
             "test_acc": v, "test_auc": v + 0.05}
            for s, per_seed in values.items() for seed, vals in per_seed.items()
            for r, v in enumerate(vals)]
    return pd.DataFrame(rows)


def test_default_pairs():
    got = default_pairs(["random", "entropy", "coreset", "coreset_vae", "lloss"])
    assert got == [("coreset", "coreset_vae"), ("entropy", "random"), ("coreset", "random"),
                   ("coreset_vae", "random"), ("lloss", "random")]
    assert default_pairs(["coreset", "coreset_vae"]) == [("coreset", "coreset_vae")]
    assert default_pairs(["coreset", "coreset_gmvae", "coreset_cvae", "coreset_vae@0.5"]) == [
        ("coreset", "coreset_cvae"), ("coreset", "coreset_gmvae")]


def test_against_scipy_per_budget():
    t = paired_tests(runs({"coreset": A, "coreset_vae": B}), [("coreset", "coreset_vae")],
                     ["test_acc", "test_auc"])
    assert len(t) == 6 and set(t["metric"]) == {"test_acc", "test_auc"}
    acc = t[t["metric"] == "test_acc"].set_index("n_labels")
    for r, n in enumerate([1000, 2000, 3000]):
        a = np.array([A[s][r] for s in range(5)])
        b = np.array([B[s][r] for s in range(5)])
        row = acc.loc[n]
        ref = sps.ttest_rel(a, b)
        assert row["n_pairs"] == 5
        assert row["mean_a"] == pytest.approx(a.mean()) and row["mean_b"] == pytest.approx(b.mean())
        assert row["mean_diff"] == pytest.approx((a - b).mean())
        assert row["t"] == pytest.approx(ref.statistic)
        assert row["p"] == pytest.approx(ref.pvalue)
        assert row["p_wilcoxon"] == pytest.approx(sps.wilcoxon(a, b).pvalue)
        assert row["d_z"] == pytest.approx((a - b).mean() / (a - b).std(ddof=1))
    # Holm over the 3 budgets of this dataset x pair x metric, raw p kept
    p = acc["p"].to_numpy()
    order = np.argsort(p)
    expect = np.maximum.accumulate(np.minimum(1, (3 - np.arange(3)) * p[order]))
    assert acc["p_holm"].to_numpy()[order] == pytest.approx(expect)
    assert (acc["significant"] == (acc["p_holm"] < 0.05)).all()


def test_ci_of_mean_difference_by_hand():
    # differences 0.01 0.02 0.03 0.01 0.03: mean 0.02, sd 0.01, t(0.975, 4) = 2.776445
    # half width 2.776445 * 0.01 / sqrt(5) = 0.0124166; t = 0.02 / (0.01/sqrt(5)) = 4.47214; d_z = 2
    a = {s: [v] for s, v in enumerate([0.80, 0.82, 0.85, 0.81, 0.84])}
    b = {s: [v] for s, v in enumerate([0.79, 0.80, 0.82, 0.80, 0.81])}
    row = paired_tests(runs({"x": a, "y": b}), [("x", "y")]).iloc[0]
    assert row["mean_diff"] == pytest.approx(0.02)
    assert row["sd_diff"] == pytest.approx(0.01)
    assert row["ci_low"] == pytest.approx(0.0075834, abs=1e-6)
    assert row["ci_high"] == pytest.approx(0.0324166, abs=1e-6)
    assert row["t"] == pytest.approx(4.47214, abs=1e-4)
    assert row["d_z"] == pytest.approx(2.0)
    assert row["note"] == ""


def test_holm_by_hand():
    # sorted 0.01*4 = 0.04, 0.03*3 = 0.09, 0.04*2 = 0.08 -> 0.09 (monotone), 0.20*1 = 0.20
    assert holm([0.01, 0.04, 0.03, 0.20]) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    got = holm([0.01, np.nan, 0.04])  # NaN not counted: m = 2
    assert got[0] == pytest.approx(0.02) and np.isnan(got[1]) and got[2] == pytest.approx(0.04)
    assert holm([0.6, 0.5]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_one_seed():
    row = paired_tests(runs({"x": {0: [0.8]}, "y": {0: [0.7]}}), [("x", "y")]).iloc[0]
    assert row["n_pairs"] == 1
    assert row["mean_diff"] == pytest.approx(0.1)
    assert np.isnan(row["p"]) and np.isnan(row["p_holm"]) and not row["significant"]
    assert "fewer than 2 seeds" in row["note"]


def test_identical_values():
    same = {s: [0.9] for s in range(4)}
    row = paired_tests(runs({"x": same, "y": same}), [("x", "y")]).iloc[0]
    assert "zero variance in differences" in row["note"] and "identical" in row["note"]
    assert row["p"] == 1.0 and row["p_wilcoxon"] == 1.0 and row["d_z"] == 0.0
    assert row["p_holm"] == 1.0 and not row["significant"]


def test_identical_budget_not_counted_in_holm():
    # budget 1000 identical (shared initial labels), 2000 and 3000 tested: Holm with m = 2
    x = {s: [0.5, 0.60 + 0.01 * s, 0.70 + 0.02 * s] for s in range(5)}
    y = {s: [0.5, 0.58 + 0.012 * s, 0.69 + 0.019 * s] for s in range(5)}
    t = paired_tests(runs({"x": x, "y": y}), [("x", "y")]).set_index("n_labels")
    assert t.loc[1000, "p"] == 1.0 and t.loc[1000, "p_holm"] == 1.0
    assert "not counted in Holm" in t.loc[1000, "note"]
    p = t.loc[[2000, 3000], "p"].to_numpy()
    assert t.loc[[2000, 3000], "p_holm"].to_numpy() == pytest.approx(holm(p))
    assert holm(p)[np.argmin(p)] == pytest.approx(2 * p.min())


def test_constant_nonzero_difference():
    x = {s: [0.5 + 0.1 * s] for s in range(5)}
    y = {s: [0.5 + 0.1 * s - 0.25] for s in range(5)}
    row = paired_tests(runs({"x": x, "y": y}), [("x", "y")]).iloc[0]
    assert "zero variance in differences" in row["note"]
    assert "constant difference +0.25" in row["note"]
    assert np.isnan(row["p"]) and np.isnan(row["t"]) and np.isnan(row["d_z"])
    assert row["mean_diff"] == pytest.approx(0.25)
    assert row["p_wilcoxon"] == pytest.approx(0.0625)  # 5 positive differences, exact test


def test_missing_rounds_pair_on_common_seeds():
    b = {s: list(v) for s, v in B.items()}
    b[4] = b[4][:2]  # seed 4 of y stopped before the third budget
    t = paired_tests(runs({"x": A, "y": b}), [("x", "y")]).set_index("n_labels")
    assert t.loc[1000, "note"] == "" and t.loc[1000, "n_pairs"] == 5
    row = t.loc[3000]
    assert row["n_pairs"] == 4 and "missing rounds for seeds 4" in row["note"]
    a4 = [A[s][2] for s in range(4)]
    b4 = [B[s][2] for s in range(4)]
    assert row["p"] == pytest.approx(sps.ttest_rel(a4, b4).pvalue)


def test_absent_strategy_and_dataset_split():
    df = pd.concat([runs({"x": A, "y": B}, "d1"), runs({"x": A}, "d2")])
    t = paired_tests(df, [("x", "y"), ("x", "nope")])
    assert set(t["dataset"]) == {"d1"} and len(t) == 3


def test_aulc_tests():
    rows = [{"dataset": "d", "strategy": s, "seed": seed, "metric": "test_acc", "aulc": v,
             "n_rounds": 3, "n_labels_min": 1000, "n_labels_max": 3000 if seed else 2000}
            for s, vals in (("x", [0.8, 0.82, 0.85, 0.81]), ("y", [0.79, 0.8, 0.83, 0.8]))
            for seed, v in enumerate(vals)]
    rows[4]["n_labels_max"] = 3000  # y's seed 0 covers a different range than x's seed 0
    t = paired_tests_aulc(pd.DataFrame(rows), [("x", "y")])
    assert len(t) == 1
    row = t.iloc[0]
    ref = sps.ttest_rel([0.8, 0.82, 0.85, 0.81], [0.79, 0.8, 0.83, 0.8])
    assert row["p"] == pytest.approx(ref.pvalue) and row["p_holm"] == pytest.approx(ref.pvalue)
    assert "label ranges differ for seeds 0" in row["note"]


def test_to_markdown():
    t = paired_tests(runs({"x": A, "y": B}), [("x", "y")])
    md = to_markdown(t)
    lines = md.strip().splitlines()
    assert lines[0].startswith("| dataset | strategy_a | strategy_b | metric | n_labels |")
    assert lines[1].count("---") == len(t.columns)
    assert len(lines) == 2 + len(t)
    assert all(line.count("|") == len(t.columns) + 1 for line in lines)
    assert "| d | x | y | test_acc | 1000 | 5 |" in md
