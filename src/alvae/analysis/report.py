"""Text of the Snakemake report: the summary of the tests, written from the
numbers, and the run's settings and software versions."""

from __future__ import annotations

import importlib
import platform
from importlib import metadata

import numpy as np
import pandas as pd
import yaml

from .. import vocabulary

NULL_PHRASE = "a null result, as the thesis found"  # only when the thesis pairs are equivalent
NULL_SENTENCE = NULL_PHRASE  # (older name)
CORRECTION_NAMES = {"holm": "Holm's step-down method", "bh": "the Benjamini-Hochberg method"}
QUESTION_NAMES = {"X vs X_<VAE kind>": "X vs X_<VAE kind> (the thesis's question)",
                  "VAE trained once vs per round": "VAE trained once vs per round",
                  "vs random": "vs random", "other pairs": "other pairs"}
OUTCOMES = ("differs", "equivalent", "inconclusive")


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _fmt(v: float, digits: int = 4) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def _p(v: float) -> str:
    return "n/a" if v is None or pd.isna(v) else f"{v:.3g}"


def _direction(a: str, b: str, diff: float, suffix: str = " on average") -> str:
    if np.isnan(diff):
        return "no paired values"
    if diff == 0:
        return f"{a} and {b} equal{suffix}"
    hi, lo = (a, b) if diff > 0 else (b, a)
    return f"{hi} higher than {lo} by {abs(diff):.4f}{suffix}"


def _question(df: pd.DataFrame) -> pd.Series:
    from .stats import pair_family

    return pd.Series([pair_family(a, b) for a, b in zip(df["strategy_a"], df["strategy_b"])],
                     index=df.index, dtype=object)


def _variants() -> str:
    """``X_vae (X_cvae, X_gmvae)``: the thesis's variants, from alvae.vocabulary."""
    first, *rest = [f"X_{k}" for k in vocabulary.KINDS]
    return first + (f" ({', '.join(rest)})" if rest else "")


def _is_vae_pair(df: pd.DataFrame) -> pd.Series:
    from .stats import THESIS_FAMILY

    return _question(df) == THESIS_FAMILY


def _tested(df: pd.DataFrame) -> pd.Series:
    """Rows with a defined t-test (the rows counted in their family)."""
    return df["t"].notna() if "t" in df else df["p_adj"].notna()


def _verdicts(df: pd.DataFrame, alpha: float) -> pd.Series:
    """The verdict column, or (tables without one) recomputed by alvae.analysis.stats.verdict."""
    from .stats import BEFORE_QUERY_NOTE, verdict

    if "verdict" in df:
        return df["verdict"]
    before = (df["note"].map(lambda n: isinstance(n, str) and BEFORE_QUERY_NOTE in n)
              if "note" in df else pd.Series(False, index=df.index))
    pe = df["p_equiv_adj"] if "p_equiv_adj" in df else pd.Series(np.nan, index=df.index)
    return pd.Series([verdict(a, e, t, b, alpha) for a, e, t, b in
                      zip(df["p_adj"], pe, _tested(df), before)], index=df.index)


def _primary(df: pd.DataFrame | None) -> pd.Series:
    """Rows of the primary metric (tables without a role column: every row)."""
    if df is None:
        return pd.Series(dtype=bool)
    if "role" not in df:
        return pd.Series(True, index=df.index)
    return df["role"].fillna("primary") == "primary"


def _margins(df: pd.DataFrame) -> str:
    """"±0.01", or the margins per (dataset and) metric when they differ."""
    if "margin" not in df or df["margin"].dropna().empty:
        from .stats import DEFAULT_MARGIN

        return f"±{DEFAULT_MARGIN:g}"
    per = df.dropna(subset=["margin"]).groupby(["dataset", "metric"], sort=False)["margin"].first()
    if per.nunique() == 1:
        return f"±{per.iloc[0]:.3g}"
    several = len({d for d, _ in per.index}) > 1
    return "±δ (" + ", ".join(f"{d + ' ' if several else ''}{m} {v:.3g}"
                              for (d, m), v in per.items()) + ")"


