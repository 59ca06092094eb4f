# Shared names and helpers of the rule files. Only this file reads `config`
# broadly; rules pass on just the slice of it they use, in `params:`.

import json
import re
import sys

from alvae.data import imagesources
from alvae import labels as strategy_labels
from alvae import vocabulary
from alvae.analysis import labels_saved as _labels_saved
from alvae.data.sourcefiles import DigestStore, content_spec, source_identity
from alvae.errors import UserError
from alvae.io import writable_folder
from alvae.labels import strategy_of

OUT = config["out_dir"].rstrip("/")
DATASETS = list(config["datasets"])
STRATEGIES = list(config["strategies"])
SEEDS = list(config["al"]["seeds"])
TSNE_DATASETS = [d for d in config["tsne"]["datasets"] if d in DATASETS]
# al.extra_seeds (alvae.analysis.seedplan): SEEDS are the first stage; the checkpoint rule
# plan_seeds (seeds.smk) writes the whole list, which every aggregation reads (all_seeds).
EXTRA_SEEDS = config["al"]["extra_seeds"]
SEED_PLAN = f"{OUT}/results/seed_plan.json"


def all_seeds():
    """Every AL seed of the study: al.seeds, or with al.extra_seeds the seeds its plan
    gives (known once the first stage has run: a Snakemake checkpoint)."""
    if not EXTRA_SEEDS:
        return SEEDS
    with open(checkpoints.plan_seeds.get().output[0]) as fh:
        return list(json.load(fh)["seeds"])
TSNE_STRATEGIES = list(config["tsne"]["strategies"])


wildcard_constraints:
    dataset="|".join(DATASETS),
    strategy="|".join(re.escape(s) for s in STRATEGIES),  # labels may carry @0.5 (α scale) and +per_round (schedule)
    seed=r"\d+",
    kind="|".join(vocabulary.KINDS),
    scope=r"shared|seed\d+",


# What each strategy and representation kind needs is declared once, in alvae.vocabulary;
# the helpers below only read it.
def traits(strategy):
    """The vocabulary's traits of a label's strategy (coreset_vae@0.5+per_round -> coreset's)."""
    return vocabulary.traits(strategy_of(strategy))


def family_of(strategy):
    """coreset_vae, coreset_cvae, coreset_vae@0.5, coreset_cvae+per_round -> coreset;
    random stays random (drawn in every panel)."""
    return vocabulary.base_of(strategy_of(strategy))


FAMILIES = sorted({family_of(s) for s in STRATEGIES if s != "random"}) or ["random"]


def vae_kind_of(strategy):
    """The representation kind a strategy appends: coreset_vae -> vae,
    lloss_gmvae -> gmvae; random, entropy, vaal -> None."""
    return vocabulary.kind_of(strategy_of(strategy))


def uses_vae(strategy):
    """The <base>_<kind> strategies read the latents of a representation (any kind)."""
    return vae_kind_of(strategy) is not None


def latent_kind_of(strategy):
    """The representation kind whose latents a run reads: a <base>_<kind> strategy's
    kind, or the kind a latent-space strategy's `space` names (typiclust, probcover);
    else None."""
    t = traits(strategy)
    if t.latent_space:
        return vocabulary.space_kind(config[t.options]["space"])
    return vae_kind_of(strategy)


def reads_latents(strategy):
    """*_<kind> strategies, and the latent-space strategies working in a kind's latents."""
    return latent_kind_of(strategy) is not None


def labeled_kind(kind):
    """A kind that learns from labels is trained per AL seed, on its initial labels."""
    return vocabulary.KINDS[kind].uses_labels


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
    return config["datasets"][dataset]["pool_per_seed"]


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


# A datasets.<name> entry holds keys that decide what the data is, and keys that decide
# only how its files are obtained (alvae.data.sourcefiles.FETCH_KEYS: download, check_md5,
# url). Only the first kind enters the rules' params; the jobs read the second kind from
# their config (alvae.data.sourcefiles.fetch_options), so that toggling one reruns nothing.
# The files' content enters the params too (source_identity): replacing a file reruns
# the pool and all after it, a touch reruns nothing.
def _planned_or_exit(step):
    """Run a step of the planning; bad input (a data file, a folder that cannot be
    written) stops the workflow here, before any job, with its one line."""
    try:
        return step()
    except UserError as exc:
        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


