"""alvae.analysis.results: loading runs, summaries with t CIs, AULC, the all-negative baseline."""

import numpy as np
import pandas as pd
import pytest

from alvae.analysis.results import (
    all_negative_accuracy,
    aulc,
    dataset_info,
    load_runs,
    majority_class_accuracy,
    summarize,
    trivial_baseline,
)

COLUMNS = ["round", "n_labels", "test_acc", "test_auc", "val_acc", "val_auc", "train_acc",
           "train_loss", "epochs", "train_time_s", "select_time_s", "n_picked"]


def write_metrics(path, n_labels, acc):
    rows = [[r, n, a, a + 0.1, np.nan, np.nan, 0.99, 0.01, 10 + 5 * r, 1.0, 0.1,
             0 if r == 0 else 1000]
            for r, (n, a) in enumerate(zip(n_labels, acc))]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    return path


def runs_table(values: dict) -> pd.DataFrame:
    """{(strategy, seed): [acc per budget]} at budgets 1000, 2000, ... on dataset d."""
    rows = []
    for (s, seed), accs in values.items():
        for r, a in enumerate(accs):
            rows.append({"dataset": "d", "strategy": s, "seed": seed, "round": r,
                         "n_labels": 1000 * (r + 1), "test_acc": a})
    return pd.DataFrame(rows)


def test_load_runs_is_tidy(tmp_path):
    recs = [("mnist", "coreset", 1, write_metrics(tmp_path / "a.csv", [100, 200], [0.5, 0.6])),
            ("mnist", "coreset", 0, write_metrics(tmp_path / "b.csv", [100, 200], [0.4, 0.7]))]
    df = load_runs(recs)
    assert list(df.columns[:5]) == ["dataset", "strategy", "seed", "round", "n_labels"]
    assert set(COLUMNS) <= set(df.columns)
    assert len(df) == 4
    assert df["seed"].tolist() == [0, 0, 1, 1]  # sorted by seed, then round
    assert df["test_acc"].tolist() == [0.4, 0.7, 0.5, 0.6]
    assert df["val_acc"].isna().all()


def test_summary_ci_by_hand():
    # values 0.70, 0.72, 0.74: mean 0.72, sd 0.02; t(0.975, 2) = 4.302653
    # half width = 4.302653 * 0.02 / sqrt(3) = 0.0496828
    df = runs_table({("a", 0): [0.70], ("a", 1): [0.72], ("a", 2): [0.74], ("b", 0): [0.5]})
    s = summarize(df, ["test_acc"]).set_index("strategy")
    assert s.loc["a", "mean"] == pytest.approx(0.72)
    assert s.loc["a", "std"] == pytest.approx(0.02)
    assert s.loc["a", "n"] == 3
    assert s.loc["a", "ci_low"] == pytest.approx(0.72 - 0.0496828, abs=1e-6)
    assert s.loc["a", "ci_high"] == pytest.approx(0.72 + 0.0496828, abs=1e-6)
    # one seed: mean stated, no sd or CI, and n says why
    assert s.loc["b", "mean"] == 0.5 and s.loc["b", "n"] == 1
    assert np.isnan(s.loc["b", "std"]) and np.isnan(s.loc["b", "ci_low"])


def test_summary_skips_all_nan_metric():
    df = runs_table({("a", 0): [0.7, 0.8]})
    df["val_acc"] = np.nan
    s = summarize(df, ["test_acc", "val_acc"])
    assert set(s["metric"]) == {"test_acc"}
    assert s["n_labels"].tolist() == [1000, 2000]


