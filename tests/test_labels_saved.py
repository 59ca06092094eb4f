"""Labels saved (alvae.analysis.labels_saved) on constructed curves with a known answer,
the coverage of its interval under a null, and claims gated by the adjusted test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alvae.analysis.labels_saved import (
    BEYOND,
    COLUMNS,
    labels_needed,
    labels_saved,
    labels_saved_figure,
    monotone_curve,
)
from alvae.analysis.pages.labels_saved import labels_saved_rst

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
    return labels_saved(runs_of(curves), {"d": "test_acc"}, **kw)


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
        # every seed is ahead by the same amount: the paired difference has no spread, so
        # the interval is the estimate itself
        assert t.loc[b, "ci_low"] == pytest.approx(50) and t.loc[b, "ci_high"] == pytest.approx(50)
        assert t.loc[b, "mean_diff"] == pytest.approx(0.05)
    # at the final budget random would need 550 labels: beyond the study, not extrapolated
    assert not t.loc[500, "reached"] and np.isnan(t.loc[500, "random_needed"])
    assert t.loc[500, "random_needed_text"] == BEYOND and np.isnan(t.loc[500, "labels_saved"])
    assert np.isinf(t.loc[500, "ci_high"]) and BEYOND in t.loc[500, "ci_text"]
    assert set(t["n_seeds"]) == {5} and set(t["level"]) == {0.95}
    assert set(t["interval_method"]) == {
        "95% t interval of the paired score difference (strategy - random, over seeds), mapped "
        "through random's monotone mean curve; per budget, not adjusted"}
    assert set(t["claim"]) == {"not tested"}  # no tests table given


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


def test_a_row_does_not_depend_on_the_other_strategies():
    rng = np.random.default_rng(0)
    noisy = {s: (lambda n, o=o: random_curve(n + o)) for s, o in
             (("random", 0), ("a", 30), ("b", -10))}
    runs = runs_of(noisy)
    runs["test_acc"] += rng.normal(0, 0.01, len(runs))
    one = labels_saved(runs, {"d": "test_acc"})
    alone = labels_saved(runs[runs["strategy"] != "b"], {"d": "test_acc"})
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  one[one["strategy"] == "a"].reset_index(drop=True))
    hit = one[one["reached"]]
    assert len(hit) == 7 and (hit["ci_low"] <= hit["labels_saved"]).all()
    assert (hit["labels_saved"] <= hit["ci_high"]).all()


def test_the_interval_is_the_t_interval_of_the_paired_difference_mapped_to_labels():
    """Random's curve is linear, 0.001 per label: the interval in labels is the t interval of
    the paired difference divided by the slope, and it excludes 0 exactly when the paired
    t-test (scipy) has p < 0.05."""
    rng = np.random.default_rng(1)
    rows = []
    for s, shift in (("random", 0.0), ("x", 0.004), ("y", 0.0)):
        for seed in range(3):
            for n in BUDGETS:
                rows.append({"dataset": "d", "strategy": s, "seed": seed, "n_labels": n,
                             "test_acc": random_curve(n) + shift + rng.normal(0, 0.003)})
    runs = pd.DataFrame(rows)
    t = labels_saved(runs, {"d": "test_acc"})
    from alvae.analysis.labels_saved import monotone_curve as mono
    for r in t.itertuples():
        g = runs[runs["n_labels"] == r.n_labels]
        a = g[g["strategy"] == r.strategy].sort_values("seed")["test_acc"].to_numpy()
        b = g[g["strategy"] == "random"].sort_values("seed")["test_acc"].to_numpy()
        d = a - b
        half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
        assert (r.diff_low, r.diff_high) == pytest.approx((d.mean() - half, d.mean() + half))
        curve = mono(runs[runs["strategy"] == "random"].groupby("n_labels")["test_acc"].mean())
        anchor = curve[BUDGETS.index(r.n_labels)]
        want = [labels_needed(BUDGETS, curve, anchor + v) - r.n_labels
                for v in (d.mean() - half, d.mean(), d.mean() + half)]
        got = [r.ci_low, r.random_needed - r.n_labels if r.reached else np.inf, r.ci_high]
        for w, g_ in zip(want, got):
            assert (np.isinf(w) and np.isinf(g_)) or w == pytest.approx(g_) or \
                (w == BUDGETS[0] - r.n_labels and g_ == pytest.approx(w))
        covers = r.ci_low <= 0 <= r.ci_high
        assert covers == (stats.ttest_rel(a, b).pvalue >= 0.05)


def _null_studies(n_studies, seeds, rng, budgets=np.arange(500, 3001, 500), shift=0.0):
    """Many studies in one runs table (one dataset each): random and a strategy with the
    same true curve (``shift`` above it after the first budget), a seed effect they share
    (the initial labels) and run noise."""
    mu = 0.84 - 0.12 * np.exp(-budgets / 1200)
    shared = rng.normal(0, 0.01, (n_studies, seeds, 1))
    idx = np.indices((n_studies, seeds, len(budgets))).reshape(3, -1)
    frames = []
    for name, up in (("random", 0.0), ("s", shift)):
        values = (mu + np.where(budgets > budgets[0], up, 0.0) + shared
                  + rng.normal(0, 0.006, (n_studies, seeds, len(budgets))))
        frames.append(pd.DataFrame({"dataset": idx[0], "strategy": name, "seed": idx[1],
                                    "n_labels": budgets[idx[2]], "test_acc": values.reshape(-1)}))
    return pd.concat(frames, ignore_index=True)


def test_the_interval_covers_zero_under_a_null_at_three_seeds():
    """Issue 27: the earlier paired bootstrap covered about 75% at 3 seeds (the range of
    three estimates). Under a null (the strategy's true curve is random's), the t interval
    mapped to labels covers "no labels saved" with the t interval's own probability:
    measured with this simulation (seed 27, 1,000 studies x 5 budgets after the first,
    the same generator restarted per seed count): 0.949 at 3 seeds, 0.948 at 5, 0.951 at
    10, 0.950 at 20 (docs/statistics.md); the bootstrap gave 0.745 at 3 seeds on 150 of
    these studies."""
    rng = np.random.default_rng(27)
    runs = _null_studies(1000, 3, rng)
    t = labels_saved(runs, {d: "test_acc" for d in range(1000)})
    assert len(t) == 5000 and set(t["n_seeds"]) == {3}
    coverage = float(((t["ci_low"] <= 0) & (t["ci_high"] >= 0)).mean())
    assert coverage >= 0.93, coverage
    assert coverage <= 0.97, coverage  # not wider than it says either


def test_the_interval_under_a_true_saving():
    """The strategy 0.005 above random's true curve 0.84 - 0.12 exp(-B / 1200): the true
    saving is where that curve reaches the higher score. Where that lies within the study's
    budgets, the interval covers it (measured with this simulation: 0.958 at 3 seeds, 0.964
    at 5, 0.966 at 10; docs/statistics.md). Beside B, random's curve is taken as known, so where the truth
    lies near or beyond the final budget coverage is lower (docs/statistics.md)."""
    rng = np.random.default_rng(28)
    runs = _null_studies(1000, 3, rng, shift=0.005)
    t = labels_saved(runs, {d: "test_acc" for d in range(1000)})
    target = 0.84 - 0.12 * np.exp(-t["n_labels"] / 1200) + 0.005
    truth = -1200 * np.log((0.84 - target) / 0.12) - t["n_labels"]
    inside = (truth + t["n_labels"]) <= 3000
    covered = (t["ci_low"] <= truth) & (truth <= t["ci_high"])
    assert inside.sum() == 4000  # budgets 1000 .. 2500; at 3000 the truth is beyond
    assert covered[inside].mean() >= 0.93, covered[inside].mean()


def test_claims_follow_the_adjusted_test():
    """A budget "saves" or "costs" labels only where the paired test of that budget
    against random differs after its family's adjustment; elsewhere it is inconclusive."""
    t = table({"random": random_curve, "ahead": lambda n: random_curve(n + 50),
               "behind": lambda n: random_curve(n - 40)})
    rows = []
    for s, b, verdict, p_adj in (("ahead", 200, "differs", 0.01), ("ahead", 300, "inconclusive", 0.3),
                                 ("ahead", 400, "differs", 0.02), ("behind", 400, "equivalent", 0.6),
                                 ("behind", 500, "inconclusive", 0.2)):
        rows.append({"dataset": "d", "strategy_a": s, "strategy_b": "random", "metric": "test_acc",
                     "n_labels": b, "verdict": verdict, "p_adj": p_adj, "margin": 0.01})
    rows.append({"dataset": "d", "strategy_a": "behind", "strategy_b": "random", "metric": "test_auc",
                 "n_labels": 300, "verdict": "differs", "p_adj": 0.001, "margin": 0.002})
    tests = pd.DataFrame(rows)
    t = labels_saved(runs_of({"random": random_curve, "ahead": lambda n: random_curve(n + 50),
                              "behind": lambda n: random_curve(n - 40)}), {"d": "test_acc"},
                     tests=tests).set_index(["strategy", "n_labels"])
    assert t.loc[("ahead", 200), "claim"] == "saves" and t.loc[("ahead", 200), "p_adj"] == 0.01
    assert t.loc[("ahead", 300), "claim"] == "inconclusive"
    assert t.loc[("behind", 400), "claim"] == "no difference larger than the margin"
    assert t.loc[("behind", 300), "claim"] == "not tested"  # the test row is another metric's
    assert t.loc[("behind", 300), "test_verdict"] == "no test row"
    every = pd.DataFrame([{"dataset": "d", "strategy_a": "random", "strategy_b": "behind",
                           "metric": "test_acc", "n_labels": b, "verdict": "differs",
                           "p_adj": 0.01, "margin": 0.01} for b in BUDGETS])
    # either order of the pair; the sign comes from the paired difference
    costs = labels_saved(runs_of({"random": random_curve, "behind": lambda n: random_curve(n - 40)}),
                         {"d": "test_acc"}, tests=every)
    assert set(costs["claim"]) == {"costs"}
    text = labels_saved_rst(t.reset_index())
    line = next(x for x in text.splitlines() if x.startswith("- **d, ahead**"))
    # the final budget (500) has no test row: no saving claimed, only the interval
    assert "at 500 labels" in line and "no paired test of this budget" in line
    assert "saves" not in line.split("Earlier budgets")[0]
    assert "at 200 saves 50 (differs, p_adj = 0.01)" in line
    assert "at 300 inconclusive (interval 50 to 50)" in line
    assert "at 400 saves 50 (differs, p_adj = 0.02)" in line
    behind = next(x for x in text.splitlines() if x.startswith("- **d, behind**"))
    assert "**inconclusive** (interval -40 to -40 labels saved)" in behind
    assert "costs" not in behind
    assert "only where the paired test of that budget against random differs" in text


