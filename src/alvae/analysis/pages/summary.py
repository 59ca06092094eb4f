"""The report's opening page (report/summary.rst, after the design): the summary of the
paired tests (alvae.analysis.pages.verdicts), warnings on evaluation data, the rankings,
how AUC and AP are averaged, then the labels saved (alvae.analysis.pages.labels_saved)
and the shares of the all-labels ceiling (alvae.analysis.pages.ceiling)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import primary_rows, tested_rows
from .text import heading
from .verdicts import (
    method_paragraph,
    pair_lines,
    question_lines,
    secondary_lines,
    thesis_sentence,
    why_untested,
)


def _left_out_sentence(datasets: pd.DataFrame | None) -> str:
    """Which datasets' AUC/AP averages leave labels out (alvae.training.metrics.left_out)."""
    if datasets is None or "auc_left_out" not in datasets:
        return ""
    parts = []
    for r in datasets.itertuples():
        if r.task != "multi-label" and not (r.auc_left_out or r.ap_left_out):
            continue
        unit = "labels" if r.task == "multi-label" else "classes"
        parts.append(f"{r.dataset}: AUC over {r.n_outputs - r.auc_left_out} of {r.n_outputs} "
                     f"{unit}, AP over {r.n_outputs - r.ap_left_out}")
    if not parts:
        return ""
    return ("Averaging: AUC and AP are means over the labels (classes) that can be scored on "
            "the test split, AUC over those with both a positive and a negative, AP over those "
            "with a positive; this is not scikit-learn's macro average, which scores a label "
            "without a positive 0 for AP. " + "; ".join(parts) + ".\n")


def _overlap_sentence(datasets: pd.DataFrame | None) -> str:
    """Evaluation splits that share images with the training split (alvae.data.checks):
    their scores are not entirely held-out."""
    if datasets is None or "test_shared" not in datasets:
        return ""
    parts = []
    for r in datasets.itertuples():
        for split, n, total in (("test", r.test_shared, r.n_test), ("val", r.val_shared, None)):
            if n:
                parts.append(f"{r.dataset}: {n}" + (f" of {total}" if total else "")
                             + f" {split} images also occur in the training split")
    if not parts:
        return ""
    return ("**Warning: evaluation data that is not held out.** " + "; ".join(parts)
            + ". Their scores are partly measured on training data (compared by pixel content).\n")


def summary_rst(tests_df: pd.DataFrame, aulc_tests_df: pd.DataFrame | None = None,
                alpha: float = 0.05, rankings: list[dict] | None = None,
                datasets: pd.DataFrame | None = None, labels_saved: pd.DataFrame | None = None,
                ceiling: pd.DataFrame | None = None,
                curves_summary: pd.DataFrame | None = None) -> str:
    """The opening summary of the report, in reStructuredText; then, when given, one
    sentence per strategy on the labels it saves (alvae.analysis.pages.labels_saved) and each
    strategy's final score as a share of the all-labels ceiling (alvae.analysis.pages.ceiling)."""
    text = _tests_summary(tests_df, aulc_tests_df, alpha, rankings, datasets)
    from ..plots import NAMES

    if labels_saved is not None:
        from .labels_saved import labels_saved_rst

        text += "\n" + labels_saved_rst(labels_saved, NAMES)
    if ceiling is not None and curves_summary is not None:
        from ..labels_saved import primary_metrics
        from .ceiling import share_rst

        text += "\n" + share_rst(curves_summary, ceiling, primary_metrics(datasets), NAMES)
    return text