def _margin_sources(*tables) -> str:
    """One clause per dataset x metric: its δ and where it comes from."""
    rows = pd.concat([t for t in tables if t is not None and "margin" in t], ignore_index=True) \
        if any(t is not None and "margin" in t for t in tables) else pd.DataFrame()
    if rows.empty:
        return ""
    src = rows["margin_source"] if "margin_source" in rows else pd.Series("", index=rows.index)
    per = (rows.assign(margin_source=src).dropna(subset=["margin"])
           .groupby(["dataset", "metric"], sort=False)[["margin", "margin_source"]].first())
    return "; ".join(f"{d} {m} ±{r.margin:.3g}" + (f" ({r.margin_source})"
                                                   if isinstance(r.margin_source, str)
                                                   and r.margin_source else "")
                     for (d, m), r in per.iterrows())


def _levels(rows: pd.DataFrame, alpha: float) -> str:
    """"alpha/m = 0.05/30 = 0.00167" for the rows' power level(s) (column power_alpha)."""
    if "power_alpha" not in rows or rows["power_alpha"].dropna().empty:
        return f"alpha = {alpha:g}"
    parts = []
    for lvl in sorted(rows["power_alpha"].dropna().unique(), reverse=True):
        m = int(round(alpha / lvl))
        parts.append(f"{alpha:g}/{m} = {lvl:.3g}")
    return "alpha/m = " + ", ".join(parts)


def _count(v: pd.Series) -> dict:
    return {o: int((v == o).sum()) for o in OUTCOMES}


def _counts_text(c: dict, margin: str) -> str:
    return (f"{c['differs']} differ, {c['equivalent']} equivalent within {margin}, "
            f"{c['inconclusive']} inconclusive")


def _why_untested(g: pd.DataFrame) -> str:
    """The reasons in the note column of untested rows, shortest form."""
    notes = [str(n) for n in g["note"] if isinstance(n, str) and n]
    reasons = []
    for key, text in (("fewer than 2 seeds", "fewer than 2 seeds"),
                      ("identical values", "identical values in every seed"),
                      ("constant difference", "a constant difference in every seed"),
                      ("before any query", "before any query")):
        if any(key in n for n in notes):
            reasons.append(text)
    return ", ".join(reasons) or "see the note column"


def _span(lo: float, hi: float, fmt: str) -> str:
    return format(lo, fmt) if format(lo, fmt) == format(hi, fmt) else \
        f"{format(lo, fmt)} to {format(hi, fmt)}"


def _design(g: pd.DataFrame, aulc: pd.DataFrame | None, alpha: float) -> str:
    """What the design could detect over the rows ``g`` (per budget) and
    ``aulc``: MDE and seeds needed to detect the margin, as ranges."""
    from .power import POWER

    parts = []
    n = int(g["n_pairs"].max()) if len(g) else 0
    for rows, where in ((g, "per budget"), (aulc, "on AULC")):
        if rows is None or not len(rows) or "mde" not in rows:
            continue
        mde = rows["mde"].dropna()
        need = rows["seeds_needed"].dropna()
        if len(mde):
            text = f"{_span(mde.min(), mde.max(), '.4f')} {where}"
            if len(need):
                text += (f" ({_span(int(need.min()), int(need.max()), 'd')} seeds would "
                         f"detect a difference of {_margins(rows).lstrip('±')})")
            parts.append(text)
    if not parts:
        return ""
    both = pd.concat([r for r in (g, aulc) if r is not None and len(r)], ignore_index=True)
    return (f"At {POWER:.0%} power at the families' levels ({_levels(both, alpha)}, m the "
            f"tests of the family: Holm rejects a p at or below it whatever the family's other "
            f"tests show), with n = {n} seeds, the smallest detectable difference is "
            + "; ".join(parts))


