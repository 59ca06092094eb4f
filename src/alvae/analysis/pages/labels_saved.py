"""The words of the labels-saved table and page: the texts of the table's columns
(``random_needed_text``, ``ci_text``, ``claim``, ``interval_method``) and the "Labels
saved" section of the summary, one sentence per dataset x strategy, "saves" or "costs"
only where the budget's adjusted paired test differs. The numbers:
alvae.analysis.labels_saved."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .text import fmt_p

BEYOND = "> final budget"
AT_FIRST = "<= first budget"
METHOD = ("{level:.0%} t interval of the paired score difference (strategy - random, over "
          "seeds), mapped through random's monotone mean curve; per budget, not adjusted")
# what a row claims, from the paired test of the budget (after the family's adjustment)
SAVES, COSTS, NO_DIFFERENCE, INCONCLUSIVE, NOT_TESTED = (
    "saves", "costs", "no difference larger than the margin", "inconclusive", "not tested")


def fmt_labels(v: float) -> str:
    return f"{v:,.0f}"


def needed_text(needed: float, first: float) -> str:
    if np.isnan(needed):
        return "n/a"
    if np.isinf(needed):
        return BEYOND
    if needed <= first:
        return f"{AT_FIRST} ({fmt_labels(first)})"
    return fmt_labels(needed)


def ci_text(lo: float, hi: float, low_clipped: bool) -> str:
    if np.isnan(lo) or np.isnan(hi):
        return "n/a"
    ends = []
    for v, clipped in ((lo, low_clipped), (hi, False)):
        if np.isinf(v):
            ends.append(BEYOND)
        else:
            ends.append(("<= " if clipped else "") + fmt_labels(v))
    return f"{ends[0]} to {ends[1]}"


def _amount(r) -> str:
    """"651 labels (25% of random's)", or what is known when random never gets there."""
    if r["reached"]:
        return (f"{fmt_labels(abs(r['labels_saved']))} labels "
                f"({abs(r['share_saved']):.0%} of random's)")
    left = r["final_budget"] - r["n_labels"]
    return (f"more than {fmt_labels(left)} labels (random does not reach that score within "
            f"the study's budgets)" if left > 0 else
            "labels, how many this study cannot tell (random would need budgets beyond the last)")


def _row_sentence(r) -> str:
    """What one budget claims, gated by its paired test."""
    test = f"paired test of this budget, adjusted: {r['test_verdict']} (p_adj = {fmt_p(r['p_adj'])})"
    interval = f"interval {r['ci_text']} labels saved"
    if r["claim"] in (SAVES, COSTS):
        needs = (f"random needs {r['random_needed_text']} labels for that score, so " if
                 r["reached"] else "")
        return f"{test}; {needs}it **{r['claim']}** {_amount(r)}; {interval}"
    if r["claim"] == NO_DIFFERENCE:
        return (f"{test}: no difference larger than ±{r['margin']:.3g} in {r['metric']}, so no "
                f"saving is claimed ({interval})")
    if r["claim"] == NOT_TESTED:
        return (f"no paired test of this budget against random (``stats.pairs``), so no saving "
                f"is claimed ({interval})")
    return f"{test}, so no saving is claimed: **inconclusive** ({interval})"


def labels_saved_rst(table: pd.DataFrame, names: Mapping[str, str] | None = None) -> str:
    """One sentence per dataset x strategy about its labels saved at the final
    budget, and a short one per earlier budget (reStructuredText). "saves" or
    "costs" only where the budget's adjusted paired test differs (``claim``)."""
    names = names or {}
    lines = ["Labels saved", "------------", ""]
    if table.empty:
        return "\n".join(lines + ["No strategy was run beside random sampling: no labels-saved "
                                  "table.", ""])
    first = table.iloc[0]
    lines += [f"How many labels random sampling needs to match each strategy's mean score: "
              f"random's mean curve made monotone and interpolated between budgets; the "
              f"interval is the {first['level']:.0%} t interval of the paired score difference "
              "(strategy - random, over seeds) mapped through that curve, per budget and not "
              "adjusted for multiplicity (``results/labels_saved.csv``). A strategy is said "
              "to save or cost labels at a budget only where the paired test of that budget "
              "against random differs after its family's adjustment (``results/tests.csv``); "
              "elsewhere the saving is inconclusive, and only its interval is given.", ""]
    for (dataset, strategy), g in table.groupby(["dataset", "strategy"], sort=True):
        g = g.sort_values("n_labels")
        r = g.iloc[-1]
        who = names.get(strategy, strategy)
        diff = ("" if pd.isna(r["mean_diff"]) else
                f", paired difference {r['mean_diff']:+.4f}"
                + ("" if pd.isna(r["diff_low"]) else
                   f" ({r['level']:.0%} t interval {r['diff_low']:+.4f} to {r['diff_high']:+.4f})"))
        text = (f"- **{dataset}, {who}** ({r['metric']}, {int(r['n_seeds'])} seeds): at "
                f"{fmt_labels(r['n_labels'])} labels it scores {r['score']:.4f} against "
                f"random's {r['random_score']:.4f}{diff}; " + _row_sentence(r) + ".")
        if len(g) > 1:
            others = []
            for x in g.iloc[:-1].to_dict("records"):
                at = f"at {fmt_labels(x['n_labels'])}"
                if x["claim"] in (SAVES, COSTS):
                    amount = (fmt_labels(abs(x["labels_saved"])) if x["reached"] else
                              f"more than {fmt_labels(x['final_budget'] - x['n_labels'])}")
                    others.append(f"{at} {x['claim']} {amount} (differs, p_adj = "
                                  f"{fmt_p(x['p_adj'])})")
                else:
                    others.append(f"{at} {x['claim']} (interval {x['ci_text']})")
            text += " Earlier budgets: " + "; ".join(others) + "."
        lines.append(text)
    return "\n".join(lines) + "\n"
