# Stage 2: the task-agnostic half. One VAE per dataset pool, trained without labels.


rule train_vae:
    input:
        lambda wc: subset_file(wc.dataset),
    output:
        model=f"{OUT}/vae/{{dataset}}/vae.pt",
        latents=f"{OUT}/vae/{{dataset}}/latents.npy",
        losses=f"{OUT}/vae/{{dataset}}/losses.csv",
        figure=report(
            f"{OUT}/vae/{{dataset}}/reconstructions.png",
            caption="../report/vae_reconstructions.rst",
            category="VAE",
            labels={"dataset": "{dataset}"},
        ),
    params:
        vae=canonical(config["vae"]),
        seed=lambda wc: config["datasets"][wc.dataset]["subset_seed"],
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("train_vae", "{dataset}"),
    benchmark:
        bench_path("train_vae", "{dataset}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.devices)
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/train_vae.py"
