"""Paired significance and equivalence tests between strategies.

Runs with the same seed share their initial labels, so strategies are
compared seed by seed: paired t-test and Wilcoxon signed-rank test on the
per-seed differences at each label budget (and on each run's AULC), and a
paired TOST (two one-sided t-tests, statsmodels' ``ttost_paired``) of
equivalence within a margin ±δ per metric. The raw p-values of the t-test and
of the TOST are adjusted for multiplicity (Holm or Benjamini-Hochberg) within
explicit families, one per dataset x metric x kind of question (see
:func:`pair_family`). Each row gets a ``verdict``: ``differs`` (adjusted t-test
p < alpha), ``equivalent`` (adjusted TOST p < alpha: no difference larger than
δ), ``inconclusive`` (neither), ``no test`` (no t statistic) or ``before any
query`` (round 0: the initial labels, shown but not tested, see
:func:`paired_tests`). Each row also says what the design could have detected:
the minimal detectable effect at 80% power and the seeds needed to detect a
difference of δ (:mod:`alvae.analysis.power`), both at the level the verdict
needs, alpha / m with m the tests of the row's family (:func:`power_level`).
The margin δ of each dataset and metric comes from :func:`equivalence_margins`
(one point of the task's own metric, the others matched to it through the
study's learning curves) unless the config sets it. Edge cases are stated in a
``note`` column rather than raised or left as silent NaN.
"""

from __future__ import annotations

import warnings
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .. import vocabulary
from ..labels import parse_label, without_retrain
from .power import DETECT_DIFF, POWER, minimal_detectable_effect, seeds_needed
from .results import PRIMARY, t_interval

GROUP = ["dataset", "strategy_a", "strategy_b", "metric"]
RESULT_COLUMNS = ["n_pairs", "mean_a", "mean_b", "mean_diff", "sd_diff", "ci_low", "ci_high",
                  "t", "p", "p_wilcoxon", "d_z", "family", "correction", "p_adj", "significant",
                  "margin", "margin_source", "p_equiv", "p_equiv_adj", "verdict", "mde",
                  "seeds_needed", "power_alpha", "role", "note"]
TEST_COLUMNS = GROUP + ["n_labels"] + RESULT_COLUMNS
AULC_TEST_COLUMNS = GROUP + ["area"] + RESULT_COLUMNS
MARGIN_COLUMNS = ["dataset", "metric", "margin", "margin_source"]
ZERO_TOL = 1e-12  # differences this close are "equal" (float noise in the CSVs)
VAE_KINDS = tuple(vocabulary.KINDS)  # X vs X_<kind>: the thesis's question
CORRECTIONS = ("holm", "bh")
THESIS_FAMILY = "X vs X_<VAE kind>"
RANDOM_FAMILY = "vs random"
OTHER_FAMILY = "other pairs"
RETRAIN_FAMILY = "VAE trained once vs per round"
QUESTIONS = (THESIS_FAMILY, RETRAIN_FAMILY, RANDOM_FAMILY, OTHER_FAMILY)  # report order
DEFAULT_MARGIN = DETECT_DIFF  # δ of a task's own metric when stats.equivalence_margin leaves it unset
GIVEN = "as given"  # margin_source of a margin passed as a number or {metric: δ}
TEST_METRICS = ("test_acc", "test_auc", "test_ap")
# verdicts of one row
DIFFERS, EQUIVALENT, INCONCLUSIVE = "differs", "equivalent", "inconclusive"
NO_TEST, BEFORE_QUERY = "no test", "before any query"
VERDICTS = (DIFFERS, EQUIVALENT, INCONCLUSIVE, NO_TEST, BEFORE_QUERY)
BEFORE_QUERY_NOTE = ("before any query: round 0, every strategy trained on the seed's initial "
                     "labels; a difference here comes from how a strategy trains (lloss trains "
                     "its backbone jointly with the loss module, bald with dropout), not from a "
                     "query: no test, not counted in the family")