def _power_sentence(g: pd.DataFrame, aulc_row, alpha: float) -> str:
    """What the design could have detected, per budget (range) and on AULC."""
    from .power import POWER

    mde = g["mde"].dropna() if "mde" in g else pd.Series(dtype=float)
    need = g["seeds_needed"].dropna() if "seeds_needed" in g else pd.Series(dtype=float)
    n = int(g["n_pairs"].max()) if len(g) else 0
    margin = _margins(g).lstrip("±")
    what = (f"At {POWER:.0%} power (two-sided paired t-test at the family's level "
            f"{_levels(g, alpha)}, m the tests of the family: Holm rejects a p at or below it "
            f"whatever the family's other tests show; the observed sd of the paired "
            f"differences, n = {n} seeds)")
    parts = []
    if len(mde):
        parts.append("the smallest detectable difference per budget is "
                     + _span(mde.min(), mde.max(), ".4f"))
    if aulc_row is not None and np.isfinite(getattr(aulc_row, "mde", np.nan)):
        lvl = getattr(aulc_row, "power_alpha", np.nan)
        at = f" (at {lvl:.3g})" if np.isfinite(lvl) else ""
        parts.append(f"on AULC {aulc_row.mde:.4f}{at}")
    if not parts:
        return (f"  Power: not computable (no budget with a t-test: "
                f"{_why_untested(g)}).")
    text = f"  Power: {what}, " + "; ".join(parts)
    if len(need):
        text += (f". Detecting a difference of {margin} would need "
                 + _span(int(need.min()), int(need.max()), "d") + " seeds per budget")
    if aulc_row is not None and pd.notna(getattr(aulc_row, "seeds_needed", np.nan)):
        text += f" ({int(aulc_row.seeds_needed)} on AULC)"
    return text + "."


def _pair_lines(g: pd.DataFrame, aulc_row, alpha: float) -> list[str]:
    from .stats import BEFORE_QUERY

    a, b, metric = g["strategy_a"].iloc[0], g["strategy_b"].iloc[0], g["metric"].iloc[0]
    role = f" ({g['role'].iloc[0]})" if "role" in g else ""
    tested = _tested(g)
    verdicts = _verdicts(g, alpha)
    before = verdicts == BEFORE_QUERY
    sig = g[tested & (g["p_adj"] < alpha)].sort_values("n_labels")
    family = g["family"].iloc[0] if "family" in g else ""
    margin = _margins(g)
    if not tested.any():
        line = (f"- **{a} vs {b}**, {metric}{role}: no budget could be tested "
                f"({_why_untested(g[~before] if (~before).any() else g)}); "
                f"{_direction(a, b, g.loc[~before, 'mean_diff'].mean())} "
                f"(mean of the per-budget differences)")
    else:
        c = _count(verdicts[tested])
        line = (f"- **{a} vs {b}**, {metric}{role}: {len(sig)} of {int(tested.sum())} tested "
                f"budgets with adjusted p < {alpha:g}, {c['equivalent']} equivalent within "
                f"{margin}, {c['inconclusive']} inconclusive (family: {family}); "
                f"{_direction(a, b, g.loc[tested, 'mean_diff'].mean())} "
                "(mean of the per-budget differences)")
    if len(sig):
        parts = [f"{int(r.n_labels)} labels ({_direction(a, b, r.mean_diff, '')}, "
                 f"p_adj = {_p(r.p_adj)})" for r in sig.itertuples()]
        line += ". Significant at " + "; ".join(parts)
    untested = int((~tested & ~before).sum())
    if untested and tested.any():
        line += (f". {untested} budget(s) not testable ({_why_untested(g[~tested & ~before])}; "
                 "not counted in the family)")
    if before.any():
        line += (f". {int(before.sum())} budget(s) before any query "
                 f"({', '.join(str(int(n)) for n in g.loc[before, 'n_labels'])} labels: "
                 "shown, not tested)")
    lines = [line + "."]
    if aulc_row is not None:
        r = aulc_row
        if not np.isfinite(r.t):
            verdict = " (no test possible: " + _why_untested(pd.DataFrame([r._asdict()])) + ")."
        else:
            v = getattr(r, "verdict", "differs" if r.p_adj < alpha else "inconclusive")
            verdict = (f", p_adj = {_p(r.p_adj)}"
                       + (" (significant)" if r.p_adj < alpha else " (not significant)")
                       + f", equivalence p_equiv_adj = {_p(getattr(r, 'p_equiv_adj', np.nan))}"
                       f": **{v}**.")
        area = getattr(r, "area", None)
        area = f" ({area})" if isinstance(area, str) and area else ""
        lines.append(
            f"\n  AULC{area}: {a} {_fmt(r.mean_a)} vs {b} {_fmt(r.mean_b)}, "
            f"difference {_fmt(r.mean_diff)} "
            f"(95% CI {_fmt(r.ci_low)} to {_fmt(r.ci_high)}), paired t p = {_p(r.p)}, "
            f"Wilcoxon p = {_p(r.p_wilcoxon)}, n = {int(r.n_pairs)} seeds" + verdict
            + (f" Note: {r.note}." if isinstance(r.note, str) and r.note else ""))
    lines.append("\n" + _power_sentence(g[~before], aulc_row, alpha))
    return lines