# The planning itself writes under out_dir (the digest store below): an out_dir that
# cannot be created or written stops here, naming out_dir.
_planned_or_exit(lambda: writable_folder(OUT, "out_dir"))
SOURCE_STORE = DigestStore(f"{OUT}/data/.sources", key="out_dir")


def _source_identities():
    """Per dataset, an identity of its files' content, computed once when the workflow is
    planned; a missing file (with download off) or a failed MD5 check stops here, before
    any job, with one line naming the file and the key."""
    return {d: source_identity(d, config["datasets"][d], SOURCE_STORE) for d in DATASETS}


SOURCE_IDS = _planned_or_exit(_source_identities)


def data_params(dataset):
    """What the pool and evaluation-split jobs get besides their spec: the identity of
    the source files' content, and the folder of the digest store (for the receipt of a
    download)."""
    return {"source": SOURCE_IDS[dataset], "digests": SOURCE_STORE.folder.as_posix()}


# What the pool and the evaluation splits hold depends on these keys, on the source's own
# keys (alvae.data.imagesources.source_keys: image_size, a manifest's columns, a hold-out's
# test_size and split_seed) and on the files' content (source_identity), never on the
# fetch keys.
DATA_KEYS = ("source", "root", "path", "flag", "size", "subset_size", "subset_seed")


def _data_spec(dataset, extra):
    spec = config["datasets"][dataset]
    keys = dict.fromkeys(DATA_KEYS + extra + imagesources.source_keys(spec))
    return canonical({k: spec.get(k) for k in keys})


def pool_spec(dataset):
    return _data_spec(dataset, extra=("pool_per_seed",))


def recorded_config():
    """The settings the report records: canonical, without the keys that only decide
    how the data files are fetched (so that toggling them reruns nothing)."""
    rec = canonical(config)
    rec["datasets"] = {name: content_spec(spec) for name, spec in rec["datasets"].items()}
    return rec


def eval_spec(dataset):
    # the test draw continues the seed-only pool draw (as it always did), so it depends on
    # subset_size and subset_seed too, but not on pool_per_seed
    return _data_spec(dataset, extra=("test_size",))


def vae_per_seed(dataset, kind):
    """Whether ``kind`` is trained once per AL seed on ``dataset``: always for the
    kinds that use labels (the seed's initial labeled set), for every kind under
    vae.per_seed, and when the pool itself is drawn per seed."""
    return (labeled_kind(kind) or config["vae"]["per_seed"]
            or config["datasets"][dataset]["pool_per_seed"])


def vae_file(dataset, kind, seed, name):
    """A file of the train_vae job that serves (dataset, kind, AL seed)."""
    if vae_per_seed(dataset, kind):
        if seed is None:
            raise ValueError(f"the {kind} representation of {dataset} is per seed: give a seed")
        return f"{OUT}/vae/{dataset}/{kind}/seed{seed}/{name}"
    return f"{OUT}/vae/{dataset}/{kind}/shared/{name}"


def latents_file(dataset, kind, seed):
    """The latents the <base>_<kind> strategies read in AL seed ``seed``'s run."""
    return vae_file(dataset, kind, seed, "latents.npy")


def vae_seed(dataset, scope):
    """Training seed: the AL seed for a per-seed job, else the pool's subset_seed."""
    if scope.startswith("seed"):
        return int(scope[len("seed"):])
    return config["datasets"][dataset]["subset_seed"]


def vae_params(kind):
    """The vae settings a kind's training depends on (not vae.retrain etc.)."""
    keep = ("latent_dim", "epochs", "lr", "weight_decay", "batch_size")
    params = {k: config["vae"][k] for k in keep}
    if isinstance(config["vae"].get(kind), dict):  # the kind's own options (vae.cvae, vae.gmvae)
        params[kind] = dict(config["vae"][kind])
    files = vocabulary.kind_files_module(kind)
    if files is not None:  # a file the user placed (weights): its content decides the job
        params["files"] = files.files_identity(config["vae"].get(kind))
    return params


