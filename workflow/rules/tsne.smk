# Stage 3b: the thesis's visual experiment (Figures 4.5, 4.6): what core-set
# and VAE-core-set pick from the same candidates of the same model.


def tsne_inputs(wildcards):
    inputs = {"subset": subset_file(wildcards)}
    if any(uses_vae(s) for s in TSNE_STRATEGIES):
        inputs["latents"] = latents_file(wildcards.dataset)
    return inputs


rule tsne_select:
    input:
        unpack(tsne_inputs),
    output:
        f"{OUT}/tsne/{{dataset}}/selection.npz",
    params:
        tsne={k: v for k, v in config["tsne"].items() if k != "datasets"},
        task_model=config["task_model"],
        alpha=config["alpha"],
    log:
        log_path("tsne_select", "{dataset}"),
    benchmark:
        bench_path("tsne_select", "{dataset}")
    threads: 1
    resources:
        gpu=gpu_resource,
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/tsne_select.py"