def _method_paragraph(tests_df: pd.DataFrame, aulc_tests_df, alpha: float) -> str:
    from .stats import BEFORE_QUERY

    method = (tests_df["correction"].iloc[0] if "correction" in tests_df and len(tests_df)
              else "holm")
    fams = list(dict.fromkeys(tests_df["family"])) if "family" in tests_df else []
    if aulc_tests_df is not None and "family" in aulc_tests_df:
        fams += list(dict.fromkeys(aulc_tests_df["family"]))
    tested = int(_tested(tests_df).sum())
    before = int((_verdicts(tests_df, alpha) == BEFORE_QUERY).sum())
    untested = len(tests_df) - tested - before
    text = (f"Multiple testing: the raw paired t-test p-values, and the TOST p-values of "
            f"equivalence, are adjusted by {CORRECTION_NAMES.get(method, method)} within "
            "families (column ``family``), one per dataset x metric x question: the thesis's "
            f"question, each strategy X against its VAE variant {_variants()} over all "
            "those pairs and all budgets; where the study has both schedules, each "
            "representation trained once vs retrained every round (+per_round labels); the "
            "comparisons with random; and any other pairs. The AULC tests form the same "
            f"families on their own. Each row's verdict: **differs** (p_adj < {alpha:g}), "
            f"**equivalent** (p_equiv_adj < {alpha:g}: no difference larger than the margin "
            f"{_margins(tests_df)} was shown by the paired TOST), "
            "or **inconclusive** (neither: the data cannot tell; the row gives the smallest "
            "difference the design detects, ``mde``). "
            f"{tested} per-budget test(s) were run; {before} row(s) at the initial budget come "
            "before any query (round 0: every strategy trained on the seed's initial labels; "
            "shown, not tested, not counted); "
            f"{untested} row(s) had no defined test (identical values in every seed, a constant "
            "difference, or fewer than 2 seeds: see ``note``) and are left out of the "
            "families' counts and of the adjustment. The AULC is the area over the budgets "
            "after the first query (column ``area``): round 0, the same point for strategies "
            "that train alike, is left out of it as of the per-budget tests. "
            "The headline uses each dataset's primary metric "
            "(``stats.primary_metric``); the other metrics are secondary: each is adjusted "
            "within its own families, and nothing is adjusted across metrics.")
    if fams:
        text += " Families: " + "; ".join(f"*{f}*" for f in fams) + "."
    sources = _margin_sources(tests_df, aulc_tests_df)
    if sources:
        text += (" Equivalence margins, per dataset and metric (``stats.equivalence_margin``; "
                 "unset, one point of the task's own metric and the others matched to it "
                 "through the study's learning curves): " + sources + ".")
    return text + "\n"


def _question_lines(tests: pd.DataFrame, aulc: pd.DataFrame, alpha: float) -> list[str]:
    """Per question: how many budgets and AULCs differ, are equivalent or inconclusive."""
    from .stats import QUESTIONS

    out = []
    qb, qa = _question(tests), _question(aulc)
    vb, va = _verdicts(tests, alpha), _verdicts(aulc, alpha)
    margin = _margins(tests)
    for q in QUESTIONS:
        b, a = tests[qb == q], aulc[qa == q]
        if not len(b) and not len(a):
            continue
        cb, ca = _count(vb[b.index]), _count(va[a.index])
        nb, na = sum(cb.values()), sum(ca.values())
        out.append(f"- *{QUESTION_NAMES[q]}*: of {nb} tested budget(s), "
                   f"{_counts_text(cb, margin)}; of {na} AULC test(s), {_counts_text(ca, margin)}.")
    return out