def vae_inputs(wildcards):
    """The pool a representation trains on (with a per-seed pool, that seed's:
    vae_seed(wildcards.dataset, wildcards.scope) is the AL seed of a seed<n> scope)."""
    per_seed = wildcards.scope.startswith("seed")
    seed = vae_seed(wildcards.dataset, wildcards.scope) if per_seed else None
    return {"subset": subset_file(wildcards.dataset, seed)}


def vae_diagnostics_inputs(wildcards):
    """A trained representation and the evaluation split its kNN accuracy is measured on."""
    d = f"{OUT}/vae/{wildcards.dataset}/{wildcards.kind}/{wildcards.scope}"
    return {**vae_inputs(wildcards), "evaluation": eval_file(wildcards.dataset),
            "model": f"{d}/model.pt", "latents": f"{d}/latents.npy", "losses": f"{d}/losses.csv"}


def tsne_vae_seed():
    """The t-SNE experiment reads the representation of its own seed (tsne.seed) when per seed."""
    return config["tsne"]["seed"]


# The kind whose latents the t-SNE experiment's <base>_<kind> strategies append (the
# thesis: coreset vs coreset_vae); None when none of its strategies reads one.
TSNE_KIND = next((vae_kind_of(s) for s in TSNE_STRATEGIES if uses_vae(s)), None)


# A frozen-feature task model (task_model.arch linear or mlp, alvae.training.head): the
# representation task_model.features is trained once on the pool (train_vae), its features
# of the evaluation splits are computed apart (encode_eval), and both feed every AL run.
FEATURES_KIND = config["task_model"]["features"]


def eval_features_file(dataset, kind, seed):
    """The features of the test (and val) images under the representation of
    (dataset, kind, AL seed) (rule encode_eval)."""
    return vae_file(dataset, kind, seed, "eval_latents.npz")


def feature_inputs(dataset, seed):
    """The frozen features a head trains and is evaluated on (none for the ResNet)."""
    if FEATURES_KIND is None:
        return {}
    return {"features": latents_file(dataset, FEATURES_KIND, seed),
            "eval_features": eval_features_file(dataset, FEATURES_KIND, seed)}


# al.initial_selection typiclust or centroids (alvae.al.initial): one initial labeled set per
# dataset and AL seed (rule initial_labels), read by every strategy of the seed.
INITIAL_SELECTION = config["al"]["initial_selection"]
INITIAL_SPACE = config["al"]["initial_space"]


def initial_file(dataset, seed):
    return f"{OUT}/initial/{dataset}/seed{seed}.npy"


def initial_inputs(dataset, seed):
    """The chosen initial labels of (dataset, seed); none for random (drawn in the job)."""
    if INITIAL_SELECTION == "random":
        return {}
    return {"initial": initial_file(dataset, seed)}


def vae_jobs():
    """(dataset, kind, seed or None) of every train_vae job the study needs."""
    jobs = []
    for d in DATASETS:
        seeds = all_seeds()
        wanted = [(latent_kind_of(s), seed) for s in STRATEGIES if reads_latents(s) for seed in seeds]
        if FEATURES_KIND is not None:
            wanted += [(FEATURES_KIND, seed) for seed in seeds]
        if INITIAL_SELECTION != "random":
            wanted += [(INITIAL_SPACE, seed) for seed in seeds]
        if d in TSNE_DATASETS and TSNE_KIND is not None:
            wanted.append((TSNE_KIND, tsne_vae_seed()))
        for kind, seed in wanted:
            job = (d, kind, seed if vae_per_seed(d, kind) else None)
            if job not in jobs:
                jobs.append(job)
    return jobs


def run_records(seeds=None):
    """(dataset, strategy, seed, path) for every run of ``seeds`` (default: every seed of
    the study, all_seeds), for the aggregation."""
    return [
        (d, s, seed, f"{OUT}/runs/{d}/{s}/seed{seed}/metrics.csv")
        for d in DATASETS
        for s in STRATEGIES
        for seed in (all_seeds() if seeds is None else seeds)
    ]


# The tuning stage (task_model.recipe: tuned; rules in tune.smk, library alvae.training.tune).
TUNED = config["task_model"]["recipe"] == "tuned"


