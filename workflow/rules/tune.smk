# Stage 2b: the classifier's recipe (task_model.recipe: tuned). One Optuna study per
# dataset (tune.scope: dataset, on the first AL seed's initial labels) or per dataset x
# AL seed (tune.scope: seed), scored by k-fold cross-validation on those labels alone:
# the job reads the pool file, never the evaluation splits. Its study lives in the
# tune folder (study.db or study.journal), so a killed job resumes it. Then, for the
# report, the fixed recipe's round 0 per seed, and the "Classifier" page.


rule tune:
    input:
        # the pool only (the evaluation splits are not an input of this job)
        subset=lambda wc: PLAN.subset_file(wc.dataset, PLAN.tune_seed(wc.scope)),
    output:
        recipe=report(
            f"{OUT}/tune/{{dataset}}/{{scope}}/recipe.yaml",
            caption="../report/tune_recipe.rst",
            category="Classifier",
            labels={"dataset": "{dataset}", "scope": "{scope}", "file": "recipe"},
        ),
        trials=report(
            f"{OUT}/tune/{{dataset}}/{{scope}}/trials.csv",
            caption="../report/tune_trials.rst",
            category="Classifier",
            labels={"dataset": "{dataset}", "scope": "{scope}", "file": "trials"},
        ),
        history=report(
            f"{OUT}/tune/{{dataset}}/{{scope}}/history.png",
            caption="../report/tune_history.rst",
            category="Classifier",
            labels={"dataset": "{dataset}", "scope": "{scope}", "file": "optimization history"},
        ),
    params:
        tune=PLAN.tune_settings(),
        task_model=PLAN.tune_task_model(),
        initial_labels=config["al"]["initial_labels"],
        seed=lambda wc: PLAN.tune_seed(wc.scope),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("tune", "{dataset}", "{scope}"),
    benchmark:
        PLAN.bench_path("tune", "{dataset}", "{scope}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=16000,
        runtime=720,
    script:
        "../scripts/tune.py"


# tune.workers > 1 (storage: journal): more jobs run trials of the same study while
# the tune job runs; the tune job writes the recipe once every trial has finished.
rule tune_worker:
    input:
        subset=lambda wc: PLAN.subset_file(wc.dataset, PLAN.tune_seed(wc.scope)),
    output:
        f"{OUT}/tune/{{dataset}}/{{scope}}/worker{{worker}}.done",
    params:
        tune=PLAN.tune_settings(),
        task_model=PLAN.tune_task_model(),
        initial_labels=config["al"]["initial_labels"],
        seed=lambda wc: PLAN.tune_seed(wc.scope),
    wildcard_constraints:
        worker=r"\d+",
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("tune_worker", "{dataset}", "{scope}", "worker{worker}"),
    benchmark:
        PLAN.bench_path("tune_worker", "{dataset}", "{scope}", "worker{worker}")
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=720,
    script:
        "../scripts/tune.py"


# tune.compare_fixed: the fixed recipe's round 0 of each seed (the same labels and
# seeds as the AL runs' round 0), so that the report shows both recipes side by side.
rule fixed_round0:
    input:
        subset=lambda wc: PLAN.subset_file(wc.dataset, wc.seed),
        evaluation=lambda wc: PLAN.eval_file(wc.dataset),
    output:
        PLAN.fixed_round0_file("{dataset}", "{seed}"),
    params:
        task_model=PLAN.fixed_task_model(),
        initial_labels=config["al"]["initial_labels"],
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("fixed_round0", "{dataset}", "seed{seed}"),
    benchmark:
        PLAN.bench_path("fixed_round0", "{dataset}", "seed{seed}")
    threads: 1
    resources:
        gpu=1,
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/fixed_round0.py"


rule classifier_report:
    input:
        runs=f"{OUT}/results/runs.csv",
        recipes=[f"{PLAN.tune_dir(d, s)}/recipe.yaml" for d, s in PLAN.tune_jobs()],
        trials=[f"{PLAN.tune_dir(d, s)}/trials.csv" for d, s in PLAN.tune_jobs()],
        fixed=[PLAN.fixed_round0_file(d, s) for d, s in PLAN.fixed_records()],
    output:
        report(
            f"{OUT}/report/classifier.rst",
            caption="../report/classifier.rst",
            category="Classifier",
            labels={"dataset": "all", "scope": "all", "file": "summary"},
        ),
    params:
        recipe=config["task_model"]["recipe"],
        scope=config["tune"]["scope"] if PLAN.tuned else None,
        studies=[[d, s] for d, s in PLAN.tune_jobs()],
        fixed_records=PLAN.fixed_records(),
        task_model=PLAN.fixed_task_model(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("classifier_report", "all"),
    benchmark:
        PLAN.bench_path("classifier_report", "all")
    localrule: True
    script:
        "../scripts/classifier_report.py"