def _thesis_sentence(tests: pd.DataFrame, aulc: pd.DataFrame, alpha: float) -> str:
    """The sentence on the thesis's question (primary metric): "a null result"
    only when every tested thesis pair is equivalent within the margin."""
    from .stats import BEFORE_QUERY

    tb, ta = tests[_is_vae_pair(tests)], aulc[_is_vae_pair(aulc)]
    vb, va = _verdicts(tb, alpha), _verdicts(ta, alpha)
    cb, ca = _count(vb), _count(va)
    nb, na = sum(cb.values()), sum(ca.values())
    margin = _margins(tests)
    if not len(tb) and not len(ta):
        return "No strategy was compared with a VAE variant of itself (no such pair).\n"
    if nb + na == 0:
        rows = pd.concat([tb[vb != BEFORE_QUERY], ta])
        return ("**No strategy could be tested against its VAE variant** "
                f"({_why_untested(rows) if len(rows) else 'no budget after a query'}).\n")
    if cb["differs"] or ca["differs"]:
        return (f"**Between a strategy and its VAE variant, {cb['differs']} budget(s) and "
                f"{ca['differs']} AULC test(s) differ significantly** (see below for which and "
                "in which direction).\n")
    if cb["equivalent"] == nb and ca["equivalent"] == na:
        return (f"**Every tested budget ({nb}) and AULC ({na}) of a strategy against its VAE "
                f"variant is equivalent within {margin}: {NULL_PHRASE}.**\n")
    design = _design(tb[vb.isin(OUTCOMES)], ta[va.isin(OUTCOMES)], alpha)
    return (f"**Between a strategy and its VAE variant the result is inconclusive**: no budget "
            f"and no AULC differs significantly, but only {cb['equivalent'] + ca['equivalent']} "
            f"of {nb + na} test(s) show equivalence within {margin}. A difference that is not "
            "significant is not shown to be absent. " + (design + "." if design else "") + "\n")


def _secondary_lines(tests: pd.DataFrame, aulc: pd.DataFrame, alpha: float) -> list[str]:
    if not len(tests) and not len(aulc):
        return []
    metrics = list(dict.fromkeys(list(tests["metric"]) + list(aulc["metric"])))
    out = [f"Secondary metrics ({', '.join(metrics)}; each adjusted within its own families, "
           "not across metrics, so read them as supporting evidence, not as claims of their "
           "own):"]
    out += _question_lines(tests, aulc, alpha)
    return out


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
    sentence per strategy on the labels it saves (alvae.analysis.labels_saved) and each strategy's
    final score as a share of the all-labels ceiling (alvae.training.ceiling)."""
    text = _tests_summary(tests_df, aulc_tests_df, alpha, rankings, datasets)
    from .plots import NAMES

    if labels_saved is not None:
        from .labels_saved import summary_rst as labels_saved_rst

        text += "\n" + labels_saved_rst(labels_saved, NAMES)
    if ceiling is not None and curves_summary is not None:
        from ..training.ceiling import share_rst
        from .labels_saved import primary_metrics

        text += "\n" + share_rst(curves_summary, ceiling, primary_metrics(datasets), NAMES)
    return text


def _tests_summary(tests_df, aulc_tests_df, alpha, rankings, datasets) -> str:
    out = [_title("Summary of the paired tests"),
           "Paired over seeds (shared initial labels): t-test and Wilcoxon signed-rank test per "
           "label budget after the first query and on the AULC (area under each run's learning "
           "curve divided by the label range), and a paired equivalence test (TOST) against a "
           "margin; differences are first minus second strategy.\n"]
    overlap = _overlap_sentence(datasets)
    if overlap:
        out.append(overlap)
    if tests_df is None or tests_df.empty:
        return "\n".join(out + ["No tests were run (no pairs of strategies with results).\n"])
    out.append(_method_paragraph(tests_df, aulc_tests_df, alpha))
    has_aulc = aulc_tests_df is not None and not aulc_tests_df.empty
    aulc_df = aulc_tests_df if has_aulc else tests_df.iloc[:0]
    tested = _tested(tests_df)
    aulc_tested = _tested(aulc_df)
    if not tested.any() and not aulc_tested.any():
        out.append("**No test was possible**: no budget and no AULC had a defined paired test "
                   f"({_why_untested(tests_df)}). Nothing can be concluded about differences "
                   "between strategies from this run.\n")
    else:
        prim, prim_a = _primary(tests_df), _primary(aulc_df)
        tp, ap = tests_df[prim], aulc_df[prim_a]
        metrics = ", ".join(f"{d}: {m}" for d, m in
                            dict(zip(tp["dataset"], tp["metric"])).items())
        out.append(f"**Primary metric** ({metrics}), per question:\n")
        out.append("\n".join(_question_lines(tp, ap, alpha)) + "\n")
        out.append(_thesis_sentence(tp, ap, alpha))
        sec = _secondary_lines(tests_df[~prim], aulc_df[~prim_a], alpha)
        if sec:
            out.append(sec[0] + "\n\n" + "\n".join(sec[1:]) + "\n")
    for r in _ordered_rankings(rankings or []):
        out.append(_ranking_sentence(r, alpha))
    left = _left_out_sentence(datasets)
    if left:
        out.append(left)
    for dataset, gd in tests_df.groupby("dataset", sort=True):
        out.append(_title(str(dataset), "-"))
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
            out.extend(_pair_lines(g.sort_values("n_labels"), row, alpha) + [""])
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
        text += (": no pair of strategies can be separated" if not info.get("separable", True)
                 else "")
    return text + " (see the CD diagram and the pairwise penalty matrix).\n"


def settings_rst(config: dict, versions: dict) -> str:
    """The run's settings (as YAML in a literal block) and software versions."""
    text = yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    block = "\n".join("    " + line if line else "" for line in text.splitlines())
    width = max(len(k) for k in versions) if versions else 8
    vers = "\n".join(f"    {k:<{width}}  {v}" for k, v in versions.items())
    return "\n".join([_title("Settings of this run"),
                      "Configuration (after validation and defaults)::",
                      "", block, "", _title("Software versions", "-"), "::", "", vers, ""])


