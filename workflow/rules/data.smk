# Stage 1: load a dataset and draw the seeded pool every AL run of it uses (rule
# subset; one pool per AL seed with datasets.<name>.pool_per_seed: rule subset_per_seed),
# and its evaluation splits (rule eval_split). Apart, so that a new test split leaves
# the pool, and the VAE trained on it, untouched.


rule subset:
    output:
        f"{OUT}/data/{{dataset}}/subset.npz",
    params:
        spec=lambda wc: pool_spec(wc.dataset),
        seed=None,
        source=lambda wc: data_params(wc.dataset)["source"],
        digests=lambda wc: data_params(wc.dataset)["digests"],
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


use rule subset as subset_per_seed with:
    output:
        f"{OUT}/data/{{dataset}}/seed{{seed}}/subset.npz",
    params:
        spec=lambda wc: pool_spec(wc.dataset),
        seed=lambda wc: int(wc.seed),
        source=lambda wc: data_params(wc.dataset)["source"],
        digests=lambda wc: data_params(wc.dataset)["digests"],
    log:
        log_path("subset", "{dataset}", "seed{seed}"),
    benchmark:
        bench_path("subset", "{dataset}", "seed{seed}")


rule eval_split:
    output:
        eval_file("{dataset}"),
    params:
        spec=lambda wc: eval_spec(wc.dataset),
        source=lambda wc: data_params(wc.dataset)["source"],
        digests=lambda wc: data_params(wc.dataset)["digests"],
    conda:
        "../../envs/alvae.yaml"
    log:
        log_path("eval_split", "{dataset}"),
    benchmark:
        bench_path("eval_split", "{dataset}")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    script:
        "../scripts/eval_split.py"
