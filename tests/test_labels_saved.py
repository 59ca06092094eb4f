"""Labels saved (alvae.analysis.labels_saved) on constructed curves with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alvae.analysis.labels_saved import (BEYOND, COLUMNS, labels_needed, labels_saved, labels_saved_figure,
                                monotone_curve, summary_rst)

BUDGETS = [100, 200, 300, 400, 500]
SEED_SHIFT = {0: -0.02, 1: 0.0, 2: 0.02, 3: 0.01, 4: -0.01}  # per-seed offsets, mean 0


def runs_of(curves: dict, seeds=SEED_SHIFT, budgets=BUDGETS, dataset="d") -> pd.DataFrame:
    """Tidy runs: strategy -> f(n) (the mean curve); each seed shifted by a constant."""
    rows = [{"dataset": dataset, "strategy": s, "seed": seed, "n_labels": n,
             "test_acc": f(n) + shift}
            for s, f in curves.items() for seed, shift in seeds.items() for n in budgets]
    return pd.DataFrame(rows)


def random_curve(n):
    return 0.5 + 0.001 * n


def table(curves, **kw):
    return labels_saved(runs_of(curves), {"d": "test_acc"}, n_boot=kw.pop("n_boot", 300), **kw)


def test_linear_curves_give_the_shift_as_labels_saved():
    t = table({"random": random_curve, "ahead": lambda n: random_curve(n + 50)})
    assert list(t.columns) == COLUMNS
    t = t.set_index("n_labels")
    assert list(t.index) == [200, 300, 400, 500]  # budgets after the initial one
    for b in (200, 300, 400):
        assert t.loc[b, "reached"]
        assert t.loc[b, "random_needed"] == pytest.approx(b + 50)
        assert t.loc[b, "labels_saved"] == pytest.approx(50)
        assert t.loc[b, "share_saved"] == pytest.approx(50 / (b + 50))
        # every resample shifts both curves alike: the saving is 50 in every one
        assert t.loc[b, "ci_low"] == pytest.approx(50) and t.loc[b, "ci_high"] == pytest.approx(50)
    # at the final budget random would need 550 labels: beyond the study, not extrapolated
    assert not t.loc[500, "reached"] and np.isnan(t.loc[500, "random_needed"])
    assert t.loc[500, "random_needed_text"] == BEYOND and np.isnan(t.loc[500, "labels_saved"])
    assert np.isinf(t.loc[500, "ci_high"]) and BEYOND in t.loc[500, "ci_text"]
    assert set(t["n_boot"]) == {300} and set(t["n_seeds"]) == {5}


def test_a_strategy_equal_to_random_saves_nothing():
    t = table({"random": random_curve, "same": random_curve})
    assert (t["labels_saved"] == 0).all() and (t["share_saved"] == 0).all()
    assert (t["random_needed"] == t["n_labels"]).all()
    assert (t["ci_low"] == 0).all() and (t["ci_high"] == 0).all()


def test_a_strategy_random_never_reaches_is_beyond_the_final_budget():
    t = table({"random": random_curve, "far": lambda n: 1.2 + 0 * n})
    assert not t["reached"].any()
    assert (t["random_needed_text"] == BEYOND).all()
    assert t["labels_saved"].isna().all() and t["random_needed"].isna().all()
    assert (t["ci_text"] == f"{BEYOND} to {BEYOND}").all()


def test_a_strategy_behind_random_costs_labels():
    t = table({"random": random_curve, "behind": lambda n: random_curve(n - 40)}).set_index("n_labels")
    assert t.loc[300, "labels_saved"] == pytest.approx(-40)
    assert t.loc[300, "share_saved"] == pytest.approx(-40 / 260)


def test_random_is_made_monotone_before_it_is_inverted():
    # random dips at 300: PAV pools 200 and 300 to their mean 0.70
    assert monotone_curve([0.6, 0.72, 0.68, 0.8]) == pytest.approx([0.6, 0.70, 0.70, 0.8])
    assert list(monotone_curve([0.1, 0.2, 0.3])) == [0.1, 0.2, 0.3]  # unchanged, exactly
    b = [100, 200, 300, 400]
    assert labels_needed(b, [0.6, 0.7, 0.7, 0.8], 0.65) == pytest.approx(150)
    assert labels_needed(b, [0.6, 0.7, 0.7, 0.8], 0.70) == pytest.approx(200)  # first reached
    assert labels_needed(b, [0.6, 0.7, 0.7, 0.8], 0.75) == pytest.approx(350)
    assert labels_needed(b, [0.6, 0.7, 0.7, 0.8], 0.5) == 100  # at the first budget already
    assert labels_needed(b, [0.6, 0.7, 0.7, 0.8], 0.81) == float("inf")


def test_bootstrap_is_seeded_and_a_row_does_not_depend_on_the_other_strategies():
    rng = np.random.default_rng(0)
    noisy = {s: (lambda n, o=o: random_curve(n + o)) for s, o in
             (("random", 0), ("a", 30), ("b", -10))}
    runs = runs_of(noisy)
    runs["test_acc"] += rng.normal(0, 0.01, len(runs))
    one = labels_saved(runs, {"d": "test_acc"}, n_boot=200)
    two = labels_saved(runs, {"d": "test_acc"}, n_boot=200)
    pd.testing.assert_frame_equal(one, two)
    alone = labels_saved(runs[runs["strategy"] != "b"], {"d": "test_acc"}, n_boot=200)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  one[one["strategy"] == "a"].reset_index(drop=True))
    other = labels_saved(runs, {"d": "test_acc"}, n_boot=200, boot_seed=1)
    assert not one["ci_low"].equals(other["ci_low"])  # the seed matters
    assert (one["ci_low"] <= one["ci_high"]).all()


def test_primary_metric_per_dataset_and_one_seed():
    runs = runs_of({"random": random_curve, "ahead": lambda n: random_curve(n + 50)})
    runs["test_auc"] = runs["test_acc"] + 0.2  # a different metric with the same shape
    t = labels_saved(runs, {"d": "test_auc"}, n_boot=50)
    assert set(t["metric"]) == {"test_auc"}
    assert t.set_index("n_labels").loc[200, "labels_saved"] == pytest.approx(50)
    one = labels_saved(runs[runs["seed"] == 0], {"d": "test_acc"}, n_boot=50)
    assert one["ci_low"].isna().all() and (one["n_seeds"] == 1).all()
    with pytest.raises(ValueError, match="primary metric"):
        labels_saved(runs, {"other": "test_acc"})


def test_summary_and_figure(tmp_path):
    t = table({"random": random_curve, "ahead": lambda n: random_curve(n + 50),
               "far": lambda n: 1.2 + 0 * n}, n_boot=100)
    text = summary_rst(t, {"ahead": "ahead of random"})
    assert "**d, ahead of random** (test_acc): at 500 labels" in text
    assert ("random does not reach that within the study's budgets (> final budget, 500), so it "
            "saves labels, how many this study cannot tell") in text
    short = pd.concat([runs_of({"random": random_curve}),
                       runs_of({"short": lambda n: 1.2 + 0 * n}, budgets=BUDGETS[:4])])
    text_short = summary_rst(labels_saved(short, {"d": "test_acc"}, n_boot=20))
    assert "at 400 labels it scores" in text_short
    assert "so it saves more than 100 labels" in text_short
    assert "100 resamples" in text and "Earlier budgets: 50 at 200, 50 at 300, 50 at 400" in text
    png, pdf = labels_saved_figure(t, tmp_path / "ls.png", tmp_path / "ls.pdf")
    assert (tmp_path / "ls.png").stat().st_size > 5_000 and (tmp_path / "ls.pdf").exists()
