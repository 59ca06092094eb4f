# Stage 2: the representations (one per kind) the <base>_<kind> strategies read.
# One job per dataset x kind used (scope "shared"), or per dataset x kind x AL seed
# (scope "seed<n>") for a kind that learns from the seed's initial labels, under
# representation.per_seed, or when the pool itself is drawn per seed.


rule train_representation:
    input:
        unpack(lambda wc: PLAN.representation_inputs(wc.dataset, wc.scope)),
    output:
        model=f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/model.pt",
        latents=f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/latents.npy",
        losses=f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/losses.csv",
        figure=report(
            f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/reconstructions.png",
            caption="../report/representation_reconstructions.rst",
            category="representations",
            subcategory="reconstructions",
            labels={"dataset": "{dataset}", "kind": "{kind}", "scope": "{scope}"},
        ),
        tsne=report(
            f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/tsne.png",
            caption="../report/representation_tsne.rst",
            category="representations",
            subcategory="t-SNE of the latents",
            labels={"dataset": "{dataset}", "kind": "{kind}", "scope": "{scope}"},
        ),
    params:
        representation=lambda wc: canonical(PLAN.representation_params(wc.kind)),
        seed=lambda wc: PLAN.representation_seed(wc.dataset, wc.scope),
        initial_labels=lambda wc: PLAN.representation_initial_labels(wc.kind),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("train_representation", "{dataset}", "{kind}", "{scope}"),
    benchmark:
        PLAN.bench_path("train_representation", "{dataset}", "{kind}", "{scope}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=8000,
        runtime=120,
    script:
        "../scripts/train_representation.py"


# The test (and val) images encoded by a trained representation, for a frozen-feature task
# model (task_model.features): apart from train_representation so that the representation never reads
# the evaluation split (and a new test split retrains nothing).
rule encode_eval:
    input:
        model=f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/model.pt",
        evaluation=lambda wc: PLAN.eval_file(wc.dataset),
    output:
        f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/eval_latents.npz",
    params:
        representation=lambda wc: canonical(PLAN.representation_params(wc.kind)),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("encode_eval", "{dataset}", "{kind}", "{scope}"),
    benchmark:
        PLAN.bench_path("encode_eval", "{dataset}", "{kind}", "{scope}")
    threads: 1
    resources:
        gpu=1,  # one GPU slot; the job leases which (alvae.training.devices)
        mem_mb=8000,
        runtime=60,
    script:
        "../scripts/encode_eval.py"


# The kNN accuracy of the latent means on the test split, in a rule of its own so that
# a change to the evaluation split (test_size) never retrains a representation.
rule representation_diagnostics:
    input:
        unpack(lambda wc: PLAN.representation_diagnostics_inputs(wc.dataset, wc.kind, wc.scope)),
    output:
        f"{OUT}/representation/{{dataset}}/{{kind}}/{{scope}}/diagnostics.json",
    params:
        seed=lambda wc: PLAN.representation_seed(wc.dataset, wc.scope),
        initial_labels=lambda wc: PLAN.representation_initial_labels(wc.kind),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("representation_diagnostics", "{dataset}", "{kind}", "{scope}"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/representation_diagnostics.py"


rule latent_knn:
    input:
        lambda wc: PLAN.latent_knn_inputs(all_seeds()),
    output:
        report(
            f"{OUT}/results/latent_knn.csv",
            caption="../report/latent_knn.rst",
            category="representations",
            subcategory="kNN accuracy of the latents",
        ),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("latent_knn", "all"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/latent_knn.py"