def default_pairs(strategies: Iterable[str]) -> list[tuple[str, str]]:
    """Each X vs X_<kind> (kind in VAE_KINDS, with or without a ``+<retrain>``
    suffix) where both exist; each X_<kind> vs X_<kind>+<retrain> (the same
    representation trained on another schedule); then each non-random strategy
    vs random."""
    s = list(strategies)
    pairs = [(x, y) for x in s if not is_vae_variant(x) for k in VAE_KINDS for y in s
             if without_retrain(y) == f"{x}_{k}"]
    pairs += [(x, y) for x in s if parse_label(x).retrain is None for y in s
              if is_retrain_pair(x, y)]
    if "random" in s:
        pairs += [(x, "random") for x in s if x != "random"]
    return pairs


def is_vae_variant(strategy: str) -> bool:
    """A label that reads a representation: ``<base>_<kind>`` with any modifiers."""
    return vocabulary.kind_of(parse_label(strategy).name) is not None


def is_thesis_pair(a: str, b: str) -> bool:
    """X vs X_<kind> (either order), kind in VAE_KINDS; the variant may carry a
    ``+<retrain>`` suffix (it is still the thesis's question about that
    representation), but both sides have the same α scale spelling."""
    a, b = without_retrain(a), without_retrain(b)
    return any(b == f"{a}_{k}" or a == f"{b}_{k}" for k in VAE_KINDS)


def is_retrain_pair(a: str, b: str) -> bool:
    """The same label with and without a ``+<retrain>`` suffix (either order):
    one representation trained once vs retrained every round."""
    pa, pb = parse_label(a), parse_label(b)
    return (a != b and (pa.retrain is None) != (pb.retrain is None)
            and pa.schedule_free == pb.schedule_free and is_vae_variant(a))


def pair_family(a: str, b: str) -> str:
    """Which kind of question a pair answers: the thesis's (X vs X_<kind>),
    the training schedule of one representation (once vs per round), a
    comparison with random, or another pair."""
    if is_thesis_pair(a, b):
        return THESIS_FAMILY
    if is_retrain_pair(a, b):
        return RETRAIN_FAMILY
    if "random" in (a, b):
        return RANDOM_FAMILY
    return OTHER_FAMILY


def family_name(dataset: str, metric: str, a: str, b: str, aulc: bool = False) -> str:
    """Readable family of one test: dataset, metric, per budget or AULC, question."""
    where = "AULC" if aulc else "all budgets"
    return f"{dataset} / {metric} / {where} / {pair_family(a, b)}"


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values; NaN entries stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    running = 0.0
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def benjamini_hochberg(pvalues: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up, min over larger ranks of
    m p_(k) / k, capped at 1); NaN entries stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    running = 1.0
    order = ok[np.argsort(p[ok], kind="stable")]
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, m * p[i] / (rank + 1))
        out[i] = running
    return out


def adjust(pvalues: Sequence[float], method: str = "holm") -> np.ndarray:
    """Adjusted p-values by ``method`` (holm or bh); NaN entries are not counted."""
    if method == "holm":
        return holm(pvalues)
    if method == "bh":
        return benjamini_hochberg(pvalues)
    raise ValueError(f"stats.correction: unknown method {method!r} (expected one of {CORRECTIONS})")


def default_metrics(task: str) -> list[str]:
    """Metrics tested by default: AUC and AP for multi-label tasks (accuracy at
    0.5 is dominated by negatives there), accuracy and AUC otherwise."""
    return ["test_auc", "test_ap"] if task == "multi-label" else ["test_acc", "test_auc"]


def primary_metric(task: str, metrics: Sequence[str] | None = None,
                   primary: str | None = None) -> str:
    """The metric that drives the headline and the rankings: ``primary``
    (stats.primary_metric) when given, else the task's (AUC for multi-label
    tasks, accuracy otherwise) when it is tested, else the first of ``metrics``."""
    if primary:
        return primary
    default = PRIMARY.get(task, "test_acc")
    if not metrics or default in metrics:
        return default
    return list(metrics)[0]


def metrics_for(task: str, metrics: Sequence[str] | None = None,
                primary: str | None = None) -> list[str]:
    """The metrics tested on a dataset of ``task``, primary first: ``metrics``
    (stats.metrics) or the task's default list, with the primary metric
    (:func:`primary_metric`) moved to the front."""
    listed = list(metrics) if metrics else default_metrics(task)
    first = primary_metric(task, metrics, primary)
    return [first] + [m for m in listed if m != first]


