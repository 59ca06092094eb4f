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


def needs_vae(dataset):
    """Whether any job of this dataset reads the VAE latents."""
    tsne_vae = dataset in TSNE_DATASETS and any(uses_vae(s) for s in TSNE_STRATEGIES)
    return tsne_vae or any(uses_vae(s) for s in STRATEGIES)


def log_path(rule_name, *parts):
    return os.path.join(OUT, "logs", rule_name, *parts) + ".log"


def bench_path(rule_name, *parts):
    return os.path.join(OUT, "benchmarks", rule_name, *parts) + ".tsv"


def canonical(value):
    """A params value in one spelling: dict keys sorted at every level, so that
    Snakemake (which compares repr(params)) reruns a job only when a value changes,
    never because keys were reordered or a default was written out."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def pool_per_seed(dataset):
    return bool(config["datasets"][dataset].get("pool_per_seed", False))


def subset_file(dataset, seed=None):
    """The pool file of a dataset: one per dataset, or one per AL seed when
    datasets.<name>.pool_per_seed is true (then ``seed`` is required)."""
    if pool_per_seed(dataset):
        if seed is None:
            raise ValueError(f"datasets.{dataset}.pool_per_seed: the pool file needs a seed")
        return f"{OUT}/data/{dataset}/seed{seed}/subset.npz"
    return f"{OUT}/data/{dataset}/subset.npz"


def eval_file(dataset):
    """The evaluation splits (test, val) of a dataset: one per dataset."""
    return f"{OUT}/data/{dataset}/eval.npz"


# What a file's content depends on, per datasets.<name> key: the pool (rule subset), the
# evaluation splits (rule eval_split). `download` and `check_md5` only decide how the
# files are obtained, never what they hold.
SOURCE_KEYS = ("source", "root", "path", "flag", "size")


def pool_spec(dataset):
    spec = config["datasets"][dataset]
    keep = SOURCE_KEYS + ("subset_size", "subset_seed", "pool_per_seed")
    return canonical({k: spec.get(k) for k in keep})


def recorded_config():
    """The settings the report records: canonical, without the keys that only decide
    how the data files are fetched (so that toggling them reruns nothing)."""
    rec = canonical(config)
    rec["datasets"] = {
        name: {k: v for k, v in spec.items() if k not in ("download", "check_md5")}
        for name, spec in rec["datasets"].items()
    }
    return rec


def eval_spec(dataset):
    spec = config["datasets"][dataset]
    # the test draw continues the seed-only pool draw (as it always did), so it depends on
    # subset_size and subset_seed too, but not on pool_per_seed
    keep = SOURCE_KEYS + ("subset_size", "subset_seed", "test_size")
    return canonical({k: spec.get(k) for k in keep})


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
    inputs = {"subset": subset_file(wildcards.dataset, wildcards.seed),
              "evaluation": eval_file(wildcards.dataset)}
    if uses_vae(wildcards.strategy):
        inputs["latents"] = latents_file(wildcards.dataset)
    return inputs


def al_settings():
    """The AL settings a run depends on (the seed list itself is not one)."""
    return canonical({k: v for k, v in config["al"].items() if k != "seeds"})


def tsne_inputs(wildcards):
    inputs = {"subset": subset_file(wildcards.dataset, config["tsne"]["seed"]),
              "evaluation": eval_file(wildcards.dataset)}
    if any(uses_vae(s) for s in TSNE_STRATEGIES):
        inputs["latents"] = latents_file(wildcards.dataset)
    return inputs


# Metrics tested per budget and as AULC (results stage).
TEST_METRICS = ["test_acc", "test_auc", "test_ap"]  # AULC computed for these (when recorded)
# Metrics ranked (PPM, CD diagram): stats.metrics, else all three.
RANK_METRICS = list(config.get("stats", {}).get("metrics") or TEST_METRICS)


def stats_pairs():
    """config stats.pairs: "auto" = each X vs X_vae, and each strategy vs random."""
    from alvae.stats import default_pairs

    pairs = config.get("stats", {}).get("pairs", "auto")
    if pairs == "auto":
        return [list(p) for p in default_pairs(STRATEGIES)]
    return [list(p) for p in pairs if p[0] in STRATEGIES and p[1] in STRATEGIES]


def stats_alpha():
    return config.get("stats", {}).get("alpha", 0.05)


def stats_correction():
    """config stats.correction: holm (default) or bh, within each family."""
    return config.get("stats", {}).get("correction", "holm")


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
    targets += expand(f"{OUT}/figures/{{kind}}_{{metric}}.{{ext}}", kind=["ppm", "cd"],
                      metric=RANK_METRICS, ext=["png", "pdf"])
    targets += expand(
        f"{OUT}/figures/curves_{{dataset}}_{{family}}.{{ext}}",
        dataset=DATASETS, family=FAMILIES, ext=["png", "pdf"],
    )
    targets += [f"{OUT}/vae/{d}/reconstructions.png" for d in DATASETS if needs_vae(d)]
    targets += expand(f"{OUT}/figures/tsne_{{dataset}}_pair.png", dataset=TSNE_DATASETS)
    return targets
