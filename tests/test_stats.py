"""alvae.analysis.stats: paired tests against scipy, Holm by hand, edge cases as notes."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from alvae.analysis.power import minimal_detectable_effect, paired_power, seeds_needed
from alvae.analysis.stats import (
    BEFORE_QUERY,
    adjust,
    benjamini_hochberg,
    default_metrics,
    default_pairs,
    holm,
    metrics_for,
    pair_family,
    paired_tests,
    paired_tests_aulc,
    primary_metric,
    to_markdown,
    tost_paired,
    verdict,
)

A = {0: [0.80, 0.85, 0.90], 1: [0.82, 0.86, 0.91], 2: [0.85, 0.84, 0.93],
     3: [0.81, 0.88, 0.92], 4: [0.84, 0.87, 0.95]}
B = {0: [0.79, 0.85, 0.91], 1: [0.80, 0.83, 0.90], 2: [0.82, 0.86, 0.90],
     3: [0.80, 0.85, 0.93], 4: [0.81, 0.84, 0.92]}


def runs(values: dict, dataset="d", first_round=1) -> pd.DataFrame:
    """{strategy: {seed: [test_acc per budget 1000, 2000, ...]}} -> tidy runs table. The
    budgets are rounds ``first_round``, ``first_round + 1``, ...: by default all after a
    query (round 0, the initial labels, is not tested; first_round=0 puts it in)."""
    rows = [{"dataset": dataset, "strategy": s, "seed": seed, "round": r + first_round,
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
    assert acc["p_adj"].to_numpy()[order] == pytest.approx(expect)
    assert (acc["significant"] == (acc["p_adj"] < 0.05)).all()


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
    assert np.isnan(row["p"]) and np.isnan(row["p_adj"]) and not row["significant"]
    assert "fewer than 2 seeds" in row["note"]


def test_identical_values():
    same = {s: [0.9] for s in range(4)}
    row = paired_tests(runs({"x": same, "y": same}), [("x", "y")]).iloc[0]
    assert "zero variance in differences" in row["note"] and "identical" in row["note"]
    assert row["p"] == 1.0 and row["p_wilcoxon"] == 1.0 and row["d_z"] == 0.0
    assert row["p_adj"] == 1.0 and not row["significant"]


def test_identical_budget_not_counted_in_holm():
    # budget 1000 identical (shared initial labels), 2000 and 3000 tested: Holm with m = 2
    x = {s: [0.5, 0.60 + 0.01 * s, 0.70 + 0.02 * s] for s in range(5)}
    y = {s: [0.5, 0.58 + 0.012 * s, 0.69 + 0.019 * s] for s in range(5)}
    t = paired_tests(runs({"x": x, "y": y}), [("x", "y")]).set_index("n_labels")
    assert t.loc[1000, "p"] == 1.0 and t.loc[1000, "p_adj"] == 1.0
    assert "not counted in the family" in t.loc[1000, "note"]
    p = t.loc[[2000, 3000], "p"].to_numpy()
    assert t.loc[[2000, 3000], "p_adj"].to_numpy() == pytest.approx(holm(p))
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
    assert row["p"] == pytest.approx(ref.pvalue) and row["p_adj"] == pytest.approx(ref.pvalue)
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


# --- multiplicity: Holm and BH against hand values and brute force -----------------------

def _holm_brute(p):
    """Holm by its definition: reject H_(i) iff p_(j) <= alpha / (m - j + 1) for all j <= i;
    the adjusted p is the smallest alpha that rejects, searched over a fine grid of candidates."""
    p = np.asarray(p, float)
    m = len(p)
    out = np.empty(m)
    order = np.argsort(p)
    for i, idx in enumerate(order):
        out[idx] = min(1.0, max((m - j) * p[order[j]] for j in range(i + 1)))
    return out


def _bh_brute(p):
    """BH by its definition: p_adj(i) = min over k with p_(k) >= p_i of m p_(k) / k."""
    p = np.asarray(p, float)
    m = len(p)
    s = np.sort(p)
    return np.array([min(1.0, min(m * s[k] / (k + 1) for k in range(m) if s[k] >= x)) for x in p])


def test_bh_by_hand():
    # m = 4, sorted 0.01 0.02 0.03 0.2 -> 4*0.01/1 = 0.04, 4*0.02/2 = 0.04, 4*0.03/3 = 0.04, 0.2
    assert benjamini_hochberg([0.03, 0.01, 0.2, 0.02]) == pytest.approx([0.04, 0.04, 0.2, 0.04])
    # step-up: 0.04*3/2 = 0.06 is replaced by min(0.06, 0.045*3/3 = 0.045)
    assert benjamini_hochberg([0.01, 0.04, 0.045]) == pytest.approx([0.03, 0.045, 0.045])
    got = benjamini_hochberg([0.01, np.nan, 0.04])  # NaN not counted: m = 2
    assert got[0] == pytest.approx(0.02) and np.isnan(got[1]) and got[2] == pytest.approx(0.04)


@pytest.mark.parametrize("seed", range(5))
def test_adjust_against_independent_implementations(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, size=12) ** 2
    p[3] = p[7]  # a tie
    assert holm(p) == pytest.approx(_holm_brute(p))
    assert adjust(p, "holm") == pytest.approx(_holm_brute(p))
    assert adjust(p, "bh") == pytest.approx(_bh_brute(p))
    assert adjust(p, "bh") == pytest.approx(sps.false_discovery_control(p, method="bh"))


def test_adjust_unknown_method():
    with pytest.raises(ValueError, match="stats.correction"):
        adjust([0.1], "bonferroni")


# --- families on a constructed runs table ------------------------------------------------

def _family_runs():
    rng = np.random.default_rng(0)
    strategies = ["random", "coreset", "coreset_vae", "medal", "medal_cvae", "entropy"]
    rows = []
    for d in ("d1", "d2"):
        for s_i, s in enumerate(strategies):
            for seed in range(4):
                for r in range(3):
                    v = 0.6 + 0.05 * r + 0.004 * s_i + rng.normal(0, 0.01)
                    rows.append(dict(dataset=d, strategy=s, seed=seed, round=r,
                                     n_labels=100 * (r + 1), test_acc=v, test_auc=v + 0.1))
    return pd.DataFrame(rows), strategies


def test_pair_family():
    assert pair_family("coreset", "coreset_vae") == "X vs X_<VAE kind>"
    assert pair_family("medal_gmvae", "medal") == "X vs X_<VAE kind>"
    assert pair_family("coreset_vae", "random") == "vs random"
    assert pair_family("coreset", "entropy") == "other pairs"


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_families_on_constructed_runs(method):
    df, strategies = _family_runs()
    pairs = default_pairs(strategies)
    assert ("coreset", "coreset_vae") in pairs and ("medal", "medal_cvae") in pairs
    t = paired_tests(df, pairs, ["test_acc", "test_auc"], correction=method)
    assert (t["correction"] == method).all()
    # per dataset x metric: the thesis family (2 pairs x 3 budgets) and the random family
    # (5 pairs x 3 budgets)
    assert t["family"].nunique() == 2 * 2 * 2
    thesis = t[t["family"] == "d1 / test_acc / all budgets / X vs X_<VAE kind>"]
    assert set(zip(thesis["strategy_a"], thesis["strategy_b"])) == {
        ("coreset", "coreset_vae"), ("medal", "medal_cvae")}
    assert len(thesis) == 6
    rand = t[t["family"] == "d2 / test_auc / all budgets / vs random"]
    assert len(rand) == 15 and (rand["strategy_b"] == "random").all()
    # round 0 (100 labels, before any query) is shown but not tested, not in any family
    first = t[t["n_labels"] == 100]
    assert (first["verdict"] == BEFORE_QUERY).all() and first[["t", "p", "p_adj"]].isna().all().all()
    # p_adj is the adjustment of the raw p within the family, and only within it
    for _, g in t[t["t"].notna()].groupby("family"):
        assert len(g) == len(g.drop_duplicates(["strategy_a", "strategy_b"])) * 2
        assert g["p_adj"].to_numpy() == pytest.approx(adjust(g["p"].to_numpy(), method))
        assert g["p_equiv_adj"].to_numpy() == pytest.approx(adjust(g["p_equiv"].to_numpy(), method))
    assert (t["significant"] == (t["p_adj"] < 0.05)).all()
    # AULC: families of the same split, one row per pair
    from alvae.analysis.results import aulc
    a = paired_tests_aulc(aulc(df, "test_acc"), pairs, correction=method)
    fam = a[a["family"] == "d1 / test_acc / AULC / X vs X_<VAE kind>"]
    assert len(fam) == 2
    assert fam["p_adj"].to_numpy() == pytest.approx(adjust(fam["p"].to_numpy(), method))


def test_untestable_rows_left_out_of_the_family():
    # budget 100 identical in both pairs; the other budgets tested: m = 4 in the family
    x = {s: [0.5, 0.60 + 0.01 * s, 0.70 + 0.02 * s] for s in range(5)}
    y = {s: [0.5, 0.58 + 0.012 * s, 0.69 + 0.019 * s] for s in range(5)}
    z = {s: [0.5, 0.57 + 0.013 * s, 0.66 + 0.021 * s] for s in range(5)}
    t = paired_tests(runs({"x": x, "x_vae": y, "y": y, "y_gmvae": z}),
                     [("x", "x_vae"), ("y", "y_gmvae")])
    assert t["family"].nunique() == 1
    first = t[t["n_labels"] == 1000]
    assert (first["p"] == 1.0).all() and (first["p_adj"] == 1.0).all() and first["t"].isna().all()
    rest = t[t["n_labels"] > 1000]
    assert rest["p_adj"].to_numpy() == pytest.approx(holm(rest["p"].to_numpy()))
    assert rest["p_adj"].min() == pytest.approx(min(1, 4 * rest["p"].min()))


def test_metrics_per_dataset_and_defaults():
    assert default_metrics("multi-label") == ["test_auc", "test_ap"]
    assert default_metrics("binary") == ["test_acc", "test_auc"]
    df = pd.concat([runs({"x": A, "y": B}, "d1"), runs({"x": A, "y": B}, "d2")])
    t = paired_tests(df, [("x", "y")], {"d1": ["test_acc"], "d2": ["test_auc"]})
    assert set(zip(t["dataset"], t["metric"])) == {("d1", "test_acc"), ("d2", "test_auc")}


# --- power ---------------------------------------------------------------------------------

def _power_by_integration(delta, sd, n, alpha):
    """Power of the two-sided paired t-test from the definition of the noncentral t:
    T = (Z + lam) / sqrt(V / df), V ~ chi2(df); integrate over V (no scipy.stats.nct)."""
    from scipy import integrate
    df, lam = n - 1, delta * np.sqrt(n) / sd
    c = sps.t.ppf(1 - alpha / 2, df)

    def f(v):
        s = c * np.sqrt(v / df)
        return sps.chi2.pdf(v, df) * (sps.norm.sf(s - lam) + sps.norm.cdf(-s - lam))

    return integrate.quad(f, 0, np.inf, limit=200)[0]


@pytest.mark.parametrize("n", [3, 5, 10])
def test_power_against_integration(n):
    for delta in (0.005, 0.02, 0.05):
        assert paired_power(delta, 0.02, n, 0.05) == pytest.approx(
            _power_by_integration(delta, 0.02, n, 0.05), abs=1e-6)
    mde = minimal_detectable_effect(0.02, n, 0.05)
    assert _power_by_integration(mde, 0.02, n, 0.05) == pytest.approx(0.8, abs=1e-6)


def test_power_known_values():
    # Cohen's d_z = 0.5 at alpha 0.05 two-sided needs 34 pairs for 80% power (G*Power's value)
    assert seeds_needed(0.5, 1.0, 0.05) == 34
    assert paired_power(0.5, 1.0, 33, 0.05) < 0.8 <= paired_power(0.5, 1.0, 34, 0.05)
    # large n: MDE -> (z_{1-alpha/2} + z_{0.8}) sd / sqrt(n) (closed form of the z-test)
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    assert minimal_detectable_effect(1.0, 20000, 0.05) == pytest.approx(z / np.sqrt(20000),
                                                                         rel=1e-3)
    assert np.isnan(minimal_detectable_effect(0.0, 5)) and np.isnan(minimal_detectable_effect(1, 1))


def test_power_columns_in_tests():
    """Issue 27: the MDE and seeds_needed are at the level the verdict needs, alpha / m
    of the row's family (3 budgets here: 0.05 / 3), not at alpha."""
    t = paired_tests(runs({"x": A, "y": B}), [("x", "y")]).set_index("n_labels")
    level = 0.05 / 3
    assert t["power_alpha"].to_numpy() == pytest.approx([level] * 3)
    for r, n in enumerate([1000, 2000, 3000]):
        d = np.array([A[s][r] - B[s][r] for s in range(5)])
        sd = d.std(ddof=1)
        assert t.loc[n, "mde"] == pytest.approx(minimal_detectable_effect(sd, 5, level))
        assert t.loc[n, "mde"] > minimal_detectable_effect(sd, 5, 0.05) * 1.3
        assert t.loc[n, "seeds_needed"] == seeds_needed(0.01, sd, level)
        need = int(t.loc[n, "seeds_needed"])
        assert paired_power(0.01, sd, need, level) >= 0.8 > paired_power(0.01, sd, need - 1, level)
        # at the MDE, the two-sided test at alpha / m has 80% power, so Holm rejects with
        # at least that probability whatever the other rows show
        assert paired_power(t.loc[n, "mde"], sd, 5, level) == pytest.approx(0.8, abs=1e-6)
    # a second pair in the same family: m = 6, both pairs' rows at 0.05 / 6
    rnd = {s: [v - 0.004 * (s % 3) for v in vals] for s, vals in B.items()}
    two = paired_tests(runs({"x": A, "y": B, "random": rnd}), [("x", "random"), ("y", "random")])
    assert two["t"].notna().all() and len(two) == 6
    assert set(two["family"]) == {"d / test_acc / all budgets / vs random"}
    assert two["power_alpha"].to_numpy() == pytest.approx([0.05 / 6] * 6)


