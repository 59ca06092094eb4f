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
