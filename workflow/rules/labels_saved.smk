# Labels saved (alvae.labels_saved): the labels random sampling needs to match each
# strategy's mean score, per budget, in each dataset's primary metric; a table, a figure
# and one sentence per strategy in the report's summary. Planned when the study runs
# random sampling and at least one other strategy.

from alvae import labels_saved as _labels_saved

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
                      curves_summary=f"{OUT}/results/summary.csv",
                      datasets_info=f"{OUT}/results/datasets.csv")
    return inputs


rule labels_saved:
    input:
        runs=f"{OUT}/results/runs.csv",
        datasets=f"{OUT}/results/datasets.csv",
    output:
        table=report(
            f"{OUT}/results/labels_saved.csv",
            caption="../report/labels_saved.rst",
            category="Labels saved and ceiling",
            labels={"table": "labels saved"},
        ),
        png=report(
            f"{OUT}/figures/labels_saved.png",
            caption="../report/labels_saved.rst",
            category="Labels saved and ceiling",
            labels={"figure": "labels saved"},
        ),
        pdf=f"{OUT}/figures/labels_saved.pdf",
    params:
        reference="random",
        n_boot=_labels_saved.N_BOOT,
        boot_seed=_labels_saved.BOOT_SEED,
        level=_labels_saved.LEVEL,
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("labels_saved", "all"),
    benchmark:
        bench_path("labels_saved", "all")
    localrule: True
    script:
        "../scripts/labels_saved.py"
