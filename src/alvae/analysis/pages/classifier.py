"""The report's "Classifier" page: the recipe each dataset trained with, the tuning
studies' trials, the fixed vs tuned round 0, and the train-accuracy (under-fitting)
check. The numbers (the threshold, the shares, the reference strategy) come from
alvae.analysis.report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..report import reference_strategy, underfit_shares, underfit_threshold
from .text import csv_table, fmt, heading


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
    out += csv_table(["strategy", "rounds", f"below {target:g}", "share", "lowest"],
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
    out = [heading("Classifier")]
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
        out.append(heading(str(dataset), "-"))
        for st in [s for s in studies if s["dataset"] == dataset]:
            rec, trials = st["recipe"], st["trials"]
            fixed_score = rec.get("fixed_cv_score")
            out.append(f"Study **{st['scope']}** (AL seed {rec.get('al_seed')}'s initial labels, "
                       f"{rec.get('folds')}-fold CV in {rec.get('metric')}): trial "
                       f"{rec.get('trial')} of {rec.get('trials')} chosen, CV score "
                       f"{fmt(rec.get('cv_score'))}; the fixed recipe (trial 0): "
                       f"{fmt(fixed_score)}.")
            rows = [[k, task_model.get(k, "n/a"), v] for k, v in rec["task_model"].items()]
            out += csv_table(["key", "fixed", "tuned"], rows)
            pcols = [c for c in trials.columns if c.startswith("param_")]
            folds = [c for c in trials.columns if c.startswith("fold_")]
            trows = [[int(r["trial"]), r["state"] + (" (fixed)" if r["fixed"] else ""),
                      r["cv_score"], *[r[c] for c in folds], *[r[c] for c in pcols]]
                     for _, r in trials.iterrows()]
            out.append("Every trial (CV score: mean over the folds; pruned trials stopped "
                       "after an epoch of their first fold):")
            out += csv_table(["trial", "state", "CV score", *folds,
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
                out += csv_table(["seed", "fixed test acc", "tuned test acc", "difference",
                                   "fixed train acc", "tuned train acc"], rows)
        if len(runs):
            out += underfit_lines(runs, dataset, target) + [""]
    return "\n".join(out) + "\n"