def software_versions() -> dict:
    """Versions of Python and the libraries the results depend on ("not installed" if absent)."""
    versions = {"python": platform.python_version()}
    for name, dist in [("torch", "torch"), ("torchvision", "torchvision"), ("numpy", "numpy"),
                       ("scipy", "scipy"), ("sklearn", "scikit-learn"),
                       ("matplotlib", "matplotlib"), ("pandas", "pandas"),
                       ("snakemake", "snakemake"), ("medmnist", "medmnist"), ("alvae", "alvae")]:
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            try:
                versions[name] = getattr(importlib.import_module(name), "__version__", "unknown")
            except Exception:
                versions[name] = "not installed"
    if versions.get("torch") not in (None, "not installed"):
        try:
            import torch

            versions["cuda (torch build)"] = torch.version.cuda or "none (CPU build)"
        except Exception:
            pass
    return versions


# ------------------------------------------------------------------ the Classifier page

# the final train accuracy a round should reach when the recipe sets no target of its own
# (task_model.train_until.train_acc): see underfit_threshold
UNDERFIT_DEFAULT = 0.95

def _own_training(strategy: str) -> bool:
    """Whether a strategy's round 0 trains differently from plain training (a jointly
    trained loss module, a dropout layer): alvae.vocabulary's traits."""
    from ..labels import strategy_of

    try:
        t = vocabulary.traits(strategy_of(str(strategy)))
    except ValueError:
        return False
    return t.trains_module or t.mc_dropout


def _csv_table(header: list[str], rows: list[list]) -> list[str]:
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "n/a" if not np.isfinite(v) else f"{v:.4g}"
        return str(v).replace('"', "'")

    lines = ["", ".. csv-table::", "   :header: " + ", ".join(f'"{h}"' for h in header), ""]
    lines += ["   " + ", ".join(f'"{cell(v)}"' for v in r) for r in rows]
    return lines + [""]


def reference_strategy(strategies) -> str | None:
    """The strategy whose round 0 stands for the recipe's plain training: random if run,
    else the first that trains the task model alone."""
    strategies = list(strategies)
    if "random" in strategies:
        return "random"
    plain = [s for s in strategies if not _own_training(s)]
    return plain[0] if plain else None


def underfit_threshold(task_model: dict) -> tuple[float, str]:
    """(train accuracy a round should reach, where that number comes from): the
    recipe's own stopping target, ``task_model.train_until.train_acc`` when
    ``train_until`` is a mapping, else :data:`UNDERFIT_DEFAULT` (named as such)."""
    until = task_model.get("train_until")
    if isinstance(until, dict) and until.get("train_acc") is not None:
        return float(until["train_acc"]), "task_model.train_until.train_acc"
    return UNDERFIT_DEFAULT, (f"the default {UNDERFIT_DEFAULT:g}: the recipe sets no train-"
                              "accuracy target")


