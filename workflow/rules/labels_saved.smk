# Labels saved (alvae.analysis.labels_saved): the labels random sampling needs to match each
# strategy's mean score, per budget, in each dataset's primary metric; a table, a figure
# and one sentence per strategy in the report's summary. Planned when the study runs
# random sampling and at least one other strategy.
# Helpers: common.smk.


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
