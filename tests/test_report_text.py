"""alvae.report: the summary is written from the numbers; settings and versions."""

import numpy as np
import pandas as pd

from alvae.report import NULL_SENTENCE, settings_rst, software_versions, summary_rst


def make_tests(p_holm_vae, p_holm_random=(0.6, 0.7, 0.8)):
    rows = []
    for a, b, ps, diffs in (("coreset", "coreset_vae", p_holm_vae, (0.001, -0.0234, 0.002)),
                            ("coreset", "random", p_holm_random, (0.01, 0.01, 0.01))):
        for n, p, d in zip((3000, 6000, 9000), ps, diffs):
            rows.append(dict(dataset="mnist", strategy_a=a, strategy_b=b, metric="test_acc",
                             n_labels=n, n_pairs=5, mean_a=0.9, mean_b=0.9 - d, mean_diff=d,
                             ci_low=d - 0.01, ci_high=d + 0.01, t=1.0, p=p / 3, p_wilcoxon=0.0625,
                             d_z=0.5, family=f"mnist / test_acc / all budgets / {b}",
                             correction="holm", p_adj=p, significant=p < 0.05,
                             mde=0.0123, seeds_needed=12 + n // 3000, note=""))
    return pd.DataFrame(rows)


def aulc_table(p):
    return pd.DataFrame([dict(dataset="mnist", strategy_a="coreset", strategy_b="coreset_vae",
                              metric="test_acc", n_pairs=5, mean_a=0.8512, mean_b=0.8561,
                              mean_diff=-0.0049, ci_low=-0.01, ci_high=0.0002, t=-2.1, p=p,
                              p_wilcoxon=0.125, d_z=-0.9,
                              family="mnist / test_acc / AULC / X vs X_<VAE kind>",
                              correction="holm", p_adj=p, significant=p < 0.05, mde=0.0071,
                              seeds_needed=9, note=np.nan)])


def test_summary_names_significant_pair_and_direction():
    text = summary_rst(make_tests((0.5, 0.012, 0.9)), aulc_table(0.2))
    assert NULL_SENTENCE not in text
    assert "1 budget(s) and 0 AULC test(s) differ significantly" in text
    line = next(l for l in text.splitlines() if l.startswith("- **coreset vs coreset_vae**"))
    assert "1 of 3 tested budgets with adjusted p < 0.05" in line
    assert "6000 labels (coreset_vae higher than coreset by 0.0234, p_adj = 0.012)" in line
    # mean of the per-budget differences (0.001 - 0.0234 + 0.002) / 3 = -0.0068
    assert "coreset_vae higher than coreset by 0.0068 on average" in line
    assert "AULC: coreset 0.8512 vs coreset_vae 0.8561, difference -0.0049" in text
    assert "(not significant)" in text
    assert "mnist\n-----" in text


def test_summary_null_result():
    text = summary_rst(make_tests((0.5, 0.3, 0.9)), aulc_table(0.4))
    assert NULL_SENTENCE in text
    assert "0 of 3 tested budgets" in text


def test_summary_only_random_significant():
    text = summary_rst(make_tests((0.5, 0.3, 0.9), (0.01, 0.02, 0.03)), aulc_table(0.4))
    assert NULL_SENTENCE not in text
    assert "No budget (of 3 tested) and no AULC (of 1) differs significantly between a strategy and its VAE" in text
    assert "Significant: against random, 3 budget(s) and 0 AULC test(s)." in text


def test_summary_untestable_budgets_are_counted():
    t = make_tests((0.5, 0.3, 0.9))
    t.loc[0, ["p", "p_adj", "t"]] = np.nan
    t.loc[0, "note"] = "zero variance in differences: constant difference +0.01 in every seed"
    text = summary_rst(t, None)
    assert "0 of 2 tested budgets" in text
    assert "1 budget(s) not testable (a constant difference in every seed" in text


def test_settings_and_versions():
    v = software_versions()
    for key in ("python", "numpy", "scipy", "sklearn", "matplotlib", "snakemake", "alvae"):
        assert v[key] and v[key] != "not installed", key
    text = settings_rst({"out_dir": "results/x", "al": {"seeds": [0, 1]}}, v)
    assert "    out_dir: results/x" in text
    assert "    al:\n      seeds:\n      - 0\n      - 1" in text
    assert "numpy" in text and v["numpy"] in text


def test_summary_states_method_families_and_power():
    text = summary_rst(make_tests((0.5, 0.012, 0.9)), aulc_table(0.2))
    assert "Holm's step-down method within families" in text
    assert "*mnist / test_acc / all budgets / coreset_vae*" in text
    assert "*mnist / test_acc / AULC / X vs X_<VAE kind>*" in text
    assert "6 per-budget test(s) were run; 0 row(s) had no defined test" in text
    line = next(l for l in text.splitlines() if "Power:" in l and "AULC 0.0071" in l)
    assert "smallest detectable difference per budget is 0.0123;" in line
    assert "would need 13 to 15 seeds per budget (9 on AULC)" in line
    bh = make_tests((0.5, 0.012, 0.9)).assign(correction="bh")
    assert "Benjamini-Hochberg" in summary_rst(bh, None)


def one_seed_tests():
    """What stats.paired_tests writes for one seed: nothing testable."""
    from alvae.stats import paired_tests, paired_tests_aulc
    from alvae.results import aulc

    rows = [dict(dataset="pneumonia", strategy=s, seed=0, round=r, n_labels=100 * (r + 1),
                 test_acc=0.6 + 0.01 * r + (0.02 if s == "coreset" else 0), test_auc=0.7)
            for s in ("random", "coreset", "coreset_vae") for r in range(3)]
    df = pd.DataFrame(rows)
    pairs = [("coreset", "coreset_vae"), ("coreset", "random"), ("coreset_vae", "random")]
    return paired_tests(df, pairs, ["test_acc"]), paired_tests_aulc(aulc(df, "test_acc"), pairs)


def test_summary_one_seed_says_no_test_was_possible():
    t, a = one_seed_tests()
    text = summary_rst(t, a)
    assert NULL_SENTENCE not in text and "null result" not in text
    assert "**No test was possible**" in text and "fewer than 2 seeds" in text
    line = next(l for l in text.splitlines() if l.startswith("- **coreset vs coreset_vae**"))
    assert "no budget could be tested (fewer than 2 seeds)" in line
    assert "AULC: coreset" in text and "(no test possible: fewer than 2 seeds)" in text
    assert "Power: not computable" in text


def test_ranking_sentence():
    info = {"metric": "test_acc", "n_blocks": 6, "friedman_p": 0.0123,
            "mean_ranks": {"a": 1.2, "b": 2.0, "c": 2.8}}
    text = summary_rst(make_tests((0.5, 0.3, 0.9)), None, rankings=[info])
    assert ("Ranking on test_acc over 6 (dataset, budget) blocks: mean ranks (1 = best) a 1.20, "
            "b 2.00, c 2.80; Friedman test p = 0.0123, significant") in text


def test_summary_no_null_claim_without_a_tested_vae_pair():
    t = make_tests((0.5, 0.3, 0.9))
    t.loc[t["strategy_b"] == "coreset_vae", ["t", "p", "p_adj"]] = np.nan
    t.loc[t["strategy_b"] == "coreset_vae", "note"] = "fewer than 2 seeds (n=1): no test"
    text = summary_rst(t, None)
    assert NULL_SENTENCE not in text
    assert "but no strategy could be tested against its VAE variant" in text


def test_summary_names_the_question_of_each_significant_pair():
    # the schedule pair (once vs per round) differs; nothing differs from random: the
    # summary must not count the schedule pair as "against random" (it did)
    t = make_tests((0.5, 0.3, 0.9), (0.6, 0.7, 0.8))
    sched = t[t["strategy_b"] == "random"].copy()
    sched["strategy_a"], sched["strategy_b"] = "coreset_cvae", "coreset_cvae+per_round"
    sched["p_adj"] = [0.01, 0.02, 0.4]
    sched["family"] = "mnist / test_acc / all budgets / VAE trained once vs per round"
    text = summary_rst(pd.concat([t, sched], ignore_index=True), aulc_table(0.4))
    assert ("Significant: against random, 0 budget(s) and 0 AULC test(s); between a "
            "representation trained once and retrained every round, 2 budget(s) and 0 AULC "
            "test(s).") in text
    assert "among the other pairs" not in text  # no other pair was asked about
    line = next(ln for ln in text.splitlines()
                if ln.startswith("- **coreset_cvae vs coreset_cvae+per_round**"))
    assert "2 of 3 tested budgets" in line