def anchor_metric(task: str) -> str:
    """The metric a task's margins are matched to: its own metric (accuracy for
    single-label tasks, the mean per-label ROC-AUC for multi-label ones, where
    accuracy at 0.5 is dominated by negatives)."""
    return PRIMARY.get(task, "test_acc")


def metric_slope(runs: pd.DataFrame, metric: str, anchor: str) -> tuple[float, int]:
    """(slope, points): the least-squares slope of ``metric`` on ``anchor`` over
    the means (over seeds) of every strategy x budget after the first query of
    ``runs`` (one dataset): how far ``metric`` moves along the study's learning
    curves per unit of ``anchor``. NaN with fewer than 3 points or no spread in
    ``anchor``."""
    if metric not in runs or anchor not in runs:
        return float("nan"), 0
    q = runs[runs["round"] > 0] if "round" in runs.columns else runs
    means = q.groupby(["strategy", "n_labels"])[[anchor, metric]].mean().dropna()
    x, y = means[anchor].to_numpy(dtype=float), means[metric].to_numpy(dtype=float)
    if len(x) < 3 or not np.var(x) > 0:
        return float("nan"), len(x)
    return float(np.cov(x, y, ddof=1)[0, 1] / np.var(x, ddof=1)), len(x)


def equivalence_margins(runs: pd.DataFrame, anchors: Mapping[str, str],
                        configured: Mapping[str, float | None] | None = None,
                        metrics: Sequence[str] = TEST_METRICS) -> pd.DataFrame:
    """δ of the equivalence test per dataset and metric (:data:`MARGIN_COLUMNS`),
    with where it comes from (``margin_source``).

    ``configured`` is ``stats.equivalence_margin`` ({metric: δ or None}). A number
    is used as is on every dataset. Unset (None), a dataset's anchor metric
    (``anchors``: {dataset: metric}, by default :func:`anchor_metric` of its
    task) gets :data:`DEFAULT_MARGIN` (one point of accuracy, or of AUC for
    multi-label tasks), and any other metric the anchor's δ times
    :func:`metric_slope`: the same step along the study's learning curves, on
    that metric's own scale (on the Fashion-MNIST study an AUC point is worth
    about five accuracy points, so ±0.01 of AUC would be a far wider margin
    than ±0.01 of accuracy). Where no positive slope can be measured the
    anchor's δ is used as is, and ``margin_source`` says so."""
    configured = dict(configured or {})
    rows = []
    for dataset, d in runs.groupby("dataset", sort=True):
        anchor = anchors.get(dataset, "test_acc")
        base = configured.get(anchor)
        base_src = (f"stats.equivalence_margin.{anchor}" if base is not None else
                    f"default {DEFAULT_MARGIN:g}, one point of {anchor}, the task's own metric")
        base = float(DEFAULT_MARGIN if base is None else base)
        for m in metrics:
            if m not in d.columns or d[m].isna().all():
                continue
            given = configured.get(m)
            if given is not None:
                delta, src = float(given), f"stats.equivalence_margin.{m}"
            elif m == anchor:
                delta, src = base, base_src
            else:
                slope, n = metric_slope(d, m, anchor)
                if np.isfinite(slope) and slope > 0:
                    delta = base * slope
                    src = (f"matched to {anchor}: {base:g} x {slope:.4g}, the least-squares "
                           f"slope of {m} on {anchor} over {n} strategy x budget means after "
                           "the first query")
                else:
                    why = (f"slope {slope:.3g}" if np.isfinite(slope) else
                           f"{n} strategy x budget means after the first query")
                    delta = base
                    src = (f"{anchor}'s margin {base:g} as is: no positive slope of {m} on "
                           f"{anchor} to match it through ({why})")
            rows.append({"dataset": dataset, "metric": m, "margin": delta,
                         "margin_source": src})
    return pd.DataFrame(rows, columns=MARGIN_COLUMNS)