def test_stats_keys_in_the_schema():
    import yaml

    from alvae.checks import ConfigError, validate_config
    from conftest import REPO

    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    got = validate_config(dict(cfg))["stats"]
    assert got["correction"] == "holm" and got["metrics"] is None
    assert got["primary_metric"] is None
    assert got["equivalence_margin"] == {"test_acc": None, "test_auc": None, "test_ap": None}
    ok = validate_config({**cfg, "stats": {"equivalence_margin": {"test_auc": 0.02},
                                           "primary_metric": "test_auc"}})["stats"]
    assert ok["equivalence_margin"]["test_auc"] == 0.02 and ok["primary_metric"] == "test_auc"
    ok = validate_config({**cfg, "stats": {"correction": "bh", "metrics": ["test_auc", "test_ap"]}})
    assert ok["stats"]["correction"] == "bh"
    for bad, key in (({"correction": "bonferroni"}, "correction"),
                     ({"metrics": ["test_f1"]}, "metrics"), ({"metrics": []}, "metrics"),
                     ({"equivalence_margin": {"test_acc": 0}}, "equivalence_margin"),
                     ({"equivalence_margin": {"test_f1": 0.01}}, "equivalence_margin"),
                     ({"primary_metric": "test_f1"}, "primary_metric"),
                     ({"primary_metric": "test_acc", "metrics": ["test_auc"]},
                      r"stats.primary_metric: 'test_acc' is not in stats.metrics")):
        with pytest.raises(ConfigError, match=key):
            validate_config({**cfg, "stats": bad})


