"""The words of the paired tests: the method paragraph, per question the counts of
verdicts, the sentence on the thesis's question ("a null result" only when every tested
thesis pair is equivalent), the secondary metrics, and per pair of strategies its
budgets, its AULC test and what the design could detect. The numbers come from
results/tests.csv and tests_aulc.csv (alvae.analysis.stats, alvae.analysis.power);
which rows are tested and their verdicts from alvae.analysis.report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import vocabulary
from ..report import (
    OUTCOMES,
    is_thesis_pair,
    outcome_counts,
    question_of,
    tested_rows,
    verdicts_of,
)
from .text import direction, fmt, fmt_p, span

NULL_PHRASE = "a null result, as the thesis found"  # only when the thesis pairs are equivalent
NULL_SENTENCE = NULL_PHRASE  # (older name)
CORRECTION_NAMES = {"holm": "Holm's step-down method", "bh": "the Benjamini-Hochberg method"}
QUESTION_NAMES = {"X vs X_<VAE kind>": "X vs X_<VAE kind> (the thesis's question)",
                  "VAE trained once vs per round": "VAE trained once vs per round",
                  "vs random": "vs random", "other pairs": "other pairs"}


def variants() -> str:
    """``X_vae (X_cvae, X_gmvae)``: the thesis's variants, from alvae.vocabulary."""
    first, *rest = [f"X_{k}" for k in vocabulary.KINDS]
    return first + (f" ({', '.join(rest)})" if rest else "")


def margins(df: pd.DataFrame) -> str:
    """"±0.01", or the margins per (dataset and) metric when they differ."""
    if "margin" not in df or df["margin"].dropna().empty:
        from ..stats import DEFAULT_MARGIN

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


def _counts_text(c: dict, margin: str) -> str:
    return (f"{c['differs']} differ, {c['equivalent']} equivalent within {margin}, "
            f"{c['inconclusive']} inconclusive")


def why_untested(g: pd.DataFrame) -> str:
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


def _design(g: pd.DataFrame, aulc: pd.DataFrame | None, alpha: float) -> str:
    """What the design could detect over the rows ``g`` (per budget) and
    ``aulc``: MDE and seeds needed to detect the margin, as ranges."""
    from ..power import POWER

    parts = []
    n = int(g["n_pairs"].max()) if len(g) else 0
    for rows, where in ((g, "per budget"), (aulc, "on AULC")):
        if rows is None or not len(rows) or "mde" not in rows:
            continue
        mde = rows["mde"].dropna()
        need = rows["seeds_needed"].dropna()
        if len(mde):
            text = f"{span(mde.min(), mde.max(), '.4f')} {where}"
            if len(need):
                text += (f" ({span(int(need.min()), int(need.max()), 'd')} seeds would "
                         f"detect a difference of {margins(rows).lstrip('±')})")
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
    from ..power import POWER

    mde = g["mde"].dropna() if "mde" in g else pd.Series(dtype=float)
    need = g["seeds_needed"].dropna() if "seeds_needed" in g else pd.Series(dtype=float)
    n = int(g["n_pairs"].max()) if len(g) else 0
    margin = margins(g).lstrip("±")
    what = (f"At {POWER:.0%} power (two-sided paired t-test at the family's level "
            f"{_levels(g, alpha)}, m the tests of the family: Holm rejects a p at or below it "
            f"whatever the family's other tests show; the observed sd of the paired "
            f"differences, n = {n} seeds)")
    parts = []
    if len(mde):
        parts.append("the smallest detectable difference per budget is "
                     + span(mde.min(), mde.max(), ".4f"))
    if aulc_row is not None and np.isfinite(getattr(aulc_row, "mde", np.nan)):
        lvl = getattr(aulc_row, "power_alpha", np.nan)
        at = f" (at {lvl:.3g})" if np.isfinite(lvl) else ""
        parts.append(f"on AULC {aulc_row.mde:.4f}{at}")
    if not parts:
        return (f"  Power: not computable (no budget with a t-test: "
                f"{why_untested(g)}).")
    text = f"  Power: {what}, " + "; ".join(parts)
    if len(need):
        text += (f". Detecting a difference of {margin} would need "
                 + span(int(need.min()), int(need.max()), "d") + " seeds per budget")
    if aulc_row is not None and pd.notna(getattr(aulc_row, "seeds_needed", np.nan)):
        text += f" ({int(aulc_row.seeds_needed)} on AULC)"
    return text + "."


