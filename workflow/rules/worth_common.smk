# Helpers of the labels-saved and ceiling stages (rules in ceiling.smk and
# labels_saved.smk; the lint keeps functions apart from rules). Included after
# common.smk, before the rule files that use them.

from alvae.analysis import labels_saved as _labels_saved

# the all-labels ceiling (alvae.training.ceiling); ceiling.enabled turns it off
CEILING = config["ceiling"]["enabled"]


def ceiling_file(dataset, seed):
    return f"{OUT}/ceiling/{dataset}/seed{seed}/metrics.csv"


def ceiling_records():
    """(dataset, seed, path) of every ceiling job (none when ceiling.enabled is false)."""
    return [(d, seed, ceiling_file(d, seed)) for d in DATASETS for seed in SEEDS] if CEILING else []


def ceiling_inputs(wildcards):
    """The pool the ceiling trains on (that seed's with pool_per_seed), the evaluation
    split it is measured on, and with task_model.recipe: tuned the recipe.yaml the AL runs
    of that seed train with."""
    inputs = {"subset": subset_file(wildcards.dataset, wildcards.seed),
              "evaluation": eval_file(wildcards.dataset)}
    if TUNED:
        inputs["recipe"] = recipe_file(wildcards.dataset, wildcards.seed)
    return inputs


def ceiling_curve_inputs():
    """The ceiling table for the learning curves, when the stage is on."""
    return {"ceiling": f"{OUT}/results/ceiling.csv"} if CEILING else {}


# labels saved (alvae.analysis.labels_saved): planned when the study runs random and another strategy
LABELS_SAVED = "random" in STRATEGIES and len(STRATEGIES) > 1


def worth_targets():
    """The labels-saved and ceiling outputs `rule all` asks for."""
    targets = []
    if LABELS_SAVED:
        targets += [f"{OUT}/results/labels_saved.csv", f"{OUT}/figures/labels_saved.png"]
    if CEILING:
        targets.append(f"{OUT}/results/ceiling.csv")
    return targets


def worth_report_inputs():
    """What the report's summary needs for its labels-saved and ceiling sentences."""
    inputs = {}
    if LABELS_SAVED:
        inputs["labels_saved"] = f"{OUT}/results/labels_saved.csv"
    if CEILING:
        inputs.update(ceiling=f"{OUT}/results/ceiling.csv",
                      curves_summary=f"{OUT}/results/summary.csv")
    return inputs
