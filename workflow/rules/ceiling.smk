# The all-labels ceiling (alvae.ceiling): per dataset and AL seed, the task model trained
# on the whole pool with all its labels, with the recipe of the AL runs' last round; drawn
# on every learning curve and stated as a share in the report. `ceiling.enabled: false`
# turns the stage off (a GPU job per dataset and seed, about one AL round's training).

CEILING = bool(config.get("ceiling", {}).get("enabled", True))


def ceiling_file(dataset, seed):
    return f"{OUT}/ceiling/{dataset}/seed{seed}/metrics.csv"


def ceiling_records():
    """(dataset, seed, path) of every ceiling job (none when ceiling.enabled is false)."""
    return [(d, seed, ceiling_file(d, seed)) for d in DATASETS for seed in SEEDS] if CEILING else []


def tuned_recipe_file(wildcards):
    """HOOK(tune): with `task_model.recipe: tuned`, return the tuning stage's
    {OUT}/tune/<dataset>/<scope>/recipe.yaml for this dataset (and seed) here; the
    ceiling job then lays it over task_model (alvae.ceiling.merge_recipe). Until the
    tuning stage is wired, the ceiling trains with the config's task_model, as the
    AL runs do."""
    return None


def ceiling_inputs(wildcards):
    """The pool the ceiling trains on (that seed's with pool_per_seed) and the
    evaluation split it is measured on; the tuned recipe when there is one."""
    inputs = {"subset": subset_file(wildcards.dataset, wildcards.seed),
              "evaluation": eval_file(wildcards.dataset)}
    recipe = tuned_recipe_file(wildcards)
    if recipe is not None:
        inputs["recipe"] = recipe
    return inputs


def ceiling_curve_inputs():
    """The ceiling table for the learning curves, when the stage is on."""
    return {"ceiling": f"{OUT}/results/ceiling.csv"} if CEILING else {}


rule ceiling:
    input:
        unpack(ceiling_inputs),
    output:
        metrics=f"{OUT}/ceiling/{{dataset}}/seed{{seed}}/metrics.csv",
    params:
        # the length and seed of training follow the AL runs' last round
        al=canonical({k: config["al"][k] for k in ("initial_labels", "labels_per_round",
                                                   "final_labels")}),
        task_model=canonical(config["task_model"]),  # HOOK(tune): see tuned_recipe_file
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("ceiling", "{dataset}", "seed{seed}"),
    benchmark:
        bench_path("ceiling", "{dataset}", "seed{seed}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.devices)
        mem_mb=16000,
        runtime=240,
    script:
        "../scripts/ceiling.py"


rule ceiling_table:
    input:
        [r[2] for r in ceiling_records()],
    output:
        report(
            f"{OUT}/results/ceiling.csv",
            caption="../report/ceiling.rst",
            category="Labels saved and ceiling",
            labels={"table": "all-labels ceiling"},
        ),
    params:
        records=[[d, s] for d, s, _ in ceiling_records()],
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("ceiling_table", "all"),
    localrule: True
    script:
        "../scripts/ceiling_table.py"
