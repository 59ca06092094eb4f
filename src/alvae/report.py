"""Text of the Snakemake report: the summary of the tests, written from the
numbers, and the run's settings and software versions."""

from __future__ import annotations

import importlib
import platform
from importlib import metadata

import numpy as np
import pandas as pd
import yaml

NULL_SENTENCE = "No budget differs significantly: a null result, as the thesis found."
CORRECTION_NAMES = {"holm": "Holm's step-down method", "bh": "the Benjamini-Hochberg method"}


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _fmt(v: float, digits: int = 4) -> str:
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.{digits}f}"


def _p(v: float) -> str:
    return "n/a" if v is None or np.isnan(v) else f"{v:.3g}"


def _direction(a: str, b: str, diff: float, suffix: str = " on average") -> str:
    if np.isnan(diff):
        return "no paired values"
    if diff == 0:
        return f"{a} and {b} equal{suffix}"
    hi, lo = (a, b) if diff > 0 else (b, a)
    return f"{hi} higher than {lo} by {abs(diff):.4f}{suffix}"


def _others_sentence(sig: pd.DataFrame, aulc_sig: pd.DataFrame, tested: pd.DataFrame,
                     aulc_tested: pd.DataFrame) -> str:
    """The significant counts of every question other than the thesis's, each
    named (vs random; once vs per round; other pairs), for the questions that
    were tested at all: "against random, 3 budget(s) and 0 AULC test(s); ..."."""
    from .stats import OTHER_FAMILY, RANDOM_FAMILY, RETRAIN_FAMILY, pair_family

    def question(df):
        return pd.Series([pair_family(a, b) for a, b in zip(df["strategy_a"], df["strategy_b"])],
                         index=df.index, dtype=object)

    names = {RANDOM_FAMILY: "against random", RETRAIN_FAMILY: "between a representation "
             "trained once and retrained every round", OTHER_FAMILY: "among the other pairs"}
    asked = set(question(tested)) | set(question(aulc_tested))
    parts = []
    for fam, name in names.items():
        if fam not in asked:
            continue
        b = int((question(sig) == fam).sum()) if len(sig) else 0
        a = int((question(aulc_sig) == fam).sum()) if len(aulc_sig) else 0
        parts.append(f"{name}, {b} budget(s) and {a} AULC test(s)")
    return "; ".join(parts) if parts else "no other pair was tested"


def _is_vae_pair(df: pd.DataFrame) -> pd.Series:
    from .stats import is_thesis_pair

    return pd.Series([is_thesis_pair(a, b) for a, b in zip(df["strategy_a"], df["strategy_b"])],
                     index=df.index, dtype=bool)


def _tested(df: pd.DataFrame) -> pd.Series:
    """Rows with a defined t-test (the rows counted in their family)."""
    return df["t"].notna() if "t" in df else df["p_adj"].notna()


def _why_untested(g: pd.DataFrame) -> str:
    """The reasons in the note column of untested rows, shortest form."""
    notes = [str(n) for n in g["note"] if isinstance(n, str) and n]
    reasons = []
    for key, text in (("fewer than 2 seeds", "fewer than 2 seeds"),
                      ("identical values", "identical values in every seed"),
                      ("constant difference", "a constant difference in every seed")):
        if any(key in n for n in notes):
            reasons.append(text)
    return ", ".join(reasons) or "see the note column"


def _span(lo: float, hi: float, fmt: str) -> str:
    return format(lo, fmt) if format(lo, fmt) == format(hi, fmt) else \
        f"{format(lo, fmt)} to {format(hi, fmt)}"


