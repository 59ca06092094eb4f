# Stage 4b: how much the latent block weighs in the distances (latent_share, written
# by every round of every distance strategy with latents), and accuracy against α
# when the study sweeps it (strategy labels <strategy>@<scale>). Cheap, on the main host.


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
        strategies=latent_share_runs(),
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("latent_share", "all"),
    benchmark:
        bench_path("latent_share", "all")
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
        labels=[s for s in STRATEGIES if uses_vae(s)],
        metric="test_acc",
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("alpha_sweep", "all"),
    benchmark:
        bench_path("alpha_sweep", "all")
    localrule: True
    script:
        "../scripts/alpha_sweep.py"
