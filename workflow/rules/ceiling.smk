# The all-labels ceiling (alvae.training.ceiling): per dataset and AL seed, the task model trained
# on the whole pool with all its labels, with the recipe of the AL runs' last round; drawn
# on every learning curve and stated as a share in the report. `ceiling.enabled: false`
# turns the stage off (a GPU job per dataset and seed: the last AL round's training with
# the whole pool; docs/representations.md).
# Helpers: common.smk.


rule ceiling:
    input:
        unpack(ceiling_inputs),
    output:
        metrics=f"{OUT}/ceiling/{{dataset}}/seed{{seed}}/metrics.csv",
    params:
        # the length and seed of training follow the AL runs' last round
        al=canonical({k: config["al"][k] for k in ("initial_labels", "labels_per_round",
                                                   "final_labels")}),
        task_model=fixed_task_model(),
        # task_model.recipe: tuned: the settings of the study behind the recipe.yaml input
        **({"recipe": recipe_params} if TUNED else {}),
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("ceiling", "{dataset}", "seed{seed}"),
    benchmark:
        bench_path("ceiling", "{dataset}", "seed{seed}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=16000,
        runtime=240,
    script:
        "../scripts/ceiling.py"


rule ceiling_table:
    input:
        lambda wc: [r[2] for r in ceiling_records()],
    output:
        report(
            f"{OUT}/results/ceiling.csv",
            caption="../report/ceiling.rst",
            category="Labels saved and ceiling",
            labels={"table": "all-labels ceiling"},
        ),
    params:
        records=lambda wc: [[d, s] for d, s, _ in ceiling_records()],
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("ceiling_table", "all"),
    localrule: True
    script:
        "../scripts/ceiling_table.py"