def _power_sentence(g: pd.DataFrame, aulc_row, alpha: float) -> str:
    """What the design could have detected, per budget (range) and on AULC."""
    from .power import DETECT_DIFF, POWER

    mde = g["mde"].dropna() if "mde" in g else pd.Series(dtype=float)
    need = g["seeds_needed"].dropna() if "seeds_needed" in g else pd.Series(dtype=float)
    n = int(g["n_pairs"].max()) if len(g) else 0
    what = (f"At {POWER:.0%} power (two-sided paired t-test, alpha = {alpha:g}, the observed sd "
            f"of the paired differences, n = {n} seeds)")
    parts = []
    if len(mde):
        parts.append("the smallest detectable difference per budget is "
                     + _span(mde.min(), mde.max(), ".4f"))
    if aulc_row is not None and np.isfinite(getattr(aulc_row, "mde", np.nan)):
        parts.append(f"on AULC {aulc_row.mde:.4f}")
    if not parts:
        return (f"  Power: not computable (no budget with a t-test: "
                f"{_why_untested(g)}).")
    text = f"  Power: {what}, " + "; ".join(parts)
    if len(need):
        text += (f". Detecting a difference of {DETECT_DIFF:g} would need "
                 + _span(int(need.min()), int(need.max()), "d") + " seeds per budget")
    if aulc_row is not None and np.isfinite(float(getattr(aulc_row, "seeds_needed", np.nan))):
        text += f" ({int(aulc_row.seeds_needed)} on AULC)"
    return text + "."


def _pair_lines(g: pd.DataFrame, aulc_row, alpha: float) -> list[str]:
    a, b, metric = g["strategy_a"].iloc[0], g["strategy_b"].iloc[0], g["metric"].iloc[0]
    tested = _tested(g)
    sig = g[tested & (g["p_adj"] < alpha)].sort_values("n_labels")
    family = g["family"].iloc[0] if "family" in g else ""
    if not tested.any():
        line = (f"- **{a} vs {b}**, {metric}: no budget could be tested "
                f"({_why_untested(g)}); {_direction(a, b, g['mean_diff'].mean())} "
                f"(mean of the per-budget differences)")
    else:
        line = (f"- **{a} vs {b}**, {metric}: {len(sig)} of {int(tested.sum())} tested budgets "
                f"with adjusted p < {alpha:g} (family: {family}); "
                f"{_direction(a, b, g['mean_diff'].mean())} (mean of the per-budget differences)")
    if len(sig):
        parts = [f"{int(r.n_labels)} labels ({_direction(a, b, r.mean_diff, '')}, "
                 f"p_adj = {_p(r.p_adj)})" for r in sig.itertuples()]
        line += ". Significant at " + "; ".join(parts)
    untested = int((~tested).sum())
    if untested and tested.any():
        line += (f". {untested} budget(s) not testable ({_why_untested(g[~tested])}; not counted "
                 "in the family)")
    lines = [line + "."]
    if aulc_row is not None:
        r = aulc_row
        if not np.isfinite(r.t):
            verdict = " (no test possible: " + _why_untested(pd.DataFrame([r._asdict()])) + ")."
        else:
            verdict = (f", p_adj = {_p(r.p_adj)}"
                       + (" (significant)." if r.p_adj < alpha else " (not significant)."))
        lines.append(
            f"\n  AULC: {a} {_fmt(r.mean_a)} vs {b} {_fmt(r.mean_b)}, "
            f"difference {_fmt(r.mean_diff)} "
            f"(95% CI {_fmt(r.ci_low)} to {_fmt(r.ci_high)}), paired t p = {_p(r.p)}, "
            f"Wilcoxon p = {_p(r.p_wilcoxon)}, n = {int(r.n_pairs)} seeds" + verdict
            + (f" Note: {r.note}." if isinstance(r.note, str) and r.note else ""))
    lines.append("\n" + _power_sentence(g, aulc_row, alpha))
    return lines