def fixed_task_model():
    """The config's task_model without `recipe`: the fixed recipe (trial 0 of a study,
    and every key the AL jobs do not take from the study)."""
    return canonical({k: v for k, v in config["task_model"].items() if k != "recipe"})


def tune_task_model():
    """The fixed recipe as the tuning stage sees it: without the keys its trials do not
    depend on (alvae.training.tune.NOT_IN_ROUND_0), so that changing them does not rerun it."""
    from alvae.training.tune import NOT_IN_ROUND_0

    return canonical({k: v for k, v in config["task_model"].items() if k not in NOT_IN_ROUND_0})


def tune_scope(seed):
    """The study that serves AL seed ``seed``: shared (tune.scope: dataset) or seed<k>."""
    return f"seed{seed}" if config["tune"]["scope"] == "seed" else "shared"


def tune_seed(scope):
    """The AL seed whose initial labels a study searches on: its own (seed<k>), or the
    first of al.seeds (shared)."""
    return int(scope[len("seed"):]) if scope.startswith("seed") else SEEDS[0]


def tune_dir(dataset, scope):
    return f"{OUT}/tune/{dataset}/{scope}"


def recipe_file(dataset, seed):
    """The recipe.yaml the AL jobs of (dataset, seed) train with."""
    return f"{tune_dir(dataset, tune_scope(seed))}/recipe.yaml"


def tune_jobs():
    """(dataset, scope) of every study (none unless task_model.recipe is tuned)."""
    if not TUNED:
        return []
    return [(d, scope) for d in DATASETS for scope in dict.fromkeys(tune_scope(s) for s in SEEDS)]


def tune_settings():
    """The tune keys a study's result depends on (not storage, workers, compare_fixed:
    they decide how it runs, not what it finds)."""
    keep = ("trials", "folds", "metric", "pruner", "prune_after", "prune_startup",
            "startup_trials", "space")
    return canonical({k: config["tune"][k] for k in keep})


def recipe_params(wildcards):
    """What decides the recipe an AL job trains with (its content is the recipe.yaml
    input, and the job's run key holds the merged values)."""
    scope = tune_scope(wildcards.seed)
    return {"scope": scope, "seed": tune_seed(scope), "tune": tune_settings(),
            "initial_labels": config["al"]["initial_labels"]}


def compare_fixed():
    """Also train the fixed recipe on each seed's round 0, for the report."""
    return TUNED and bool(config["tune"]["compare_fixed"])


def fixed_round0_file(dataset, seed):
    return f"{OUT}/tune/{dataset}/fixed/seed{seed}.csv"


def al_inputs(wildcards):
    inputs = {"subset": subset_file(wildcards.dataset, wildcards.seed),
              "evaluation": eval_file(wildcards.dataset),
              **feature_inputs(wildcards.dataset, wildcards.seed),
              **initial_inputs(wildcards.dataset, wildcards.seed)}
    if TUNED:
        inputs["recipe"] = recipe_file(wildcards.dataset, wildcards.seed)
    kind = latent_kind_of(wildcards.strategy)
    if kind is not None:
        inputs["latents"] = latents_file(wildcards.dataset, kind, wildcards.seed)
        if retrain_of(wildcards.strategy) == "per_round":  # round 0 continues from the trained model
            inputs["model"] = vae_file(wildcards.dataset, kind, wildcards.seed, "model.pt")
    return inputs


# vae.retrain: per_round: the AL job retrains the representation after every round;
# a label's +once / +per_round suffix sets it for that label alone (alvae.labels).
def retrain_of(strategy):
    """once or per_round for a label reading a representation, else None."""
    if not uses_vae(strategy):
        return None
    return strategy_labels.retrain_of(strategy, default=config["vae"]["retrain"])


# some run retrains per round: every al_run then writes latents_rounds.npz
PER_ROUND = any(retrain_of(s) == "per_round" for s in STRATEGIES)


def retrain_params(wildcards):
    """What the per-round retraining of a run needs (None: the latents stay fixed)."""
    if retrain_of(wildcards.strategy) != "per_round":
        return None
    kind = vae_kind_of(wildcards.strategy)
    return {"kind": kind, "vae": vae_params(kind), "epochs": config["vae"]["retrain_epochs"]}