def pair_lines(g: pd.DataFrame, aulc_row, alpha: float) -> list[str]:
    from ..stats import BEFORE_QUERY

    a, b, metric = g["strategy_a"].iloc[0], g["strategy_b"].iloc[0], g["metric"].iloc[0]
    role = f" ({g['role'].iloc[0]})" if "role" in g else ""
    tested = tested_rows(g)
    verdicts = verdicts_of(g, alpha)
    before = verdicts == BEFORE_QUERY
    sig = g[tested & (g["p_adj"] < alpha)].sort_values("n_labels")
    family = g["family"].iloc[0] if "family" in g else ""
    margin = margins(g)
    if not tested.any():
        line = (f"- **{a} vs {b}**, {metric}{role}: no budget could be tested "
                f"({why_untested(g[~before] if (~before).any() else g)}); "
                f"{direction(a, b, g.loc[~before, 'mean_diff'].mean())} "
                f"(mean of the per-budget differences)")
    else:
        c = outcome_counts(verdicts[tested])
        line = (f"- **{a} vs {b}**, {metric}{role}: {len(sig)} of {int(tested.sum())} tested "
                f"budgets with adjusted p < {alpha:g}, {c['equivalent']} equivalent within "
                f"{margin}, {c['inconclusive']} inconclusive (family: {family}); "
                f"{direction(a, b, g.loc[tested, 'mean_diff'].mean())} "
                "(mean of the per-budget differences)")
    if len(sig):
        parts = [f"{int(r.n_labels)} labels ({direction(a, b, r.mean_diff, '')}, "
                 f"p_adj = {fmt_p(r.p_adj)})" for r in sig.itertuples()]
        line += ". Significant at " + "; ".join(parts)
    untested = int((~tested & ~before).sum())
    if untested and tested.any():
        line += (f". {untested} budget(s) not testable ({why_untested(g[~tested & ~before])}; "
                 "not counted in the family)")
    if before.any():
        line += (f". {int(before.sum())} budget(s) before any query "
                 f"({', '.join(str(int(n)) for n in g.loc[before, 'n_labels'])} labels: "
                 "shown, not tested)")
    lines = [line + "."]
    if aulc_row is not None:
        r = aulc_row
        if not np.isfinite(r.t):
            verdict = " (no test possible: " + why_untested(pd.DataFrame([r._asdict()])) + ")."
        else:
            v = getattr(r, "verdict", "differs" if r.p_adj < alpha else "inconclusive")
            verdict = (f", p_adj = {fmt_p(r.p_adj)}"
                       + (" (significant)" if r.p_adj < alpha else " (not significant)")
                       + f", equivalence p_equiv_adj = {fmt_p(getattr(r, 'p_equiv_adj', np.nan))}"
                       f": **{v}**.")
        area = getattr(r, "area", None)
        area = f" ({area})" if isinstance(area, str) and area else ""
        lines.append(
            f"\n  AULC{area}: {a} {fmt(r.mean_a)} vs {b} {fmt(r.mean_b)}, "
            f"difference {fmt(r.mean_diff)} "
            f"(95% CI {fmt(r.ci_low)} to {fmt(r.ci_high)}), paired t p = {fmt_p(r.p)}, "
            f"Wilcoxon p = {fmt_p(r.p_wilcoxon)}, n = {int(r.n_pairs)} seeds" + verdict
            + (f" Note: {r.note}." if isinstance(r.note, str) and r.note else ""))
    lines.append("\n" + _power_sentence(g[~before], aulc_row, alpha))
    return lines