# --- equivalence (TOST), verdicts, round 0, primary metric -----------------------------------

def _tost_by_hand(x, y, margin):
    """The two one-sided t-tests from scipy's t distribution: H0 mean(d) <= -margin and
    H0 mean(d) >= margin; the TOST p is the larger one-sided p."""
    d = np.asarray(x, float) - np.asarray(y, float)
    n = len(d)
    se = d.std(ddof=1) / np.sqrt(n)
    lower = sps.t.sf((d.mean() + margin) / se, n - 1)
    upper = sps.t.cdf((d.mean() - margin) / se, n - 1)
    return max(lower, upper)


@pytest.mark.parametrize("case", ["equivalent", "not equivalent", "differs"])
def test_tost_against_statsmodels(case):
    from statsmodels.stats.weightstats import ttost_paired

    x = 0.8 + np.array([0.01, -0.02, 0.005, 0.0, 0.015, -0.01, 0.02, -0.005])
    wiggle = np.array([0.001, -0.002, 0.002, -0.001, 0.0015, -0.0005, 0.0, -0.001])  # mean 0
    d = {"equivalent": wiggle,                 # mean 0, sd 0.0014: within ±0.01
         "not equivalent": 30 * wiggle,        # mean 0, sd 0.042: cannot tell
         "differs": 0.03 + wiggle}[case]       # mean 0.03, far outside ±0.01
    y = x - d
    ref = ttost_paired(x, y, -0.01, 0.01)[0]
    got = tost_paired(x, y, 0.01)
    assert abs(got - ref) <= 1e-12 and abs(got - _tost_by_hand(x, y, 0.01)) <= 1e-12
    if case == "equivalent":
        assert got < 1e-6
    else:
        assert got > 0.2
    # the p_equiv column of the tests table is the same number, a - b oriented
    vals = {"x": {s: [v] for s, v in enumerate(x)}, "y": {s: [v] for s, v in enumerate(y)}}
    row = paired_tests(runs(vals), [("x", "y")], margin={"test_acc": 0.01}).iloc[0]
    assert abs(row["p_equiv"] - ref) <= 1e-12 and row["margin"] == 0.01
    expect = {"equivalent": "equivalent", "not equivalent": "inconclusive",
              "differs": "differs"}[case]
    assert row["verdict"] == expect
    if expect == "inconclusive":
        assert f"MDE {row['mde']:.4g}" in row["note"]
    # the margin is per metric: a margin of 0.05 makes the 0.03 difference equivalent too
    wide = paired_tests(runs(vals), [("x", "y")], margin={"test_acc": 0.05}).iloc[0]
    assert abs(wide["p_equiv"] - ttost_paired(x, y, -0.05, 0.05)[0]) <= 1e-12


