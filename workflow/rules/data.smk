# Stage 1: load a dataset and draw the seeded pool every AL run of it uses (rule
# subset; one pool per AL seed with datasets.<name>.pool_per_seed: rule subset_per_seed),
# and its evaluation splits (rule eval_split). Apart, so that a new test split leaves
# the pool, and the VAE trained on it, untouched.


rule subset:
    output:
        f"{OUT}/data/{{dataset}}/subset.npz",
    params:
        spec=lambda wc: PLAN.pool_spec(wc.dataset),
        seed=None,
        source=lambda wc: PLAN.data_params(wc.dataset, SOURCES)["source"],
        digests=lambda wc: PLAN.data_params(wc.dataset, SOURCES)["digests"],
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("subset", "{dataset}"),
    benchmark:
        PLAN.bench_path("subset", "{dataset}")
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
        spec=lambda wc: PLAN.pool_spec(wc.dataset),
        seed=lambda wc: int(wc.seed),
        source=lambda wc: PLAN.data_params(wc.dataset, SOURCES)["source"],
        digests=lambda wc: PLAN.data_params(wc.dataset, SOURCES)["digests"],
    log:
        PLAN.log_path("subset", "{dataset}", "seed{seed}"),
    benchmark:
        PLAN.bench_path("subset", "{dataset}", "seed{seed}")


rule eval_split:
    output:
        PLAN.eval_file("{dataset}"),
    params:
        spec=lambda wc: PLAN.eval_spec(wc.dataset),
        source=lambda wc: PLAN.data_params(wc.dataset, SOURCES)["source"],
        digests=lambda wc: PLAN.data_params(wc.dataset, SOURCES)["digests"],
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("eval_split", "{dataset}"),
    benchmark:
        PLAN.bench_path("eval_split", "{dataset}")
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    script:
        "../scripts/eval_split.py"