def strategy_options(wildcards):
    """A strategy's own config section (vaal, bald, typiclust, probcover), or None. The
    learning-loss section goes to the loop apart (lloss_options): it shapes the training."""
    t = traits(wildcards.strategy)
    return canonical(config[t.options]) if t.options and not t.trains_module else None


def lloss_options(wildcards):
    """The section of a strategy that trains a module jointly with the task model (lloss)."""
    t = traits(wildcards.strategy)
    return canonical(config[t.options]) if t.trains_module else None


def latent_share_runs():
    """Labels of the runs whose rows carry latent_share (distance strategies with latents)."""
    return [s for s in STRATEGIES if uses_vae(s) and not traits(s).trains_module]


def al_settings():
    """The AL settings a run depends on (the seed list, and the rule that extends it, are
    not: a seed's run is the same whether it was listed or planned)."""
    return canonical({k: v for k, v in config["al"].items() if k not in ("seeds", "extra_seeds")})


def tsne_inputs(wildcards):
    inputs = {"subset": subset_file(wildcards.dataset, config["tsne"]["seed"]),
              "evaluation": eval_file(wildcards.dataset)}
    if TSNE_KIND is not None:
        inputs["latents"] = latents_file(wildcards.dataset, TSNE_KIND, tsne_vae_seed())
    return inputs


# Metrics tested per budget and as AULC (results stage).
TEST_METRICS = ["test_acc", "test_auc", "test_ap"]  # AULC computed for these (when recorded)
# Metrics ranked (PPM, CD diagram): stats.metrics, else all three.
RANK_METRICS = list(config["stats"]["metrics"] or TEST_METRICS)
# Rankings drawn: "primary" (each dataset on its primary metric, datasets.csv), then
# each ranked metric as a secondary ranking.
RANKINGS = ["primary"] + RANK_METRICS


def stats_metrics():
    """config stats.metrics (null: by task)."""
    return config["stats"]["metrics"]


def stats_primary():
    """config stats.primary_metric (null: by task, alvae.analysis.stats.primary_metric)."""
    return config["stats"]["primary_metric"]


def stats_margins():
    """config stats.equivalence_margin: δ of the TOST per metric (schema defaults filled)."""
    return canonical(dict(config["stats"]["equivalence_margin"]))


def stats_pairs():
    """config stats.pairs: "auto" = each X vs X_vae, and each strategy vs random."""
    from alvae.analysis.stats import default_pairs

    pairs = config["stats"]["pairs"]
    if pairs == "auto":
        return [list(p) for p in default_pairs(STRATEGIES)]
    return [list(p) for p in pairs if p[0] in STRATEGIES and p[1] in STRATEGIES]


def stats_alpha():
    return config["stats"]["significance"]


def stats_correction():
    """config stats.correction: holm (default) or bh, within each family."""
    return config["stats"]["correction"]


def family_members(family):
    return [s for s in STRATEGIES if family_of(s) == family]


def tsne_pair_strategies():
    """The two strategies side by side: the first plain/<kind> pair, else the first two."""
    for s in TSNE_STRATEGIES:
        if f"{s}_{TSNE_KIND}" in TSNE_STRATEGIES:
            return [s, f"{s}_{TSNE_KIND}"]
    return TSNE_STRATEGIES[:2]


def retrained_runs():
    """Labels whose AL jobs retrain their representation every round."""
    return [s for s in STRATEGIES if retrain_of(s) == "per_round"]


def retrain_tsne_seed():
    """The AL seed whose per-round latents the t-SNE draws: tsne.seed if run, else the first."""
    return config["tsne"]["seed"] if config["tsne"]["seed"] in SEEDS else SEEDS[0]


def retrain_tsne_labels():
    """One retrained label per representation kind (vae and gmvae retrain without labels,
    so their latents are the same under every base strategy; cvae's follow the picks)."""
    first = {}
    for s in retrained_runs():
        first.setdefault(vae_kind_of(s), s)
    return list(first.values())


