# The initial labeled set of a seed, when it is chosen (al.initial_selection typiclust or
# centroids, alvae.al.initial) rather than drawn at random inside each job: one file per
# dataset and AL seed, read by every strategy of the seed.
rule initial_labels:
    input:
        unpack(lambda wc: PLAN.initial_labels_inputs(wc.dataset, wc.seed)),
    output:
        f"{OUT}/initial/{{dataset}}/seed{{seed}}.npy",
    params:
        method=PLAN.initial_selection,
        n_initial=config["al"]["initial_labels"],
        typiclust=canonical(config["typiclust"]),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("initial_labels", "{dataset}", "seed{seed}"),
    benchmark:
        PLAN.bench_path("initial_labels", "{dataset}", "seed{seed}")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/initial_labels.py"


# Stage 3: Algorithm 1, one job per dataset x strategy x seed (a GPU job).
# The job checkpoints every round under {OUT}/state/ and resumes from there.


rule al_run:
    input:
        unpack(lambda wc: PLAN.al_inputs(wc.dataset, wc.strategy, wc.seed)),
    output:
        metrics=f"{OUT}/runs/{{dataset}}/{{strategy}}/seed{{seed}}/metrics.csv",
        picked=f"{OUT}/runs/{{dataset}}/{{strategy}}/seed{{seed}}/picked.npz",
        # representation.retrain: per_round: each round's latents (round_0, round_1, ...; empty
        # for a strategy without latents)
        **({"latents": f"{OUT}/runs/{{dataset}}/{{strategy}}/seed{{seed}}/latents_rounds.npz"}
           if PLAN.per_round else {}),
    params:
        al=PLAN.al_settings(),
        task_model=PLAN.fixed_task_model(),
        # task_model.recipe: tuned: the settings of the study behind the recipe.yaml input
        **({"recipe": lambda wc: PLAN.recipe_params(wc.seed)} if PLAN.tuned else {}),
        lloss=lambda wc: PLAN.lloss_options(wc.strategy),
        alpha=lambda wc: PLAN.alpha(wc.strategy),
        state_dir=lambda wc: PLAN.state_dir(wc.dataset, wc.strategy, wc.seed),
        retrain=lambda wc: PLAN.retrain_params(wc.strategy),
        strategy_options=lambda wc: PLAN.strategy_options(wc.strategy),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("al_run", "{dataset}", "{strategy}", "seed{seed}"),
    benchmark:
        PLAN.bench_path("al_run", "{dataset}", "{strategy}", "seed{seed}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=16000,
        runtime=720,
    script:
        "../scripts/al_run.py"
