# Stage 1: load a dataset and draw the seeded pool every AL run of it uses.


rule subset:
    output:
        f"{OUT}/data/{{dataset}}/subset.npz",
    params:
        spec=lambda wc: config["datasets"][wc.dataset],
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("subset", "{dataset}"),
    benchmark:
        bench_path("subset", "{dataset}")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    script:
        "../scripts/subset.py"