def method_paragraph(tests_df: pd.DataFrame, aulc_tests_df, alpha: float) -> str:
    from ..stats import BEFORE_QUERY

    method = (tests_df["correction"].iloc[0] if "correction" in tests_df and len(tests_df)
              else "holm")
    fams = list(dict.fromkeys(tests_df["family"])) if "family" in tests_df else []
    if aulc_tests_df is not None and "family" in aulc_tests_df:
        fams += list(dict.fromkeys(aulc_tests_df["family"]))
    tested = int(tested_rows(tests_df).sum())
    before = int((verdicts_of(tests_df, alpha) == BEFORE_QUERY).sum())
    untested = len(tests_df) - tested - before
    text = (f"Multiple testing: the raw paired t-test p-values, and the TOST p-values of "
            f"equivalence, are adjusted by {CORRECTION_NAMES.get(method, method)} within "
            "families (column ``family``), one per dataset x metric x question: the thesis's "
            f"question, each strategy X against its VAE variant {variants()} over all "
            "those pairs and all budgets; where the study has both schedules, each "
            "representation trained once vs retrained every round (+per_round labels); the "
            "comparisons with random; and any other pairs. The AULC tests form the same "
            f"families on their own. Each row's verdict: **differs** (p_adj < {alpha:g}), "
            f"**equivalent** (p_equiv_adj < {alpha:g}: no difference larger than the margin "
            f"{margins(tests_df)} was shown by the paired TOST), "
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


def question_lines(tests: pd.DataFrame, aulc: pd.DataFrame, alpha: float) -> list[str]:
    """Per question: how many budgets and AULCs differ, are equivalent or inconclusive."""
    from ..stats import QUESTIONS

    out = []
    qb, qa = question_of(tests), question_of(aulc)
    vb, va = verdicts_of(tests, alpha), verdicts_of(aulc, alpha)
    margin = margins(tests)
    for q in QUESTIONS:
        b, a = tests[qb == q], aulc[qa == q]
        if not len(b) and not len(a):
            continue
        cb, ca = outcome_counts(vb[b.index]), outcome_counts(va[a.index])
        nb, na = sum(cb.values()), sum(ca.values())
        out.append(f"- *{QUESTION_NAMES[q]}*: of {nb} tested budget(s), "
                   f"{_counts_text(cb, margin)}; of {na} AULC test(s), {_counts_text(ca, margin)}.")
    return out


def thesis_sentence(tests: pd.DataFrame, aulc: pd.DataFrame, alpha: float) -> str:
    """The sentence on the thesis's question (primary metric): "a null result"
    only when every tested thesis pair is equivalent within the margin."""
    from ..stats import BEFORE_QUERY

    tb, ta = tests[is_thesis_pair(tests)], aulc[is_thesis_pair(aulc)]
    vb, va = verdicts_of(tb, alpha), verdicts_of(ta, alpha)
    cb, ca = outcome_counts(vb), outcome_counts(va)
    nb, na = sum(cb.values()), sum(ca.values())
    margin = margins(tests)
    if not len(tb) and not len(ta):
        return "No strategy was compared with a VAE variant of itself (no such pair).\n"
    if nb + na == 0:
        rows = pd.concat([tb[vb != BEFORE_QUERY], ta])
        return ("**No strategy could be tested against its VAE variant** "
                f"({why_untested(rows) if len(rows) else 'no budget after a query'}).\n")
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


def secondary_lines(tests: pd.DataFrame, aulc: pd.DataFrame, alpha: float) -> list[str]:
    if not len(tests) and not len(aulc):
        return []
    metrics = list(dict.fromkeys(list(tests["metric"]) + list(aulc["metric"])))
    out = [f"Secondary metrics ({', '.join(metrics)}; each adjusted within its own families, "
           "not across metrics, so read them as supporting evidence, not as claims of their "
           "own):"]
    out += question_lines(tests, aulc, alpha)
    return out