def margin_of(margin, metric: str, dataset: str | None = None) -> tuple[float, str]:
    """(δ, source) of ``metric`` on ``dataset``: ``margin`` is one number, {metric:
    δ}, {dataset: {metric: δ}} (missing: DEFAULT_MARGIN), or the table of
    :func:`equivalence_margins` (missing: an error)."""
    if isinstance(margin, pd.DataFrame):
        hit = margin[(margin["dataset"] == dataset) & (margin["metric"] == metric)]
        if hit.empty:
            raise ValueError(f"no equivalence margin for {dataset!r} / {metric!r}")
        return float(hit["margin"].iloc[0]), str(hit["margin_source"].iloc[0])
    if isinstance(margin, Mapping):
        inner = margin.get(dataset) if dataset in margin else None
        if isinstance(inner, Mapping):
            margin = inner
        value = margin.get(metric)
        return (float(DEFAULT_MARGIN), f"default {DEFAULT_MARGIN:g}") if value is None else \
            (float(value), GIVEN)
    return (float(DEFAULT_MARGIN), f"default {DEFAULT_MARGIN:g}") if margin is None else \
        (float(margin), GIVEN)


def power_level(alpha: float, m: int) -> float:
    """The level the MDE and seeds_needed of a row use: alpha / m, m the tests
    counted in its family. A p-value at or below it is rejected by Holm's
    step-down (its first step) and by Benjamini-Hochberg whatever the family's
    other p-values; Holm's later steps are less strict (alpha / (m - k + 1)
    for the k-th smallest p), so this is the Bonferroni bound: a difference of
    the MDE is detected with at least 80% power under either correction."""
    return float(alpha / max(int(m), 1))


def tost_paired(x: np.ndarray, y: np.ndarray, margin: float) -> float:
    """p-value of the paired TOST of H0: |mean(x - y)| >= margin against
    equivalence, |mean(x - y)| < margin: the larger p of the two one-sided
    t-tests (statsmodels.stats.weightstats.ttost_paired). NaN for fewer than 2
    pairs or zero variance of the differences."""
    from statsmodels.stats.weightstats import ttost_paired

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    d = x - y
    if len(d) < 2 or not np.std(d, ddof=1) > 0 or not margin > 0:
        return float("nan")
    return float(ttost_paired(x, y, -margin, margin)[0])


def compare(a: pd.Series, b: pd.Series, alpha: float = 0.05, power: bool = True,
            margin: float = DEFAULT_MARGIN, test: bool = True) -> dict:
    """Paired comparison of two per-seed Series (index: seed). Returns the
    RESULT_COLUMNS except family, correction, p_adj, significant, p_equiv_adj,
    verdict and role. ``power``: also compute mde and seeds_needed (to detect a
    difference of ``margin``) at ``alpha`` (alvae.analysis.power); ``margin``: δ of the
    TOST (p_equiv). ``test=False``: the means, sd and CI only, no test (round
    0, before any query)."""
    a, b = a.dropna(), b.dropna()
    for s, name in ((a, "a"), (b, "b")):
        if s.index.has_duplicates:
            raise ValueError(f"strategy {name}: several values for one seed")
    both = sorted(set(a.index) & set(b.index))
    only = sorted(set(a.index) ^ set(b.index))
    notes = []
    if only:
        notes.append(f"missing rounds for seeds {', '.join(str(s) for s in only)} "
                     f"(paired on the {len(both)} seeds with both values)")
    x = a.loc[both].to_numpy(dtype=float)
    y = b.loc[both].to_numpy(dtype=float)
    d = x - y
    n = len(d)
    row = dict(n_pairs=n, mean_a=np.nan, mean_b=np.nan, mean_diff=np.nan, sd_diff=np.nan,
               ci_low=np.nan, ci_high=np.nan, t=np.nan, p=np.nan, p_wilcoxon=np.nan, d_z=np.nan,
               margin=float(margin), p_equiv=np.nan, mde=np.nan, seeds_needed=np.nan)
    if n:
        row.update(mean_a=float(x.mean()), mean_b=float(y.mean()), mean_diff=float(d.mean()))
    if n >= 2:
        mean, sd, lo, hi = t_interval(d)
        row.update(sd_diff=sd, ci_low=lo, ci_high=hi)
    if not test:
        return {**row, "note": "; ".join(notes + [BEFORE_QUERY_NOTE])}
    if n < 2:
        notes.append(f"fewer than 2 seeds (n={n}): no test")
        return {**row, "note": "; ".join(notes)}
    if np.all(np.abs(d) <= ZERO_TOL):
        notes.append("zero variance in differences: identical values in every seed "
                     "(t undefined; p = 1 for both tests, d_z = 0; no test: not counted in the "
                     "family's adjustment)")
        row.update(mean_diff=0.0, sd_diff=0.0, ci_low=0.0, ci_high=0.0, p=1.0, p_wilcoxon=1.0,
                   d_z=0.0)
        return {**row, "note": "; ".join(notes)}
    if np.all(np.abs(d - d[0]) <= ZERO_TOL):
        notes.append(f"zero variance in differences: constant difference {mean:+.4g} in every "
                     "seed (t and d_z undefined, t-test p NaN)")
        row.update(sd_diff=0.0, ci_low=mean, ci_high=mean)
    else:
        res = stats.ttest_rel(x, y)
        row.update(t=float(res.statistic), p=float(res.pvalue), d_z=mean / sd,
                   p_equiv=tost_paired(x, y, margin))
        if power:
            row.update(mde=minimal_detectable_effect(sd, n, alpha, POWER),
                       seeds_needed=seeds_needed(margin, sd, alpha, POWER))
    n_zero = int(np.sum(np.abs(d) <= ZERO_TOL))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row["p_wilcoxon"] = float(stats.wilcoxon(x, y).pvalue)
        if n_zero:
            notes.append(f"Wilcoxon dropped {n_zero} zero difference(s)")
    except ValueError as e:
        notes.append(f"Wilcoxon not computable: {e}")
    if np.isnan(row["p_wilcoxon"]) and not any(s.startswith("Wilcoxon not") for s in notes):
        notes.append("Wilcoxon not computable")
    return {**row, "note": "; ".join(notes)}