def _method_paragraph(tests_df: pd.DataFrame, aulc_tests_df, alpha: float) -> str:
    method = (tests_df["correction"].iloc[0] if "correction" in tests_df and len(tests_df)
              else "holm")
    fams = list(dict.fromkeys(tests_df["family"])) if "family" in tests_df else []
    if aulc_tests_df is not None and "family" in aulc_tests_df:
        fams += list(dict.fromkeys(aulc_tests_df["family"]))
    tested = int(_tested(tests_df).sum())
    untested = len(tests_df) - tested
    text = (f"Multiple testing: the raw paired t-test p-values are adjusted by "
            f"{CORRECTION_NAMES.get(method, method)} within families (column ``family``), one per "
            "dataset x metric x question: the thesis's question, each strategy X against its "
            "VAE variant X_vae (X_cvae, X_gmvae) over all those pairs and all budgets; the "
            "comparisons with random; where the study has both schedules, each representation "
            "trained once vs retrained every round (+per_round labels); and any other pairs. "
            "The AULC tests form the same "
            f"families on their own. Significant means p_adj < {alpha:g}; every count and "
            f"sentence below follows p_adj. {tested} per-budget test(s) were run; {untested} "
            "row(s) had no defined test (identical values in every seed, a constant "
            "difference, or fewer than 2 seeds: see ``note``) and are left out of the "
            "families' counts and of the adjustment.")
    if fams:
        text += " Families: " + "; ".join(f"*{f}*" for f in fams) + "."
    return text + "\n"


def summary_rst(tests_df: pd.DataFrame, aulc_tests_df: pd.DataFrame | None = None,
                alpha: float = 0.05, rankings: list[dict] | None = None) -> str:
    """The opening summary of the report, in reStructuredText."""
    out = [_title("Summary of the paired tests"),
           "Paired over seeds (shared initial labels): t-test and Wilcoxon signed-rank test per "
           "label budget and on the AULC (area under each run's learning curve divided by the "
           "label range); differences are first minus second strategy.\n"]
    if tests_df is None or tests_df.empty:
        return "\n".join(out + ["No tests were run (no pairs of strategies with results).\n"])
    out.append(_method_paragraph(tests_df, aulc_tests_df, alpha))
    has_aulc = aulc_tests_df is not None and not aulc_tests_df.empty
    tested = _tested(tests_df)
    aulc_tested = _tested(aulc_tests_df) if has_aulc else pd.Series(dtype=bool)
    if not tested.any() and not aulc_tested.any():
        out.append("**No test was possible**: no budget and no AULC had a defined paired test "
                   f"({_why_untested(tests_df)}). Nothing can be concluded about differences "
                   "between strategies from this run.\n")
    else:
        sig = tests_df[tested & (tests_df["p_adj"] < alpha)]
        aulc_sig = (aulc_tests_df[aulc_tested & (aulc_tests_df["p_adj"] < alpha)]
                    if has_aulc else tests_df.iloc[:0])
        tested_rows = tests_df[tested]
        aulc_rows = aulc_tests_df[aulc_tested] if has_aulc else tests_df.iloc[:0]
        others = _others_sentence(sig, aulc_sig, tested_rows, aulc_rows)
        vae_b, vae_a = int(_is_vae_pair(sig).sum()), int(_is_vae_pair(aulc_sig).sum())
        other_b, other_a = len(sig) - vae_b, len(aulc_sig) - vae_a
        n_vae = int(_is_vae_pair(tested_rows).sum())
        n_vae_a = int(_is_vae_pair(aulc_rows).sum()) if has_aulc else 0
        if not (vae_b or vae_a or other_b or other_a) and (n_vae or n_vae_a):
            out.append(f"**{NULL_SENTENCE}** No AULC test is significant either "
                       f"({int(tested.sum())} budget test(s) and {int(aulc_tested.sum())} AULC "
                       "test(s) run).\n")
        elif not (vae_b or vae_a or other_b or other_a):
            out.append(f"**No test is significant** ({int(tested.sum())} budget test(s) and "
                       f"{int(aulc_tested.sum())} AULC test(s) run), but no strategy could be "
                       "tested against its VAE variant.\n")
        elif not (vae_b or vae_a):
            if n_vae or n_vae_a:
                out.append(f"**No budget (of {n_vae} tested) and no AULC (of {n_vae_a}) differs "
                           "significantly between a strategy and its VAE variant: a null result, "
                           "as the thesis found.** ")
            else:
                out.append("**No strategy could be tested against its VAE variant.** ")
            out[-1] += f"Significant: {others}.\n"
        else:
            out.append(f"**Between a strategy and its VAE variant, {vae_b} budget(s) and {vae_a} "
                       "AULC test(s) differ significantly** (see below for which and in which "
                       f"direction); {others}.\n")
    for r in rankings or []:
        out.append(_ranking_sentence(r, alpha))
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


