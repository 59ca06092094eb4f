# The initial labeled set of a seed, when it is chosen (al.initial_selection typiclust or
# centroids, alvae.al.initial) rather than drawn at random inside each job: one file per
# dataset and AL seed, read by every strategy of the seed.
rule initial_labels:
    input:
        subset=lambda wc: subset_file(wc.dataset, wc.seed),
        latents=lambda wc: latents_file(wc.dataset, INITIAL_SPACE, wc.seed),
    output:
        f"{OUT}/initial/{{dataset}}/seed{{seed}}.npy",
    params:
        method=INITIAL_SELECTION,
        n_initial=config["al"]["initial_labels"],
        typiclust=canonical(config["typiclust"]),
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("initial_labels", "{dataset}", "seed{seed}"),
    benchmark:
        bench_path("initial_labels", "{dataset}", "seed{seed}")
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
        unpack(al_inputs),
    output:
        metrics=f"{OUT}/runs/{{dataset}}/{{strategy}}/seed{{seed}}/metrics.csv",
        picked=f"{OUT}/runs/{{dataset}}/{{strategy}}/seed{{seed}}/picked.npz",
        # vae.retrain: per_round: each round's latents (round_0, round_1, ...; empty
        # for a strategy without latents)
        **({"latents": f"{OUT}/runs/{{dataset}}/{{strategy}}/seed{{seed}}/latents_rounds.npz"}
           if PER_ROUND else {}),
    params:
        al=al_settings(),
        task_model=fixed_task_model(),
        # task_model.recipe: tuned: the settings of the study behind the recipe.yaml input
        **({"recipe": recipe_params} if TUNED else {}),
        lloss=lloss_options,
        alpha=lambda wc: config["alpha"] if uses_vae(wc.strategy) else None,
        state_dir=lambda wc: f"{OUT}/state/{wc.dataset}/{wc.strategy}/seed{wc.seed}",
        retrain=retrain_params,
        strategy_cfg=strategy_options,
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("al_run", "{dataset}", "{strategy}", "seed{seed}"),
    benchmark:
        bench_path("al_run", "{dataset}", "{strategy}", "seed{seed}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=16000,
        runtime=720,
    script:
        "../scripts/al_run.py"