underfit_target = underfit_threshold  # (older name)


def underfit_shares(runs: pd.DataFrame, dataset: str, target: float) -> pd.DataFrame:
    """Per strategy of ``dataset``: rounds, rounds ending below train accuracy
    ``target``, their share, and the lowest train accuracy."""
    g = runs[(runs["dataset"] == dataset)].dropna(subset=["train_acc"]) \
        if "train_acc" in runs else runs.iloc[:0]
    out = g.groupby("strategy", sort=True)["train_acc"].agg(
        rounds="size", below=lambda v: int((v < target).sum()), lowest="min")
    out["share"] = out["below"] / out["rounds"]
    return out.reset_index()


def underfit_lines(runs: pd.DataFrame, dataset: str, target: float) -> list[str]:
    """The train-accuracy check of one dataset: the worst rounds, and per strategy the
    share of rounds below ``target`` beside the reference's (random's); a strategy whose
    share is larger than the reference's is named."""
    g = runs[runs["dataset"] == dataset]
    if "train_acc" not in g or g["train_acc"].dropna().empty:
        return ["No runs recorded a train accuracy."]
    low = g[g["train_acc"] < target]
    if low.empty:
        out = [f"Every round of every run ended at train accuracy >= {target:g} "
               f"(lowest {g['train_acc'].min():.4f})."]
    else:
        worst = low.sort_values("train_acc").iloc[0]
        per = low.groupby("round").size()
        out = [f"**Warning: under-fitting.** {len(low)} of {len(g)} rounds ended below train "
               f"accuracy {target:g} (by round: " + ", ".join(f"round {int(r)}: {n}" for r, n in
                                                             per.items())
               + f"); lowest {worst['train_acc']:.4f} ({worst['strategy']}, seed "
               f"{int(worst['seed'])}, round {int(worst['round'])}). The recipe does not fit "
               "its labeled set there; compare strategies with care."]
    shares = underfit_shares(runs, dataset, target)
    ref = reference_strategy(shares["strategy"])
    out.append(f"Rounds below train accuracy {target:g}, per strategy"
               + (f" (beside {ref}'s):" if ref else ":"))
    out += _csv_table(["strategy", "rounds", f"below {target:g}", "share", "lowest"],
                      [[r.strategy, int(r.rounds), int(r.below), f"{r.share:.0%}", r.lowest]
                       for r in shares.itertuples()])
    if ref is None:
        out.append("No reference strategy (random, or one that trains the task model alone) "
                   "to compare the shares with.")
        return out
    base = shares.set_index("strategy").loc[ref, "share"]
    worse = shares[(shares["strategy"] != ref) & (shares["share"] > base)]
    if worse.empty:
        out.append(f"No strategy ends a larger share of its rounds below {target:g} than "
                   f"{ref} ({base:.0%}).")
    else:
        names = ", ".join(f"{r.strategy} ({r.share:.0%}, {r.below} of {r.rounds})"
                          for r in worse.itertuples())
        out.append(f"**Larger share of rounds below {target:g} than {ref} ({base:.0%}):** "
                   f"{names}. Their labeled sets are fitted less well than {ref}'s, so part "
                   "of their difference from it may come from training, not from what they "
                   "picked.")
    return out