# The latent-share, alpha-sweep and per-round outputs (rules in diagnostics.smk).
def diagnostics_targets():
    targets = []
    if retrained_runs():
        targets += [f"{OUT}/results/latent_knn_rounds.csv", f"{OUT}/figures/latent_knn_rounds.png"]
        targets += expand(f"{OUT}/figures/tsne_rounds_{{dataset}}.png", dataset=DATASETS)
    if latent_share_runs():
        targets += [f"{OUT}/results/latent_share.csv", f"{OUT}/figures/latent_share.png"]
    if any("@" in s for s in STRATEGIES):
        targets += [f"{OUT}/results/alpha_sweep.csv", f"{OUT}/figures/alpha_sweep.png"]
    return targets


def final_targets():
    targets = [
        f"{OUT}/results/runs.csv",
        f"{OUT}/results/summary.csv",
        f"{OUT}/results/tests.md",
        f"{OUT}/report/summary.rst",
        f"{OUT}/report/settings.rst",
        f"{OUT}/report/classifier.rst",
    ]
    targets += expand(f"{OUT}/figures/{{kind}}_{{metric}}.{{ext}}", kind=["ppm", "cd"],
                      metric=RANKINGS, ext=["png", "pdf"])
    targets += expand(
        f"{OUT}/figures/curves_{{dataset}}_{{family}}.{{ext}}",
        dataset=DATASETS, family=FAMILIES, ext=["png", "pdf"],
    )
    targets += [vae_file(d, k, s, f) for d, k, s in vae_jobs()
                for f in ("reconstructions.png", "tsne.png")]
    if vae_jobs():
        targets.append(f"{OUT}/results/latent_knn.csv")
    targets += expand(f"{OUT}/figures/tsne_{{dataset}}_pair.png", dataset=TSNE_DATASETS)
    # tune.workers > 1: the extra workers of each study (they run beside the tune job)
    targets += [f"{tune_dir(d, s)}/worker{w}.done" for d, s in tune_jobs()
                for w in range(1, config["tune"]["workers"])]
    return targets


# The all-labels ceiling and the labels saved (rules in ceiling.smk and labels_saved.smk).

# the all-labels ceiling (alvae.training.ceiling); ceiling.enabled turns it off
CEILING = config["ceiling"]["enabled"]


def ceiling_file(dataset, seed):
    return f"{OUT}/ceiling/{dataset}/seed{seed}/metrics.csv"


def ceiling_records():
    """(dataset, seed, path) of every ceiling job (none when ceiling.enabled is false)."""
    seeds = all_seeds()[: config["ceiling"]["seeds"]]  # ceiling.seeds: the first N (None: all)
    return [(d, seed, ceiling_file(d, seed)) for d in DATASETS for seed in seeds] if CEILING else []


def ceiling_inputs(wildcards):
    """The pool the ceiling trains on (that seed's with pool_per_seed), the evaluation
    split it is measured on, and with task_model.recipe: tuned the recipe.yaml the AL runs
    of that seed train with."""
    inputs = {"subset": subset_file(wildcards.dataset, wildcards.seed),
              "evaluation": eval_file(wildcards.dataset),
              **feature_inputs(wildcards.dataset, wildcards.seed)}
    if TUNED:
        inputs["recipe"] = recipe_file(wildcards.dataset, wildcards.seed)
    return inputs


def ceiling_curve_inputs():
    """The ceiling table for the learning curves, when the stage is on."""
    return {"ceiling": f"{OUT}/results/ceiling.csv"} if CEILING else {}


# labels saved (alvae.analysis.labels_saved): planned when the study runs random and another strategy
LABELS_SAVED = "random" in STRATEGIES and len(STRATEGIES) > 1


def worth_targets():
    """The labels-saved and ceiling outputs `rule all` asks for."""
    targets = []
    if LABELS_SAVED:
        targets += [f"{OUT}/results/labels_saved.csv", f"{OUT}/figures/labels_saved.png"]
    if CEILING:
        targets.append(f"{OUT}/results/ceiling.csv")
    return targets


def worth_report_inputs():
    """What the report's summary needs for its labels-saved and ceiling sentences."""
    inputs = {}
    if LABELS_SAVED:
        inputs["labels_saved"] = f"{OUT}/results/labels_saved.csv"
    if CEILING:
        inputs.update(ceiling=f"{OUT}/results/ceiling.csv",
                      curves_summary=f"{OUT}/results/summary.csv")
    return inputs