def test_tost_undefined_without_spread():
    assert np.isnan(tost_paired([0.5, 0.6], [0.5, 0.6], 0.01))  # identical: sd 0
    assert np.isnan(tost_paired([0.5], [0.4], 0.01))


def test_verdict_rules():
    assert verdict(0.01, 0.9, True) == "differs"
    assert verdict(0.01, 0.01, True) == "differs"  # significant, and also within the margin
    assert verdict(0.5, 0.01, True) == "equivalent"
    assert verdict(0.5, 0.5, True) == "inconclusive"
    assert verdict(np.nan, np.nan, False) == "no test"
    assert verdict(np.nan, np.nan, False, before_query=True) == "before any query"


def test_seeds_needed_for_the_margin():
    t = paired_tests(runs({"x": A, "y": B}), [("x", "y")], margin={"test_acc": 0.02})
    for r in t.itertuples():
        d = np.array([A[s][r.n_labels // 1000 - 1] - B[s][r.n_labels // 1000 - 1]
                      for s in range(5)])
        assert r.seeds_needed == seeds_needed(0.02, d.std(ddof=1), 0.05 / 3)


def test_lloss_vs_random_has_no_test_at_the_initial_budget():
    """Round 0: lloss differs from random only by training jointly with its loss module;
    that row is shown (means) but not tested and not counted in the family."""
    rng = np.random.default_rng(3)
    lloss = {s: [0.13 + 0.001 * s, 0.5 + rng.normal(0, 0.01), 0.6 + rng.normal(0, 0.01)]
             for s in range(5)}
    random = {s: [0.158 + 0.001 * s, 0.5 + rng.normal(0, 0.01), 0.6 + rng.normal(0, 0.01)]
              for s in range(5)}
    t = paired_tests(runs({"lloss": lloss, "random": random}, first_round=0),
                     default_pairs(["lloss", "random"]), ["test_acc", "test_auc"])
    first = t[t["n_labels"] == 1000]
    assert len(first) == 2 and (first["verdict"] == BEFORE_QUERY).all()
    assert first[["t", "p", "p_wilcoxon", "p_adj", "p_equiv", "p_equiv_adj", "mde"]].isna().all().all()
    assert not first["significant"].any()
    assert first["mean_diff"].to_numpy() == pytest.approx([-0.028, -0.028])  # still shown
    assert all("before any query" in n for n in first["note"])
    assert (t.loc[t["t"].notna(), "n_labels"] > 1000).all()
    later = t[(t["metric"] == "test_acc") & (t["n_labels"] > 1000)]
    assert later["p_adj"].to_numpy() == pytest.approx(holm(later["p"].to_numpy()))  # m = 2


def test_primary_metric_and_roles():
    assert primary_metric("multi-class") == "test_acc"
    assert primary_metric("multi-label") == "test_auc"
    assert primary_metric("binary", ["test_auc", "test_ap"]) == "test_auc"
    assert primary_metric("multi-class", None, "test_auc") == "test_auc"
    assert metrics_for("multi-label") == ["test_auc", "test_ap"]
    assert metrics_for("multi-class", ["test_auc", "test_acc"]) == ["test_acc", "test_auc"]
    assert metrics_for("multi-class", None, "test_auc") == ["test_auc", "test_acc"]
    t = paired_tests(runs({"x": A, "y": B}), [("x", "y")], ["test_auc", "test_acc"])
    assert set(t.loc[t["metric"] == "test_auc", "role"]) == {"primary"}
    assert set(t.loc[t["metric"] == "test_acc", "role"]) == {"secondary"}
    t = paired_tests(runs({"x": A, "y": B}), [("x", "y")], ["test_auc", "test_acc"],
                     primary={"d": "test_acc"})
    assert set(t.loc[t["metric"] == "test_acc", "role"]) == {"primary"}
    from alvae.analysis.results import aulc
    df = runs({"x": A, "y": B})
    a = paired_tests_aulc(pd.concat([aulc(df, m) for m in ("test_acc", "test_auc")]),
                          [("x", "y")], metric=["test_acc", "test_auc"])
    assert dict(zip(a["metric"], a["role"])) == {"test_acc": "primary", "test_auc": "secondary"}
    assert set(a["verdict"]) <= {"differs", "equivalent", "inconclusive"}


# --- margins per metric (issue 27) -------------------------------------------------------------

def _curves(task_slope=0.2, seeds=3):
    """Runs whose AUC moves 0.2 per accuracy point along the curves, AP 1.0 per point."""
    rows = []
    for s_i, s in enumerate(["random", "x", "y"]):
        for seed in range(seeds):
            for r, n in enumerate([100, 200, 300, 400]):
                acc = 0.6 + 0.05 * r + 0.01 * s_i + 0.002 * seed
                rows.append({"dataset": "d", "strategy": s, "seed": seed, "round": r,
                             "n_labels": n, "test_acc": acc,
                             "test_auc": 0.9 + task_slope * (acc - 0.6),
                             "test_ap": 0.5 + (acc - 0.6)})
    return pd.DataFrame(rows)


def test_margins_are_matched_to_the_task_metric_through_the_curves():
    """A point of AUC is not a point of accuracy: unset margins are one point of the
    task's own metric, the others that step along the study's curves on their own scale."""
    from alvae.analysis.stats import DEFAULT_MARGIN, equivalence_margins, metric_slope

    df = _curves()
    assert metric_slope(df, "test_auc", "test_acc") == (pytest.approx(0.2), 9)
    m = equivalence_margins(df, {"d": "test_acc"}, {}).set_index("metric")
    assert m.loc["test_acc", "margin"] == DEFAULT_MARGIN == 0.01
    assert m.loc["test_auc", "margin"] == pytest.approx(0.002)
    assert m.loc["test_ap", "margin"] == pytest.approx(0.01)
    assert "slope of test_auc on test_acc over 9 strategy x budget means" in \
        m.loc["test_auc", "margin_source"]
    # a multi-label task: AUC is its own metric, accuracy is matched to it (slope 1 / 0.2)
    ml = equivalence_margins(df, {"d": "test_auc"}, {}).set_index("metric")
    assert ml.loc["test_auc", "margin"] == 0.01
    assert ml.loc["test_acc", "margin"] == pytest.approx(0.05)
    # set in the config: used as is; a set anchor moves the matched ones with it
    cfg = equivalence_margins(df, {"d": "test_acc"}, {"test_acc": 0.02, "test_ap": 0.03})
    cfg = cfg.set_index("metric")
    assert cfg.loc["test_acc", "margin"] == 0.02 and cfg.loc["test_ap", "margin"] == 0.03
    assert cfg.loc["test_auc", "margin"] == pytest.approx(0.004)
    assert cfg.loc["test_ap", "margin_source"] == "stats.equivalence_margin.test_ap"
    # no slope to match through (AUC flat): the anchor's δ as is, and the source says so
    flat = df.assign(test_auc=0.9)
    f = equivalence_margins(flat, {"d": "test_acc"}, {}).set_index("metric")
    assert f.loc["test_auc", "margin"] == 0.01 and "no positive slope" in \
        f.loc["test_auc", "margin_source"]


def test_the_tests_use_the_margin_of_their_dataset_and_metric():
    from statsmodels.stats.weightstats import ttost_paired

    from alvae.analysis.stats import equivalence_margins

    df = _curves()
    df.loc[(df["strategy"] == "x") & (df["seed"] == 1), ["test_acc", "test_auc"]] += 0.001
    margins = equivalence_margins(df, {"d": "test_acc"}, {})
    t = paired_tests(df, [("x", "random")], ["test_acc", "test_auc"], margin=margins)
    t = t[t["t"].notna()]
    assert set(zip(t["metric"], t["margin"].round(6))) == {("test_acc", 0.01),
                                                           ("test_auc", 0.002)}
    assert t.loc[t["metric"] == "test_auc", "margin_source"].str.startswith("matched to").all()
    for r in t.itertuples():
        g = df[df["n_labels"] == r.n_labels]
        a = g[g["strategy"] == "x"].sort_values("seed")[r.metric].to_numpy()
        b = g[g["strategy"] == "random"].sort_values("seed")[r.metric].to_numpy()
        assert r.p_equiv == pytest.approx(ttost_paired(a, b, -r.margin, r.margin)[0], rel=1e-9)
    with pytest.raises(ValueError, match="no equivalence margin for 'd' / 'test_ap'"):
        paired_tests(df, [("x", "random")], ["test_ap"], margin=margins.iloc[:2])
