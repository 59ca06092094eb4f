# Stage 3b: the thesis's visual experiment (Figures 4.5, 4.6): what core-set
# and VAE-core-set pick from the same candidates of the same model.


rule tsne_select:
    input:
        unpack(lambda wc: PLAN.tsne_inputs(wc.dataset)),
    output:
        f"{OUT}/tsne/{{dataset}}/selection.npz",
    params:
        tsne=PLAN.tsne_settings(),
        task_model=PLAN.fixed_task_model(),  # the fixed recipe (the t-SNE experiment is not tuned)
        alpha=config["alpha"],
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("tsne_select", "{dataset}"),
    benchmark:
        PLAN.bench_path("tsne_select", "{dataset}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/tsne_select.py"