def verdict(p_adj: float, p_equiv_adj: float, tested: bool, before_query: bool = False,
            alpha: float = 0.05) -> str:
    """The verdict of one row: ``before any query`` (round 0), ``no test`` (no t
    statistic), ``differs`` (p_adj < alpha), ``equivalent`` (p_equiv_adj < alpha:
    no difference larger than the margin), else ``inconclusive``."""
    if before_query:
        return BEFORE_QUERY
    if not tested:
        return NO_TEST
    if p_adj < alpha:
        return DIFFERS
    if p_equiv_adj < alpha:
        return EQUIVALENT
    return INCONCLUSIVE


def _verdict_note(r) -> str:
    """What a verdict leaves unsaid: an inconclusive row's MDE, a difference
    that is significant but smaller than the margin."""
    if r.verdict == INCONCLUSIVE:
        mde = f"{r.mde:.4g}" if np.isfinite(r.mde) else "n/a"
        return (f"inconclusive: neither a difference nor equivalence within ±{r.margin:.3g} "
                f"shown; MDE {mde} (80% power at the family's level {r.power_alpha:.3g})")
    if r.verdict == DIFFERS and r.p_equiv_adj < r.alpha_:
        return f"differs, but by less than the margin ±{r.margin:.3g} (p_equiv_adj < alpha too)"
    return ""


def _finish(rows: list[dict], columns: list[str], alpha: float, method: str,
            aulc: bool) -> pd.DataFrame:
    """Add family, correction, p_adj, significant, p_equiv_adj, verdict and the
    power columns (mde, seeds_needed at :func:`power_level` of the family).
    Only rows with a t-test (t defined) count in their family's adjustment, of
    p and of p_equiv alike; identical-value rows (p = 1 by convention) keep
    p_adj = 1, other untested rows (round 0 included) NaN."""
    adjust([], method)  # a clear error for an unknown method before any work
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    out["family"] = [family_name(d, m, a, b, aulc) for d, m, a, b in
                     zip(out["dataset"], out["metric"], out["strategy_a"], out["strategy_b"])]
    out["correction"] = method
    tested = out["t"].notna()
    out["p_adj"] = np.where(out["p"] == 1.0, 1.0, np.nan)
    out["p_equiv_adj"] = np.nan
    for _, idx in out[tested].groupby("family", sort=False).groups.items():
        out.loc[idx, "p_adj"] = adjust(out.loc[idx, "p"].to_numpy(dtype=float), method)
        out.loc[idx, "p_equiv_adj"] = adjust(out.loc[idx, "p_equiv"].to_numpy(dtype=float),
                                             method)
    sizes = out[tested].groupby("family")["family"].transform("size")
    out["power_alpha"] = np.nan
    out["mde"] = np.nan
    out["seeds_needed"] = np.nan
    for i, m in sizes.items():
        level = power_level(alpha, m)
        sd, n, delta = out.at[i, "sd_diff"], int(out.at[i, "n_pairs"]), out.at[i, "margin"]
        out.at[i, "power_alpha"] = level
        out.at[i, "mde"] = minimal_detectable_effect(sd, n, level, POWER)
        out.at[i, "seeds_needed"] = seeds_needed(delta, sd, level, POWER)
    out["significant"] = (out["p_adj"] < alpha).astype(bool)
    before = out["note"].map(lambda n: isinstance(n, str) and BEFORE_QUERY_NOTE in n)
    out["verdict"] = [verdict(pa, pe, t, b, alpha) for pa, pe, t, b in
                      zip(out["p_adj"], out["p_equiv_adj"], tested, before)]
    extra = [_verdict_note(r) for r in out.assign(alpha_=alpha).itertuples()]
    out["note"] = ["; ".join(x for x in (n if isinstance(n, str) else "", e) if x)
                   for n, e in zip(out["note"], extra)]
    out["n_pairs"] = out["n_pairs"].astype(int)
    out["seeds_needed"] = out["seeds_needed"].astype("Int64")
    return out


