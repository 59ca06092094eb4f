"""``al.extra_seeds``: seeds until the primary question can be decided, by a rule fixed
before any seed is seen.

A two-stage design. Stage 1 runs the seeds of ``al.seeds``. Then (checkpoint rule
``plan_seeds``), for every pair of the primary question on every dataset, the paired
differences of the per-run AULC (the primary metric's area under the learning curve,
:func:`alvae.analysis.results.aulc`) of the stage-1 seeds give one number: their
standard deviation s (k seeds). Nothing else of the results is read: not the mean
difference, not its sign, no p-value (:func:`plan` receives the differences and uses
only their standard deviation; tested by permuting and flipping them). From s:

* σ̂ = s, or, with ``sd_confidence`` c (default 0.8), the one-sided upper c confidence
  limit of σ, s·√((k − 1) / χ²_{1−c, k−1}) (a pilot's sd underestimates σ about half
  the time; the bound guards the plan against it);
* m = the number of pairs of the question on that dataset (the AULC family's size);
  level α/m (Bonferroni; Holm's and Benjamini-Hochberg's smallest threshold, so the
  plan holds for both corrections);
* n(pair) = the smallest n ≥ 2 at which, with sd σ̂ and level α/m, both
  (a) the two-sided paired t-test detects a true difference of δ with probability
  ``power`` (:func:`alvae.analysis.power.paired_power`), and
  (b) the paired TOST shows equivalence within ±δ with probability ``power`` when the
  true difference is 0 (:func:`tost_power`, normal-free: noncentral t, each one-sided
  test at α/m, the two combined by the Bonferroni inequality 2·P₁ − 1);
* the study's seeds: max over pairs and datasets of n(pair), raised to ``min_seeds``
  and capped at ``max_seeds``; the extra seeds are the next integers after the largest
  stage-1 seed. δ is ``effect``, default ``stats.equivalence_margin`` of the primary
  metric (so "decided" means: differs, or equivalent within δ).

The rule is stated in the plan file and in the report; stage 2 runs whatever it says,
and the tests then use every seed, stage 1 included (no optional stopping: the number
of seeds depends on the variance of stage 1, never on its differences). Between a true
difference of 0 and of δ a verdict may still be "inconclusive": the plan powers the
two ends, not the middle.
"""

from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np
from scipy import stats

from .power import paired_power

QUESTIONS = ("auto", "thesis", "random", "all")


def tost_power(sd: float, n: int, margin: float, alpha: float, delta: float = 0.0) -> float:
    """Probability that the paired TOST (two one-sided t-tests at level ``alpha``) shows
    |mean difference| < ``margin`` with ``n`` pairs of sd ``sd`` when the true mean
    difference is ``delta``: each one-sided test's power from the noncentral t, combined
    by the Bonferroni inequality P(both) ≥ P₁ + P₂ − 1 (a lower bound)."""
    if n < 2 or not sd > 0 or not margin > 0:
        return float("nan")
    df = n - 1
    crit = stats.t.ppf(1 - alpha, df)
    se = sd / math.sqrt(n)
    p_low = stats.nct.sf(crit, df, (delta + margin) / se)    # (d̄ + δ)/se > crit
    p_up = stats.nct.cdf(-crit, df, (delta - margin) / se)   # (d̄ − δ)/se < −crit
    return float(max(0.0, p_low + p_up - 1.0))


def sd_bound(sd: float, k: int, confidence: Optional[float]) -> float:
    """The sd the plan uses: ``sd`` itself, or the one-sided upper ``confidence`` limit of
    σ from k pairs: s·√((k − 1) / χ²_{1−c, k−1})."""
    if confidence is None:
        return float(sd)
    return float(sd * math.sqrt((k - 1) / stats.chi2.ppf(1 - confidence, k - 1)))


def seeds_to_decide(sd: float, effect: float, alpha: float, power: float, cap: int) -> Optional[int]:
    """Smallest n in 2..cap meeting both conditions of the module docstring; None when even
    ``cap`` seeds do not."""
    if not sd > 0:
        return 2
    for n in range(2, int(cap) + 1):
        if (paired_power(effect, sd, n, alpha) >= power
                and tost_power(sd, n, effect, alpha) >= power):
            return n
    return None


def rule_text(rule: Mapping, k: int) -> str:
    """The stopping rule in words, as fixed in the config before any seed."""
    conf = rule.get("sd_confidence")
    eff = rule.get("effect")
    return (f"two stages, the rule fixed in the config before any seed (``al.extra_seeds``): "
            f"after the first {k} seeds, the standard deviation of each primary-question pair's "
            f"paired AULC differences"
            + (f" (its upper {conf:g} confidence limit)" if conf is not None else "")
            + f" sets the seeds at which a paired t-test at level α/m detects a difference of "
              f"{'δ = ' + format(eff, 'g') if eff is not None else 'δ (the equivalence margin)'} "
              f"with power {rule['power']:g} and the TOST shows equivalence within ±δ "
              f"with that power when there is no difference (m: the pairs of the question); "
              f"between {rule.get('min_seeds') or k} and {rule.get('max_seeds')} seeds in all. "
              f"Only that standard deviation is read: no mean difference, sign or p-value.")


