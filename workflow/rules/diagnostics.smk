# Stage 4b: how much the latent block weighs in the distances (latent_share, written
# by every round of every distance strategy with latents), and accuracy against α
# when the study sweeps it (strategy labels <strategy>@<scale>), and what per-round
# retraining did to the representation (representation.retrain: per_round or +per_round labels).
# Cheap, on the main host.


rule latent_share:
    input:
        runs=f"{OUT}/results/runs.csv",
    output:
        table=report(
            f"{OUT}/results/latent_share.csv",
            caption="../report/latent_share.rst",
            category="Latent share",
            labels={"table": "latent share per round"},
        ),
        png=report(
            f"{OUT}/figures/latent_share.png",
            caption="../report/latent_share.rst",
            category="Latent share",
            labels={"figure": "latent share per round"},
        ),
        pdf=f"{OUT}/figures/latent_share.pdf",
    params:
        strategies=PLAN.latent_share_runs(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("latent_share", "all"),
    benchmark:
        PLAN.bench_path("latent_share", "all")
    localrule: True
    script:
        "../scripts/latent_share.py"


rule alpha_sweep:
    input:
        runs=f"{OUT}/results/runs.csv",
    output:
        table=report(
            f"{OUT}/results/alpha_sweep.csv",
            caption="../report/alpha_sweep.rst",
            category="Alpha sweep",
            labels={"table": "accuracy against alpha"},
        ),
        png=report(
            f"{OUT}/figures/alpha_sweep.png",
            caption="../report/alpha_sweep.rst",
            category="Alpha sweep",
            labels={"figure": "accuracy against alpha"},
        ),
        pdf=f"{OUT}/figures/alpha_sweep.pdf",
    params:
        labels=PLAN.alpha_labels(),
        metric="test_acc",
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("alpha_sweep", "all"),
    benchmark:
        PLAN.bench_path("alpha_sweep", "all")
    localrule: True
    script:
        "../scripts/alpha_sweep.py"


rule retrain_knn:
    input:
        runs=f"{OUT}/results/runs.csv",
    output:
        table=report(
            f"{OUT}/results/latent_knn_rounds.csv",
            caption="../report/retrain.rst",
            category="representations retrained per round",
            labels={"table": "latent kNN per round"},
        ),
        png=report(
            f"{OUT}/figures/latent_knn_rounds.png",
            caption="../report/retrain.rst",
            category="representations retrained per round",
            labels={"figure": "latent kNN per round"},
        ),
        pdf=f"{OUT}/figures/latent_knn_rounds.pdf",
    params:
        strategies=PLAN.retrained_runs(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("retrain_knn", "all"),
    benchmark:
        PLAN.bench_path("retrain_knn", "all")
    localrule: True
    script:
        "../scripts/retrain_knn.py"


rule retrain_tsne:
    input:
        unpack(lambda wc: PLAN.retrain_tsne_inputs(wc.dataset)),
    output:
        report(
            f"{OUT}/figures/tsne_rounds_{{dataset}}.png",
            caption="../report/retrain_tsne.rst",
            category="representations retrained per round",
            labels={"figure": "t-SNE, first and last round", "dataset": "{dataset}"},
        ),
    params:
        labels=PLAN.retrain_tsne_labels(),
        seed=PLAN.retrain_tsne_seed(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("retrain_tsne", "{dataset}"),
    benchmark:
        PLAN.bench_path("retrain_tsne", "{dataset}")
    threads: 1
    script:
        "../scripts/retrain_tsne.py"