def _ranking_sentence(info: dict, alpha: float) -> str:
    """One paragraph on the mean ranks of one metric (see alvae.ranking)."""
    ranks = info.get("mean_ranks") or {}
    if len(ranks) < 2 or not info.get("n_blocks"):
        return (f"Ranking on {info.get('metric')}: not computable (fewer than 2 strategies or no "
                "(dataset, budget) block with every strategy).\n")
    order = ", ".join(f"{s} {r:.2f}" for s, r in ranks.items())
    fp = info.get("friedman_p", np.nan)
    verdict = ("n/a" if not np.isfinite(fp) else
               f"{fp:.3g}, " + ("significant" if fp < alpha else "not significant"))
    return (f"Ranking on {info['metric']} over {info['n_blocks']} (dataset, budget) blocks: "
            f"mean ranks (1 = best) {order}; Friedman test p = {verdict} (see the CD diagram "
            "and the pairwise penalty matrix).\n")


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

# the final train accuracy a round should reach when task_model.min_train_acc is unset
UNDERFIT_DEFAULT = 0.95
# strategies whose round 0 trains differently from plain training (a loss module, dropout)
_OWN_TRAINING = ("lloss", "bald")


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
    plain = [s for s in strategies if not str(s).startswith(_OWN_TRAINING)]
    return plain[0] if plain else None


def underfit_target(task_model: dict) -> tuple[float, str]:
    tm = task_model.get("min_train_acc")
    if tm is not None:
        return float(tm), "task_model.min_train_acc"
    return UNDERFIT_DEFAULT, f"the default {UNDERFIT_DEFAULT:g}, task_model.min_train_acc unset"


def underfit_lines(runs: pd.DataFrame, dataset: str, target: float) -> list[str]:
    g = runs[runs["dataset"] == dataset]
    if "train_acc" not in g or g.empty:
        return ["No runs recorded a train accuracy."]
    low = g[g["train_acc"] < target]
    if low.empty:
        return [f"Every round of every run ended at train accuracy >= {target:g} "
                f"(lowest {g['train_acc'].min():.4f})."]
    worst = low.sort_values("train_acc").iloc[0]
    per = low.groupby("round").size()
    return [f"**Warning: under-fitting.** {len(low)} of {len(g)} rounds ended below train "
            f"accuracy {target:g} (by round: " + ", ".join(f"round {int(r)}: {n}" for r, n in
                                                          per.items())
            + f"); lowest {worst['train_acc']:.4f} ({worst['strategy']}, seed "
            f"{int(worst['seed'])}, round {int(worst['round'])}). The recipe does not fit "
            "its labeled set there; compare strategies with care."]


def classifier_rst(mode: str, task_model: dict, runs: pd.DataFrame, studies: list[dict],
                   fixed_rows: pd.DataFrame | None = None, scope: str | None = None) -> str:
    """The report's "Classifier" page: the recipe each dataset trained with, every
    trial's cross-validation score, the round-0 test accuracy of the fixed and the tuned
    recipe side by side (when both ran), and under-fitting warnings.

    ``studies``: dicts with ``dataset``, ``scope``, ``recipe`` (a recipe.yaml) and
    ``trials`` (its trials.csv); ``fixed_rows``: the fixed recipe's round 0 per
    (dataset, seed), with columns dataset, seed, test_acc, train_acc."""
    target, why = underfit_target(task_model)
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
    out.append(f"Under-fitting check: every round's final train accuracy (the running accuracy "
               f"over the last epoch's training batches) against {target:g} ({why}).\n")
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