def test_aulc_linear_constant_and_uneven():
    df = runs_table({("lin", 0): [0.5, 0.6, 0.7, 0.8, 0.9], ("const", 0): [0.83] * 5})
    # uneven budgets after round 0: (1000, 0.2), (2000, 1), (4000, 1): area 600 + 2000 = 2600
    # over 3000
    df = pd.concat([df, pd.DataFrame({"dataset": "d", "strategy": "uneven", "seed": 0,
                                      "round": [0, 1, 2, 3], "n_labels": [0, 1000, 2000, 4000],
                                      "test_acc": [0.0, 0.2, 1.0, 1.0]})])
    a = aulc(df, "test_acc").set_index("strategy")
    assert a.loc["lin", "aulc"] == pytest.approx(0.75)  # 0.6 .. 0.9 over 2000 .. 5000
    assert a.loc["const", "aulc"] == pytest.approx(0.83)
    assert a.loc["uneven", "aulc"] == pytest.approx(2600 / 3000)
    assert a.loc["lin", "n_rounds"] == 4 and set(a["first_round"]) == {1}
    assert (a.loc["lin", "n_labels_min"], a.loc["lin", "n_labels_max"]) == (2000, 5000)


def test_aulc_leaves_out_round_0_unless_asked():
    """Issue 27: round 0 is the seed's initial labels, the same point for strategies that
    train alike; in the area it pulls their difference towards 0. The AULC starts at the
    first budget after a query; first_round=0 gives the whole curve."""
    df = runs_table({("x", 0): [0.5, 0.6, 0.8], ("y", 0): [0.5, 0.7, 0.9]})
    after = aulc(df, "test_acc").set_index("strategy")["aulc"]
    assert after["x"] == pytest.approx(0.7) and after["y"] == pytest.approx(0.8)
    whole = aulc(df, "test_acc", first_round=0).set_index("strategy")
    # 0.5..0.6..0.8 over 1000..3000: (0.55 + 0.7) / 2
    assert whole.loc["x", "aulc"] == pytest.approx(0.625)
    assert whole.loc["y", "aulc"] - whole.loc["x", "aulc"] == pytest.approx(0.075)  # not 0.1
    assert whole.loc["x", "n_labels_min"] == 1000 and set(whole["first_round"]) == {0}


def test_aulc_single_round_is_the_value():
    a = aulc(runs_table({("x", 3): [0.4, 0.61]}), "test_acc")
    assert a["aulc"].tolist() == [0.61] and a["seed"].tolist() == [3]
    # a run with round 0 only has queried nothing: no area
    assert aulc(runs_table({("x", 3): [0.61]}), "test_acc").empty


def test_all_negative_accuracy():
    # label 0: 3 of 4 negative; label 1: 1 of 4 negative -> mean 0.5
    y = np.array([[0, 1], [0, 1], [1, 1], [0, 0]])
    assert all_negative_accuracy(y) == pytest.approx(0.5)
    assert all_negative_accuracy(np.array([0, 0, 0, 1])) == pytest.approx(0.75)


def test_trivial_baseline_per_task():
    # binary, 5 of 8 negatives: the majority class scores 0.625 (not the 0.375 of "positive")
    y = np.array([0, 1, 0, 0, 1, 0, 1, 0])
    assert majority_class_accuracy(y) == pytest.approx(0.625)
    assert trivial_baseline("binary", y) == ("majority-class", pytest.approx(0.625))
    # binary with a positive majority: still the majority class, not all-negative
    assert trivial_baseline("binary", 1 - y) == ("majority-class", pytest.approx(0.625))
    assert all_negative_accuracy(1 - y) == pytest.approx(0.375)
    assert trivial_baseline("multi-class", np.array([2, 2, 1, 0, 2])) == (
        "majority-class", pytest.approx(0.6))
    ml = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 0]])
    assert trivial_baseline("multi-label", ml) == ("all-negative", pytest.approx(10 / 12))
    info = dataset_info("chest", "multi-label", ml)
    # label 2 has no positive in this split: left out of the AUC and AP averages
    assert info == {"dataset": "chest", "task": "multi-label", "n_test": 4,
                    "primary_metric": "test_auc", "baseline": "all-negative",
                    "baseline_acc": pytest.approx(10 / 12), "n_outputs": 3,
                    "auc_left_out": 1, "ap_left_out": 1, "test_shared": 0, "val_shared": 0}
    assert dataset_info("chest", "multi-label", ml, primary="test_ap")["primary_metric"] == "test_ap"
    assert dataset_info("pneu", "binary", y)["primary_metric"] == "test_acc"
