# Shared names and helpers of the rule files. Only this file reads `config`
# broadly; rules pass on just the slice of it they use, in `params:`.

OUT = config["out_dir"].rstrip("/")
DATASETS = list(config["datasets"])
STRATEGIES = list(config["strategies"])
SEEDS = list(config["al"]["seeds"])
TSNE_DATASETS = [d for d in config["tsne"]["datasets"] if d in DATASETS]
TSNE_STRATEGIES = list(config["tsne"]["strategies"])


wildcard_constraints:
    dataset="|".join(DATASETS),
    strategy="|".join(STRATEGIES),
    seed=r"\d+",


def family_of(strategy):
    """coreset_vae -> coreset; random stays random (drawn in every panel)."""
    return strategy.removesuffix("_vae")


FAMILIES = sorted({family_of(s) for s in STRATEGIES if s != "random"}) or ["random"]


def uses_vae(strategy):
    """The *_vae strategies read the VAE latents."""
    return strategy.endswith("_vae")


def reads_latents(strategy):
    """*_vae strategies, and typiclust/probcover working in the latent space."""
    if strategy in ("typiclust", "probcover"):
        return config[strategy]["space"] == "latents"
    return uses_vae(strategy)


def needs_vae(dataset):
    """Whether any job of this dataset reads the VAE latents."""
    tsne_vae = dataset in TSNE_DATASETS and any(uses_vae(s) for s in TSNE_STRATEGIES)
    return tsne_vae or any(reads_latents(s) for s in STRATEGIES)


def log_path(rule_name, *parts):
    return os.path.join(OUT, "logs", rule_name, *parts) + ".log"


def bench_path(rule_name, *parts):
    return os.path.join(OUT, "benchmarks", rule_name, *parts) + ".tsv"


def subset_file(wildcards):
    return f"{OUT}/data/{wildcards.dataset}/subset.npz"


def latents_file(dataset):
    return f"{OUT}/vae/{dataset}/latents.npy"


def run_records():
    """(dataset, strategy, seed, path) for every run, for the aggregation."""
    return [
        (d, s, seed, f"{OUT}/runs/{d}/{s}/seed{seed}/metrics.csv")
        for d in DATASETS
        for s in STRATEGIES
        for seed in SEEDS
    ]


def al_inputs(wildcards):
    inputs = {"subset": subset_file(wildcards)}
    if reads_latents(wildcards.strategy):
        inputs["latents"] = latents_file(wildcards.dataset)
    return inputs


def strategy_settings(strategy):
    """The strategy's own config section (bald, typiclust, probcover), or None."""
    return config.get(strategy) if strategy in ("bald", "typiclust", "probcover") else None


def al_settings():
    """The AL settings a run depends on (the seed list itself is not one)."""
    return {k: v for k, v in config["al"].items() if k != "seeds"}


def tsne_inputs(wildcards):
    inputs = {"subset": subset_file(wildcards)}
    if any(uses_vae(s) for s in TSNE_STRATEGIES):
        inputs["latents"] = latents_file(wildcards.dataset)
    return inputs


# Metrics tested per budget and as AULC (results stage).
TEST_METRICS = ["test_acc", "test_auc"]  # tested per budget and as AULC


def stats_pairs():
    """config stats.pairs: "auto" = each X vs X_vae, and each strategy vs random."""
    from alvae.stats import default_pairs

    pairs = config.get("stats", {}).get("pairs", "auto")
    if pairs == "auto":
        return [list(p) for p in default_pairs(STRATEGIES)]
    return [list(p) for p in pairs if p[0] in STRATEGIES and p[1] in STRATEGIES]


def stats_alpha():
    return config.get("stats", {}).get("alpha", 0.05)


def family_members(family):
    return [s for s in STRATEGIES if family_of(s) == family]


def tsne_pair_strategies():
    """The two strategies side by side: the first plain/_vae pair, else the first two."""
    for s in TSNE_STRATEGIES:
        if f"{s}_vae" in TSNE_STRATEGIES:
            return [s, f"{s}_vae"]
    return TSNE_STRATEGIES[:2]


def final_targets():
    targets = [
        f"{OUT}/results/runs.csv",
        f"{OUT}/results/summary.csv",
        f"{OUT}/results/tests.md",
        f"{OUT}/report/summary.rst",
        f"{OUT}/report/settings.rst",
    ]
    targets += expand(
        f"{OUT}/figures/curves_{{dataset}}_{{family}}.{{ext}}",
        dataset=DATASETS, family=FAMILIES, ext=["png", "pdf"],
    )
    targets += [f"{OUT}/vae/{d}/reconstructions.png" for d in DATASETS if needs_vae(d)]
    targets += expand(f"{OUT}/figures/tsne_{{dataset}}_pair.png", dataset=TSNE_DATASETS)
    return targets