def _as_list(metric) -> list[str]:
    return [metric] if isinstance(metric, str) else list(metric)


def _metrics_of(metric, dataset: str) -> list[str]:
    """``metric``: one name, a list for every dataset, or {dataset: list}."""
    if isinstance(metric, Mapping):
        return _as_list(metric.get(dataset, []))
    return _as_list(metric)


def _role(m: str, dataset: str, metrics: Sequence[str], primary) -> str:
    """primary or secondary: ``primary`` is a name or {dataset: name}; None means
    the first of the dataset's ``metrics``."""
    first = primary.get(dataset) if isinstance(primary, Mapping) else primary
    if first is None:
        first = metrics[0] if metrics else None
    return "primary" if m == first else "secondary"


def before_first_query(rounds: Iterable) -> bool:
    """Whether values from these AL rounds were measured before any query:
    every one of them is round 0 (the initial labels)."""
    r = {int(x) for x in rounds if pd.notna(x)}
    return bool(r) and r == {0}


def paired_tests(df: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                 metric: str | Sequence[str] | Mapping[str, Sequence[str]] = "test_acc",
                 alpha: float = 0.05, correction: str = "holm",
                 margin: float | Mapping[str, float] = DEFAULT_MARGIN,
                 primary: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per dataset x pair x metric x n_labels of the tidy runs table
    (see results.load_runs). mean_diff is a - b. p_adj adjusts the t-test p by
    ``correction`` within the row's family (dataset x metric x kind of pair,
    over all its pairs and budgets; see pair_family), counting only rows with
    a t-test; raw p is kept. p_equiv is the paired TOST of equivalence within
    ±``margin`` (one δ, {metric: δ}, {dataset: {metric: δ}} or the table of
    :func:`equivalence_margins`), p_equiv_adj its adjustment in the same
    families. mde and seeds_needed are at ``power_alpha`` = alpha / m of the
    row's family (:func:`power_level`). ``metric`` may map each dataset to its metrics; ``primary`` names
    each dataset's primary metric (default: the first of its metrics), the
    others get role ``secondary``.

    A budget measured in round 0 for both strategies (``round`` column) comes
    before any query: its row keeps the means, sd and CI, gets verdict
    ``before any query`` and no test, and is not counted in the family.

    A pair with a strategy absent from a dataset, or a metric that is all NaN
    or absent there, is skipped."""
    rows = []
    has_round = "round" in df.columns
    for dataset, g in df.groupby("dataset", sort=True):
        present = set(g["strategy"])
        listed = _metrics_of(metric, dataset)
        for m in listed:
            if m not in g.columns:
                continue
            delta, source = margin_of(margin, m, dataset)
            role = _role(m, dataset, listed, primary)
            for a, b in pairs:
                if a not in present or b not in present:
                    continue
                ga, gb = g[g["strategy"] == a], g[g["strategy"] == b]
                if ga[m].isna().all() and gb[m].isna().all():
                    continue
                for n_labels in sorted(set(ga["n_labels"]) | set(gb["n_labels"])):
                    at_a, at_b = ga[ga["n_labels"] == n_labels], gb[gb["n_labels"] == n_labels]
                    before = has_round and before_first_query(
                        pd.concat([at_a["round"], at_b["round"]]))
                    va, vb = at_a.set_index("seed")[m], at_b.set_index("seed")[m]
                    rows.append({"dataset": dataset, "strategy_a": a, "strategy_b": b, "metric": m,
                                 "n_labels": int(n_labels), "role": role,
                                 "margin_source": source,
                                 **compare(va, vb, alpha, power=False, margin=delta,
                                           test=not before)})
    out = _finish(rows, TEST_COLUMNS, alpha, correction, aulc=False)
    if out.empty:
        return out
    order = {m: i for i, m in enumerate(dict.fromkeys(
        x for d in out["dataset"].unique() for x in _metrics_of(metric, d)))}
    key = out["metric"].map(order)
    return (out.assign(_k=key).sort_values(["_k", "dataset"], kind="stable")
            .drop(columns="_k").reset_index(drop=True))


def paired_tests_aulc(aulc_df: pd.DataFrame, pairs: Sequence[tuple[str, str]],
                      alpha: float = 0.05, correction: str = "holm",
                      metric: str | Sequence[str] | Mapping[str, Sequence[str]] | None = None,
                      margin: float | Mapping[str, float] = DEFAULT_MARGIN,
                      primary: str | Mapping[str, str] | None = None) -> pd.DataFrame:
    """The same tests on per-run AULC (results.aulc): one row per dataset x
    pair x metric, p and p_equiv adjusted within families dataset x metric x
    kind of pair (over its pairs). ``metric`` (as in paired_tests) limits the
    metrics; None tests every metric of ``aulc_df``. ``primary`` as in
    paired_tests (default: the first metric listed, or the first in
    ``aulc_df``). ``margin`` as in paired_tests. ``area`` says which budgets the
    areas span: by default from the first budget after a query (round 0 left
    out; see results.aulc)."""
    rows = []
    for (dataset, m), g in aulc_df.groupby(["dataset", "metric"], sort=True):
        listed = (_metrics_of(metric, dataset) if metric is not None else
                  list(dict.fromkeys(aulc_df.loc[aulc_df["dataset"] == dataset, "metric"])))
        if m not in listed:
            continue
        present = set(g["strategy"])
        for a, b in pairs:
            if a not in present or b not in present:
                continue
            ga = g[g["strategy"] == a].set_index("seed")
            gb = g[g["strategy"] == b].set_index("seed")
            delta, source = margin_of(margin, m, dataset)
            row = compare(ga["aulc"], gb["aulc"], alpha, power=False, margin=delta)
            both = sorted(set(ga.index) & set(gb.index))
            cols = ["n_labels_min", "n_labels_max"]
            differ = [s for s in both if tuple(ga.loc[s, cols]) != tuple(gb.loc[s, cols])]
            if differ:
                extra = f"label ranges differ for seeds {', '.join(map(str, differ))}"
                row["note"] = "; ".join(x for x in (row["note"], extra) if x)
            rows.append({"dataset": dataset, "strategy_a": a, "strategy_b": b, "metric": m,
                         "area": _area_text(pd.concat([ga, gb])),
                         "role": _role(m, dataset, listed, primary), "margin_source": source,
                         **row})
    return _finish(rows, AULC_TEST_COLUMNS, alpha, correction, aulc=True)


def _area_text(runs_aulc: pd.DataFrame) -> str:
    """"80 to 120 labels, after the first query" for the AULC rows of a pair."""
    lo, hi = int(runs_aulc["n_labels_min"].min()), int(runs_aulc["n_labels_max"].max())
    first = runs_aulc["first_round"].min() if "first_round" in runs_aulc else np.nan
    when = {0: ", round 0 included", 1: ", after the first query"}.get(
        int(first) if pd.notna(first) else -1, "")
    return f"{lo} to {hi} labels{when}"


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else f"{v:.4g}"
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(df: pd.DataFrame) -> str:
    """A plain Markdown table of ``df`` (floats to 4 significant digits, NaN empty)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for rec in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in rec) + " |")
    return "\n".join(lines) + "\n"
