# Labels saved (alvae.analysis.labels_saved): the labels random sampling needs to match each
# strategy's mean score, per budget, in each dataset's primary metric, with the t interval
# of the paired difference mapped to labels; a table, a figure and one sentence per
# strategy in the report's summary, which claims a saving only where the budget's
# adjusted paired test (tests.csv) differs. Planned when the study runs random sampling
# and at least one other strategy.
# Plan: alvae.plan (Plan.labels_saved).

from alvae.analysis import labels_saved as _labels_saved


rule labels_saved:
    input:
        runs=f"{OUT}/results/runs.csv",
        datasets=f"{OUT}/results/datasets.csv",
        tests=f"{OUT}/results/tests.csv",  # the adjusted verdicts that gate each claimed saving
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
        level=_labels_saved.LEVEL,
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("labels_saved", "all"),
    benchmark:
        PLAN.bench_path("labels_saved", "all")
    localrule: True
    script:
        "../scripts/labels_saved.py"