def classifier_rst(mode: str, task_model: dict, runs: pd.DataFrame, studies: list[dict],
                   fixed_rows: pd.DataFrame | None = None, scope: str | None = None) -> str:
    """The report's "Classifier" page: the recipe each dataset trained with, every
    trial's cross-validation score, the round-0 test accuracy of the fixed and the tuned
    recipe side by side (when both ran), and under-fitting warnings.

    ``studies``: dicts with ``dataset``, ``scope``, ``recipe`` (a recipe.yaml) and
    ``trials`` (its trials.csv); ``fixed_rows``: the fixed recipe's round 0 per
    (dataset, seed), with columns dataset, seed, test_acc, train_acc."""
    target, why = underfit_threshold(task_model)
    out = [_title("Classifier")]
    if mode == "tuned":
        where = ("one study per dataset, on the first AL seed's initial labels" if scope ==
                 "dataset" else "one study per dataset and AL seed, on that seed's initial labels")
        out.append("Recipe: **tuned** (``task_model.recipe: tuned``): the keys of ``tune.space`` "
                   "were chosen by an Optuna study (TPE, median pruning) scored by k-fold "
                   f"cross-validation on the round-0 labeled set alone ({where}); nothing of "
                   "the test split, the unlabeled pool's labels or later rounds was read. The "
                   "fixed recipe (the config's ``task_model``) is trial 0, so on the CV score "
                   "the chosen recipe is never worse than it.\n")
    else:
        keys = ", ".join(f"{k} {task_model[k]}" for k in ("lr", "batch_size", "epochs_initial",
                                                           "epochs_per_round", "weight_decay")
                         if k in task_model)
        out.append(f"Recipe: **fixed** (``task_model.recipe: fixed``, the config's "
                   f"``task_model``: {keys}). No tuning stage ran.\n")
    out.append(f"Train-accuracy check: every round's final train accuracy (the running "
               f"accuracy over the last epoch's training batches) against {target:g} ({why}); "
               "per strategy, the share of its rounds below that, beside random's.\n")
    ref = reference_strategy(runs["strategy"].unique()) if len(runs) else None
    datasets = list(dict.fromkeys((list(runs["dataset"].unique()) if len(runs) else [])
                                  + [s["dataset"] for s in studies]))
    for dataset in datasets:
        out.append(_title(str(dataset), "-"))
        for st in [s for s in studies if s["dataset"] == dataset]:
            rec, trials = st["recipe"], st["trials"]
            fixed_score = rec.get("fixed_cv_score")
            out.append(f"Study **{st['scope']}** (AL seed {rec.get('al_seed')}'s initial labels, "
                       f"{rec.get('folds')}-fold CV in {rec.get('metric')}): trial "
                       f"{rec.get('trial')} of {rec.get('trials')} chosen, CV score "
                       f"{_fmt(rec.get('cv_score'))}; the fixed recipe (trial 0): "
                       f"{_fmt(fixed_score)}.")
            rows = [[k, task_model.get(k, "n/a"), v] for k, v in rec["task_model"].items()]
            out += _csv_table(["key", "fixed", "tuned"], rows)
            pcols = [c for c in trials.columns if c.startswith("param_")]
            folds = [c for c in trials.columns if c.startswith("fold_")]
            trows = [[int(r["trial"]), r["state"] + (" (fixed)" if r["fixed"] else ""),
                      r["cv_score"], *[r[c] for c in folds], *[r[c] for c in pcols]]
                     for _, r in trials.iterrows()]
            out.append("Every trial (CV score: mean over the folds; pruned trials stopped "
                       "after an epoch of their first fold):")
            out += _csv_table(["trial", "state", "CV score", *folds,
                               *[c[len("param_"):] for c in pcols]], trows)
        if fixed_rows is not None and len(fixed_rows) and ref is not None:
            f = fixed_rows[fixed_rows["dataset"] == dataset].set_index("seed")
            t = runs[(runs["dataset"] == dataset) & (runs["strategy"] == ref)
                     & (runs["round"] == 0)].set_index("seed")
            seeds = sorted(set(f.index) & set(t.index))
            if seeds:
                rows = [[int(s), f.loc[s, "test_acc"], t.loc[s, "test_acc"],
                         t.loc[s, "test_acc"] - f.loc[s, "test_acc"], f.loc[s, "train_acc"],
                         t.loc[s, "train_acc"]] for s in seeds]
                d = np.array([r[3] for r in rows], dtype=float)
                sd = f", sd {d.std(ddof=1):.4f}" if len(d) > 1 else ""
                out.append(f"Round 0 on the test split, fixed vs tuned recipe (same labels and "
                           f"seeds; tuned = the {ref} runs' round 0): mean difference "
                           f"{d.mean():+.4f}{sd} over {len(d)} seed(s).")
                out += _csv_table(["seed", "fixed test acc", "tuned test acc", "difference",
                                   "fixed train acc", "tuned train acc"], rows)
        if len(runs):
            out += underfit_lines(runs, dataset, target) + [""]
    return "\n".join(out) + "\n"