def plan(differences: Mapping[tuple, Sequence[float]], first_seeds: Sequence[int], rule: Mapping,
         alpha: float, effect: float, family_sizes: Mapping[tuple, int]) -> dict:
    """The seed plan from the stage-1 paired AULC differences.

    ``differences``: (dataset, a, b) -> the k per-seed differences (a − b) of the question's
    pairs; only their standard deviation is used. ``family_sizes``: (dataset, a, b) -> m,
    the size of the pair's AULC family.
    ``effect``: δ. Returns the plan (JSON-able): the rule, per pair the sd, the sd used,
    the level and n, the seeds needed, the seeds run and a sentence for the report."""
    k = len(first_seeds)
    conf = rule.get("sd_confidence")
    cap = int(rule["max_seeds"])
    floor = int(rule.get("min_seeds") or k)
    rows, needed = [], []
    for (dataset, a, b), d in sorted(differences.items()):
        d = np.asarray(d, dtype=float)
        d = d[np.isfinite(d)]
        if len(d) < 2:
            raise ValueError(f"al.extra_seeds: {dataset} {a} vs {b} has {len(d)} stage-1 pair(s); "
                             f"the plan needs at least 2")
        s = float(np.std(d, ddof=1))  # the only statistic of the differences read
        m = int(family_sizes[(dataset, a, b)])
        level = alpha / m
        used = sd_bound(s, len(d), conf)
        n = seeds_to_decide(used, effect, level, float(rule["power"]), cap)
        rows.append({"dataset": dataset, "strategy_a": a, "strategy_b": b, "k": len(d),
                     "sd": s, "sd_used": used, "m": m, "level": level,
                     "seeds_needed": n})
        needed.append(cap + 1 if n is None else n)
    if not rows:
        raise ValueError("al.extra_seeds: the primary question has no pair in this study "
                         "(stats.pairs); nothing to plan")
    want = max(needed)
    total = min(max(want, floor, k), cap)
    start = max(first_seeds) + 1
    seeds = list(first_seeds) + list(range(start, start + total - k))
    capped = want > cap
    sentence = (f"From the first {k} seeds the question needs "
                + (f"more than the cap of {cap} seeds" if capped else f"{want} seeds")
                + f"; {total} were run ({total - k} added: "
                + (", ".join(map(str, seeds[k:])) if total > k else "none") + ")."
                + (" The cap binds: some verdicts may stay inconclusive by design." if capped
                   else ""))
    return {"rule": dict(rule), "rule_text": rule_text(rule, k), "first_seeds": list(first_seeds),
            "effect": effect, "alpha": alpha, "pairs": rows, "seeds_needed": want if not capped
            else None, "n_seeds": total, "seeds": seeds, "capped": capped, "sentence": sentence}


def question_pairs(pairs: Sequence[Sequence[str]], question: str) -> tuple[str, list]:
    """The pairs of the primary question: ``thesis`` (X vs X_<kind>), ``random`` (X vs
    random), ``all``; ``auto``: the thesis's pairs where the study has any, else random's."""
    from .stats import RANDOM_FAMILY, THESIS_FAMILY, pair_family

    pairs = [tuple(p) for p in pairs]
    by = {"thesis": [p for p in pairs if pair_family(*p) == THESIS_FAMILY],
          "random": [p for p in pairs if pair_family(*p) == RANDOM_FAMILY], "all": pairs}
    if question == "auto":
        question = "thesis" if by["thesis"] else "random"
    if question not in by:
        raise ValueError(f"al.extra_seeds.question must be one of {', '.join(QUESTIONS)}, "
                         f"got {question!r}")
    return question, by[question]


def plan_from_runs(runs, tasks: Mapping[str, str], pairs, first_seeds: Sequence[int],
                   rule: Mapping, alpha: float, margins: Mapping[str, float],
                   metrics=None, primary=None) -> dict:
    """The plan from the stage-1 runs table (:func:`alvae.analysis.results.load_runs`):
    each dataset's primary metric (:func:`alvae.analysis.stats.primary_metric`), the
    per-run AULC, the paired differences of the question's pairs."""
    from .results import aulc
    from .stats import pair_family, primary_metric

    question, chosen = question_pairs(pairs, rule["question"])
    diffs, sizes, used = {}, {}, {}
    for dataset, task in sorted(tasks.items()):
        metric = primary_metric(task, metrics, primary)
        used[dataset] = metric
        area = aulc(runs[runs["dataset"] == dataset], metric)
        present = set(area["strategy"])
        here = [(a, b) for a, b in chosen if a in present and b in present]
        fam = {}
        for a, b in here:
            fam.setdefault(pair_family(a, b), []).append((a, b))
        for a, b in here:
            va = area[area["strategy"] == a].set_index("seed")["aulc"]
            vb = area[area["strategy"] == b].set_index("seed")["aulc"]
            both = sorted(set(va.index) & set(vb.index) & set(first_seeds))
            diffs[(dataset, a, b)] = (va.loc[both] - vb.loc[both]).to_numpy(dtype=float)
            sizes[(dataset, a, b)] = len(fam[pair_family(a, b)])
    metric_of_effect = next(iter(used.values()), "test_acc")
    effect = rule.get("effect")
    if effect is None:
        effect = float(margins.get(metric_of_effect, 0.01))
    out = plan(diffs, first_seeds, rule, alpha, float(effect), sizes)
    out.update(question=question, metrics=used)
    return out