def _tests_summary(tests_df, aulc_tests_df, alpha, rankings, datasets) -> str:
    out = [heading("Summary of the paired tests"),
           "Paired over seeds (shared initial labels): t-test and Wilcoxon signed-rank test per "
           "label budget after the first query and on the AULC (area under each run's learning "
           "curve divided by the label range), and a paired equivalence test (TOST) against a "
           "margin; differences are first minus second strategy.\n"]
    overlap = _overlap_sentence(datasets)
    if overlap:
        out.append(overlap)
    if tests_df is None or tests_df.empty:
        return "\n".join(out + ["No tests were run (no pairs of strategies with results).\n"])
    out.append(method_paragraph(tests_df, aulc_tests_df, alpha))
    has_aulc = aulc_tests_df is not None and not aulc_tests_df.empty
    aulc_df = aulc_tests_df if has_aulc else tests_df.iloc[:0]
    tested = tested_rows(tests_df)
    aulc_tested = tested_rows(aulc_df)
    if not tested.any() and not aulc_tested.any():
        out.append("**No test was possible**: no budget and no AULC had a defined paired test "
                   f"({why_untested(tests_df)}). Nothing can be concluded about differences "
                   "between strategies from this run.\n")
    else:
        prim, prim_a = primary_rows(tests_df), primary_rows(aulc_df)
        tp, ap = tests_df[prim], aulc_df[prim_a]
        metrics = ", ".join(f"{d}: {m}" for d, m in
                            dict(zip(tp["dataset"], tp["metric"])).items())
        out.append(f"**Primary metric** ({metrics}), per question:\n")
        out.append("\n".join(question_lines(tp, ap, alpha)) + "\n")
        out.append(thesis_sentence(tp, ap, alpha))
        sec = secondary_lines(tests_df[~prim], aulc_df[~prim_a], alpha)
        if sec:
            out.append(sec[0] + "\n\n" + "\n".join(sec[1:]) + "\n")
    for r in _ordered_rankings(rankings or []):
        out.append(_ranking_sentence(r, alpha))
    left = _left_out_sentence(datasets)
    if left:
        out.append(left)
    for dataset, gd in tests_df.groupby("dataset", sort=True):
        out.append(heading(str(dataset), "-"))
        pairs = list(dict.fromkeys(zip(gd["strategy_a"], gd["strategy_b"])))
        metrics = list(dict.fromkeys(gd["metric"]))
        groups = gd.groupby(["strategy_a", "strategy_b", "metric"], sort=False)
        for key in [(a, b, m) for a, b in pairs for m in metrics if (a, b, m) in groups.groups]:
            g = groups.get_group(key)
            row = None
            if has_aulc:
                m = aulc_tests_df[(aulc_tests_df["dataset"] == dataset)
                                  & (aulc_tests_df["strategy_a"] == key[0])
                                  & (aulc_tests_df["strategy_b"] == key[1])
                                  & (aulc_tests_df["metric"] == key[2])]
                row = next(m.itertuples(), None)
            out.extend(pair_lines(g.sort_values("n_labels"), row, alpha) + [""])
        out.append("")
    return "\n".join(out)


def _ordered_rankings(rankings: list[dict]) -> list[dict]:
    """The primary ranking first; a per-metric ranking that is every dataset's
    primary metric repeats it and is left out."""
    primary = [r for r in rankings if r.get("metric") == "primary"]
    rest = [r for r in rankings if r.get("metric") != "primary"
            and not (primary and r.get("role") == "primary")]
    return primary + rest


def _ranking_sentence(info: dict, alpha: float) -> str:
    """One paragraph on the mean ranks of one metric (see alvae.analysis.ranking)."""
    metric = info.get("metric")
    if metric == "primary":
        name = info.get("label") or "the primary metric"
    elif info.get("role") == "secondary":
        name = f"{metric} (secondary)"
    else:
        name = str(metric)
    ranks = info.get("mean_ranks") or {}
    if len(ranks) < 2 or not info.get("n_blocks"):
        return (f"Ranking on {name}: not computable (fewer than 2 strategies or no "
                "(dataset, budget) block after the first query with every strategy).\n")
    order = ", ".join(f"{s} {r:.2f}" for s, r in ranks.items())
    fp = info.get("friedman_p", np.nan)
    n = info["n_blocks"]
    if not np.isfinite(fp):
        verdict = "n/a"
    elif info.get("independent_blocks"):
        verdict = f"{fp:.3g}, " + ("significant" if fp < alpha else "not significant")
    else:
        k = info.get("n_datasets")
        of = f"{k} dataset(s)" if k else "the datasets"
        verdict = (f"{fp:.3g}, descriptive only: the {n} blocks are budgets of {of}, which "
                   "share runs and seeds, so they are not independent and the p-value is not "
                   "a test (docs/statistics.md, Rankings)")
    text = (f"Ranking on {name} over {n} (dataset, budget) blocks after the first query: "
            f"mean ranks (1 = best) {order}; Friedman test p = {verdict}")
    if "min_p_wilcoxon" in info:
        text += (f". With {n} blocks the smallest attainable Wilcoxon p is "
                 f"{info['min_p_wilcoxon']:.3g}, and Holm over {info.get('n_pairs')} pairs "
                 f"cannot go below {info['min_p_holm']:.3g}")
        if not info.get("separable", True):  # not config (the ranking's record)
            text += ": no pair of strategies can be separated"
    return text + " (see the CD diagram and the pairwise penalty matrix).\n"
