# The all-labels ceiling (alvae.training.ceiling): per dataset and AL seed, the task model trained
# on the whole pool with all its labels, with the recipe of the AL runs' last round; drawn
# on every learning curve and stated as a share in the report. `ceiling.enabled: false`
# turns the stage off (a GPU job per dataset and seed: the last AL round's training with
# the whole pool; docs/representations.md).
# Plan: alvae.plan (Plan.ceiling_records, ceiling_inputs).


rule ceiling:
    input:
        unpack(lambda wc: PLAN.ceiling_inputs(wc.dataset, wc.seed)),
    output:
        metrics=f"{OUT}/ceiling/{{dataset}}/seed{{seed}}/metrics.csv",
    params:
        # the length and seed of training follow the AL runs' last round
        al=PLAN.ceiling_al(),
        task_model=PLAN.fixed_task_model(),
        # task_model.recipe: tuned: the settings of the study behind the recipe.yaml input
        **({"recipe": lambda wc: PLAN.recipe_params(wc.seed)} if PLAN.tuned else {}),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("ceiling", "{dataset}", "seed{seed}"),
    benchmark:
        PLAN.bench_path("ceiling", "{dataset}", "seed{seed}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=16000,
        runtime=240,
    script:
        "../scripts/ceiling.py"


rule ceiling_table:
    input:
        lambda wc: [r[2] for r in PLAN.ceiling_records(all_seeds())],
    output:
        report(
            f"{OUT}/results/ceiling.csv",
            caption="../report/ceiling.rst",
            category="Labels saved and ceiling",
            labels={"table": "all-labels ceiling"},
        ),
    params:
        records=lambda wc: [[d, s] for d, s, _ in PLAN.ceiling_records(all_seeds())],
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("ceiling_table", "all"),
    localrule: True
    script:
        "../scripts/ceiling_table.py"
