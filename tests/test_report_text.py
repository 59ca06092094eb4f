"""alvae.analysis.report: the summary is written from the numbers; settings and versions."""

import numpy as np
import pandas as pd

from alvae.analysis.pages.settings import settings_rst
from alvae.analysis.pages.summary import summary_rst
from alvae.analysis.pages.verdicts import NULL_PHRASE
from alvae.analysis.report import software_versions
from alvae.analysis.stats import verdict


def make_tests(p_holm_vae, p_holm_random=(0.6, 0.7, 0.8), p_equiv_vae=(0.5, 0.5, 0.5),
               p_equiv_random=(0.5, 0.5, 0.5)):
    rows = []
    for a, b, ps, pes, diffs in (
            ("coreset", "coreset_vae", p_holm_vae, p_equiv_vae, (0.001, -0.0234, 0.002)),
            ("coreset", "random", p_holm_random, p_equiv_random, (0.01, 0.01, 0.01))):
        for n, p, pe, d in zip((3000, 6000, 9000), ps, pes, diffs):
            rows.append(dict(dataset="mnist", strategy_a=a, strategy_b=b, metric="test_acc",
                             n_labels=n, n_pairs=5, mean_a=0.9, mean_b=0.9 - d, mean_diff=d,
                             ci_low=d - 0.01, ci_high=d + 0.01, t=1.0, p=p / 3, p_wilcoxon=0.0625,
                             d_z=0.5, family=f"mnist / test_acc / all budgets / {b}",
                             correction="holm", p_adj=p, significant=p < 0.05, margin=0.01,
                             p_equiv=pe / 3, p_equiv_adj=pe, verdict=verdict(p, pe, True),
                             mde=0.0123, seeds_needed=12 + n // 3000, role="primary", note=""))
    return pd.DataFrame(rows)


def aulc_table(p, p_equiv=0.5):
    return pd.DataFrame([dict(dataset="mnist", strategy_a="coreset", strategy_b="coreset_vae",
                              metric="test_acc", n_pairs=5, mean_a=0.8512, mean_b=0.8561,
                              mean_diff=-0.0049, ci_low=-0.01, ci_high=0.0002, t=-2.1, p=p,
                              p_wilcoxon=0.125, d_z=-0.9,
                              family="mnist / test_acc / AULC / X vs X_<VAE kind>",
                              correction="holm", p_adj=p, significant=p < 0.05, margin=0.01,
                              p_equiv=p_equiv, p_equiv_adj=p_equiv,
                              verdict=verdict(p, p_equiv, True), mde=0.0071,
                              seeds_needed=9, role="primary", note=np.nan)])


def test_summary_names_significant_pair_and_direction():
    text = summary_rst(make_tests((0.5, 0.012, 0.9)), aulc_table(0.2))
    assert NULL_PHRASE not in text
    assert "1 budget(s) and 0 AULC test(s) differ significantly" in text
    line = next(l for l in text.splitlines() if l.startswith("- **coreset vs coreset_vae**"))
    assert "1 of 3 tested budgets with adjusted p < 0.05" in line
    assert "6000 labels (coreset_vae higher than coreset by 0.0234, p_adj = 0.012)" in line
    # mean of the per-budget differences (0.001 - 0.0234 + 0.002) / 3 = -0.0068
    assert "coreset_vae higher than coreset by 0.0068 on average" in line
    assert "AULC: coreset 0.8512 vs coreset_vae 0.8561, difference -0.0049" in text
    assert "(not significant)" in text
    assert "mnist\n-----" in text


def test_summary_null_result_only_when_equivalent():
    # every thesis budget and the AULC equivalent within ±0.01: the thesis's null result
    text = summary_rst(make_tests((0.5, 0.3, 0.9), p_equiv_vae=(0.01, 0.02, 0.001)),
                       aulc_table(0.4, p_equiv=0.003))
    assert NULL_PHRASE in text
    assert ("**Every tested budget (3) and AULC (1) of a strategy against its VAE variant is "
            "equivalent within ±0.01: a null result, as the thesis found.**") in text
    assert "0 of 3 tested budgets" in text
    # one budget not shown equivalent: inconclusive, with the MDE and the seeds needed
    text = summary_rst(make_tests((0.5, 0.3, 0.9), p_equiv_vae=(0.01, 0.2, 0.001)),
                       aulc_table(0.4, p_equiv=0.003))
    assert "null result" not in text
    assert ("**Between a strategy and its VAE variant the result is inconclusive**: no budget "
            "and no AULC differs significantly, but only 3 of 4 test(s) show equivalence "
            "within ±0.01.") in text
    assert ("the smallest detectable difference is 0.0123 per budget (13 to 15 seeds would "
            "detect a difference of 0.01); 0.0071 on AULC (9 seeds would") in text


def test_summary_counts_per_question():
    text = summary_rst(make_tests((0.5, 0.3, 0.9), (0.01, 0.02, 0.03)), aulc_table(0.4))
    assert NULL_PHRASE not in text
    assert ("- *X vs X_<VAE kind> (the thesis's question)*: of 3 tested budget(s), 0 differ, "
            "0 equivalent within ±0.01, 3 inconclusive; of 1 AULC test(s), 0 differ, "
            "0 equivalent within ±0.01, 1 inconclusive.") in text
    assert ("- *vs random*: of 3 tested budget(s), 3 differ, 0 equivalent within ±0.01, "
            "0 inconclusive; of 0 AULC test(s)") in text
    assert "the result is inconclusive" in text


def test_summary_untestable_budgets_are_counted():
    t = make_tests((0.5, 0.3, 0.9))
    t.loc[0, ["p", "p_adj", "t"]] = np.nan
    t.loc[0, "note"] = "zero variance in differences: constant difference +0.01 in every seed"
    text = summary_rst(t, None)
    assert "0 of 2 tested budgets" in text
    assert "1 budget(s) not testable (a constant difference in every seed; not counted in the family)." in text


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
    assert "6 per-budget test(s) were run; 0 row(s) at the initial budget come before any query" in text
    assert "nothing is adjusted across metrics" in text
    line = next(l for l in text.splitlines() if "Power:" in l and "AULC 0.0071" in l)
    assert "smallest detectable difference per budget is 0.0123;" in line
    assert "would need 13 to 15 seeds per budget (9 on AULC)" in line
    bh = make_tests((0.5, 0.012, 0.9)).assign(correction="bh")
    assert "Benjamini-Hochberg" in summary_rst(bh, None)


def one_seed_tests():
    """What stats.paired_tests writes for one seed: nothing testable."""
    from alvae.analysis.results import aulc
    from alvae.analysis.stats import paired_tests, paired_tests_aulc

    rows = [dict(dataset="pneumonia", strategy=s, seed=0, round=r, n_labels=100 * (r + 1),
                 test_acc=0.6 + 0.01 * r + (0.02 if s == "coreset" else 0), test_auc=0.7)
            for s in ("random", "coreset", "coreset_vae") for r in range(3)]
    df = pd.DataFrame(rows)
    pairs = [("coreset", "coreset_vae"), ("coreset", "random"), ("coreset_vae", "random")]
    return paired_tests(df, pairs, ["test_acc"]), paired_tests_aulc(aulc(df, "test_acc"), pairs)


def test_summary_one_seed_says_no_test_was_possible():
    t, a = one_seed_tests()
    text = summary_rst(t, a)
    assert NULL_PHRASE not in text and "null result" not in text
    assert "**No test was possible**" in text and "fewer than 2 seeds" in text
    line = next(l for l in text.splitlines() if l.startswith("- **coreset vs coreset_vae**"))
    assert "no budget could be tested (fewer than 2 seeds)" in line
    assert "AULC (200 to 300 labels, after the first query): coreset" in text
    assert "(no test possible: fewer than 2 seeds)" in text
    assert "Power: not computable" in text


def test_ranking_sentence():
    """Issue 27: budgets of one dataset share runs, so a Friedman p over them is
    descriptive; "significant" only where every block is its own dataset."""
    info = {"metric": "test_acc", "n_blocks": 6, "friedman_p": 0.0123, "n_datasets": 6,
            "independent_blocks": True, "mean_ranks": {"a": 1.2, "b": 2.0, "c": 2.8}}
    text = summary_rst(make_tests((0.5, 0.3, 0.9)), None, rankings=[info])
    assert ("Ranking on test_acc over 6 (dataset, budget) blocks after the first query: mean "
            "ranks (1 = best) a 1.20, b 2.00, c 2.80; Friedman test p = 0.0123, significant") in text
    one = {**info, "n_datasets": 1, "independent_blocks": False}
    text = summary_rst(make_tests((0.5, 0.3, 0.9)), None, rankings=[one])
    sentence = next(ln for ln in text.splitlines() if ln.startswith("Ranking on test_acc"))
    assert ("Friedman test p = 0.0123, descriptive only: the 6 blocks are budgets of 1 "
            "dataset(s), which share runs and seeds") in sentence
    assert "significant" not in sentence
    # a table written before the flag existed is not taken for independent blocks
    old = {k: v for k, v in info.items() if k not in ("n_datasets", "independent_blocks")}
    assert "significant" not in summary_rst(make_tests((0.5, 0.3, 0.9)), None,
                                            rankings=[old]).split("Ranking on")[1]


def test_summary_states_each_margin_and_the_power_level():
    t = make_tests((0.5, 0.3, 0.9))
    auc = t.assign(metric="test_auc", margin=0.0019, role="secondary",
                   margin_source="matched to test_acc: 0.01 x 0.19, the least-squares slope",
                   family=t["family"].str.replace("test_acc", "test_auc"))
    t = t.assign(margin_source="default 0.01, one point of test_acc, the task's own metric",
                 power_alpha=0.05 / 3)
    text = summary_rst(pd.concat([t, auc.assign(power_alpha=0.05 / 3)], ignore_index=True),
                       aulc_table(0.4).assign(power_alpha=0.05, area="3000 to 9000 labels, "
                                              "after the first query"))
    assert ("Equivalence margins, per dataset and metric (``stats.equivalence_margin``; unset, "
            "one point of the task's own metric and the others matched to it through the "
            "study's learning curves): mnist test_acc ±0.01 (default 0.01, one point of "
            "test_acc, the task's own metric); mnist test_auc ±0.0019 (matched to test_acc: "
            "0.01 x 0.19, the least-squares slope)") in text
    assert "0 equivalent within ±0.0019" in text  # the secondary metric's own margin
    assert "AULC (3000 to 9000 labels, after the first query): coreset" in text
    line = next(ln for ln in text.splitlines() if "Power:" in ln and "test_acc" not in ln
                and "AULC 0.0071" in ln)
    assert "at the family's level alpha/m = 0.05/3 = 0.0167" in line
    assert "on AULC 0.0071 (at 0.05)" in line


def test_ranking_sentence_states_what_the_blocks_can_resolve():
    from alvae.analysis.ranking import smallest_p

    p, holm = smallest_p(3, 28)
    primary = {"metric": "primary", "label": "primary metric (digits: test_acc)", "role": "primary",
               "n_blocks": 3, "friedman_p": 0.2, "mean_ranks": {"a": 1.5, "b": 2.5},
               "min_p_wilcoxon": p, "min_p_holm": holm, "n_pairs": 28, "separable": False}
    same = {**primary, "metric": "test_acc", "label": None}  # every dataset's primary again
    secondary = {**primary, "metric": "test_auc", "role": "secondary", "label": None}
    text = summary_rst(make_tests((0.5, 0.3, 0.9)), None, rankings=[primary, same, secondary])
    assert ("Ranking on primary metric (digits: test_acc) over 3 (dataset, budget) blocks after "
            "the first query") in text
    assert ("With 3 blocks the smallest attainable Wilcoxon p is 0.25, and Holm over 28 pairs "
            "cannot go below 1: no pair of strategies can be separated") in text
    assert "Ranking on test_auc (secondary)" in text
    assert "Ranking on test_acc " not in text  # the same ranking as the primary one


def test_summary_no_null_claim_without_a_tested_vae_pair():
    t = make_tests((0.5, 0.3, 0.9))
    vae = t["strategy_b"] == "coreset_vae"
    t.loc[vae, ["t", "p", "p_adj", "p_equiv", "p_equiv_adj"]] = np.nan
    t.loc[vae, "verdict"] = "no test"
    t.loc[vae, "note"] = "fewer than 2 seeds (n=1): no test"
    text = summary_rst(t, None)
    assert NULL_PHRASE not in text
    assert "**No strategy could be tested against its VAE variant** (fewer than 2 seeds)" in text


def test_summary_names_the_question_of_each_pair():
    # the schedule pair (once vs per round) differs; nothing differs from random: the
    # summary must not count the schedule pair as "against random"
    t = make_tests((0.5, 0.3, 0.9), (0.6, 0.7, 0.8))
    sched = t[t["strategy_b"] == "random"].copy()
    sched["strategy_a"], sched["strategy_b"] = "coreset_cvae", "coreset_cvae+per_round"
    sched["p_adj"] = [0.01, 0.02, 0.4]
    sched["verdict"] = ["differs", "differs", "inconclusive"]
    sched["family"] = "mnist / test_acc / all budgets / VAE trained once vs per round"
    text = summary_rst(pd.concat([t, sched], ignore_index=True), aulc_table(0.4))
    assert ("- *VAE trained once vs per round*: of 3 tested budget(s), 2 differ, 0 equivalent "
            "within ±0.01, 1 inconclusive") in text
    assert "- *vs random*: of 3 tested budget(s), 0 differ" in text
    assert "other pairs" not in text.split("mnist\n-----")[0].split("Families:")[1]
    line = next(ln for ln in text.splitlines()
                if ln.startswith("- **coreset_cvae vs coreset_cvae+per_round**"))
    assert "2 of 3 tested budgets" in line


def _study(spread, seeds, strategies=("random", "coreset", "coreset_vae"), rounds=3, seed=0):
    """A constructed runs table: every strategy at the same true accuracy, per-seed noise
    ``spread`` (sd) around it; round 0 shared by seed (the initial labels)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in strategies:
        for k in range(seeds):
            for r in range(rounds):
                v = 0.7 + 0.05 * r + (0.002 * k if r == 0 else rng.normal(0, spread))
                rows.append(dict(dataset="digits", strategy=s, seed=k, round=r,
                                 n_labels=100 * (r + 1), test_acc=v, test_auc=v + 0.1))
    return pd.DataFrame(rows)


def _summary_of(runs):
    from alvae.analysis.results import aulc
    from alvae.analysis.stats import default_pairs, paired_tests, paired_tests_aulc

    pairs = default_pairs(list(dict.fromkeys(runs["strategy"])))
    metrics = ["test_acc", "test_auc"]
    t = paired_tests(runs, pairs, metrics)
    a = paired_tests_aulc(pd.concat([aulc(runs, m) for m in metrics]), pairs, metric=metrics)
    return t, a, summary_rst(t, a)


def test_two_seeds_and_a_large_spread_read_inconclusive():
    t, a, text = _summary_of(_study(spread=0.05, seeds=2))
    assert not t["significant"].any()
    assert "null result" not in text
    assert "**Between a strategy and its VAE variant the result is inconclusive**" in text
    assert "with n = 2 seeds, the smallest detectable difference is" in text
    # and the same design with many seeds and a tiny spread shows equivalence
    t, a, text = _summary_of(_study(spread=0.0005, seeds=12))
    assert set(t.loc[t["role"] == "primary", "verdict"]) == {"before any query", "equivalent"}
    assert NULL_PHRASE in text


def test_an_evaluation_split_sharing_training_images_is_stated_in_the_summary():
    """issue 17: the overlap reaches the report, not only two job logs."""
    import pandas as pd

    from alvae.analysis.pages.summary import summary_rst

    datasets = pd.DataFrame([{"dataset": "mine", "task": "multi-class", "n_test": 297,
                              "test_shared": 100, "val_shared": 0},
                             {"dataset": "clean", "task": "multi-class", "n_test": 50,
                              "test_shared": 0, "val_shared": 0}])
    text = summary_rst(pd.DataFrame(), None, datasets=datasets)
    assert "mine: 100 of 297 test images also occur in the training split" in text
    assert "clean:" not in text
    assert "not held out" not in summary_rst(pd.DataFrame(), None, datasets=datasets.iloc[1:])


def test_train_accuracy_threshold_comes_from_the_recipe():
    from alvae.analysis.report import UNDERFIT_DEFAULT, underfit_threshold

    until = {"train_acc": 0.99, "max_epochs": 40, "patience": 3, "min_delta": 0.001}
    assert underfit_threshold({"train_until": until}) == (0.99, "task_model.train_until.train_acc")
    value, where = underfit_threshold({"lr": 0.001})
    assert value == UNDERFIT_DEFAULT == 0.95 and "the default 0.95" in where


def test_train_accuracy_check_per_strategy_beside_random():
    """Issue 27: the share of each strategy's rounds below the recipe's threshold, beside
    random's; a strategy with a larger share than random's is named."""
    from alvae.analysis.pages.classifier import classifier_rst
    from alvae.analysis.report import underfit_shares

    train = {"random": [1.0, 0.99, 0.93, 0.99], "coreset": [1.0, 0.9, 0.92, 0.99],
             "entropy": [1.0, 0.99, 0.99, 0.97]}
    runs = pd.DataFrame([{"dataset": "fashion", "strategy": s, "seed": k // 2, "round": k % 2,
                          "test_acc": 0.7, "train_acc": v}
                         for s, vals in train.items() for k, v in enumerate(vals)])
    shares = underfit_shares(runs, "fashion", 0.95).set_index("strategy")
    assert shares.loc["coreset", "below"] == 2 and shares.loc["coreset", "share"] == 0.5
    assert shares.loc["random", "share"] == 0.25 and shares.loc["entropy", "share"] == 0.0
    page = classifier_rst("fixed", {"lr": 0.001, "train_until": {"train_acc": 0.95}}, runs, [])
    assert "against 0.95 (task_model.train_until.train_acc)" in page
    assert '"coreset", "4", "2", "50%", "0.9"' in page and '"random", "4", "1", "25%"' in page
    assert ("**Larger share of rounds below 0.95 than random (25%):** coreset (50%, 2 of 4)"
            in page)
    assert "entropy (" not in page.split("Larger share")[1]
    page = classifier_rst("fixed", {"train_until": {"train_acc": 0.9}}, runs, [])
    assert "No strategy ends a larger share of its rounds below 0.9 than random (0%)" in page