def test_primary_metric_per_dataset_and_one_seed():
    runs = runs_of({"random": random_curve, "ahead": lambda n: random_curve(n + 50)})
    runs["test_auc"] = runs["test_acc"] + 0.2  # a different metric with the same shape
    t = labels_saved(runs, {"d": "test_auc"})
    assert set(t["metric"]) == {"test_auc"}
    assert t.set_index("n_labels").loc[200, "labels_saved"] == pytest.approx(50)
    one = labels_saved(runs[runs["seed"] == 0], {"d": "test_acc"})
    assert one["ci_low"].isna().all() and (one["n_seeds"] == 1).all()
    assert one["note"].str.contains("fewer than 2 paired seeds").all()
    with pytest.raises(ValueError, match="primary metric"):
        labels_saved(runs, {"other": "test_acc"})


def test_summary_and_figure(tmp_path):
    t = table({"random": random_curve, "ahead": lambda n: random_curve(n + 50),
               "far": lambda n: 1.2 + 0 * n})
    tests = pd.DataFrame([{"dataset": "d", "strategy_a": s, "strategy_b": "random",
                           "metric": "test_acc", "n_labels": b, "verdict": "differs",
                           "p_adj": 0.001, "margin": 0.01}
                          for s in ("ahead", "far") for b in BUDGETS])
    from alvae.analysis.labels_saved import with_tests
    t = with_tests(t, tests)
    text = labels_saved_rst(t, {"ahead": "ahead of random"})
    assert "**d, ahead of random** (test_acc, 5 seeds): at 500 labels" in text
    assert ("it **saves** labels, how many this study cannot tell (random would need budgets "
            "beyond the last)") in text
    short = pd.concat([runs_of({"random": random_curve}),
                       runs_of({"short": lambda n: 1.2 + 0 * n}, budgets=BUDGETS[:4])])
    tests_short = tests.assign(strategy_a="short")
    text_short = labels_saved_rst(labels_saved(short, {"d": "test_acc"}, tests=tests_short))
    assert "at 400 labels it scores" in text_short
    assert "it **saves** more than 100 labels" in text_short
    assert "t interval of the paired score difference" in text
    assert "Earlier budgets: at 200 saves 50 (differs, p_adj = 0.001)" in text
    png, pdf = labels_saved_figure(t, tmp_path / "ls.png", tmp_path / "ls.pdf")
    assert (tmp_path / "ls.png").stat().st_size > 5_000 and (tmp_path / "ls.pdf").exists()
