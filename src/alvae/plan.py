"""The study's plan: which jobs a validated config asks for, where their files lie, what
each job reads, and the params it gets.

``Plan(config)`` reads a config that :func:`alvae.checks.validate_config` has checked and
filled with the schema's defaults; it never reads files and never imports torch. The
workflow (workflow/rules/common.smk) builds one plan and its rules call it, passing the
wildcards as plain strings. Two things the plan cannot know alone are passed in:

* ``seeds``: every AL seed of the study. It is ``plan.seeds`` (al.seeds), or with
  al.extra_seeds the list the checkpoint rule plan_seeds writes (``plan.seed_plan``).
* ``sources``: the identity of each dataset's files, which :meth:`Plan.read_sources`
  computes once (it reads the data files and writes a digest store under out_dir).
"""

from __future__ import annotations

import os
from itertools import product
from typing import Any, Mapping, NamedTuple, Optional, Sequence

from alvae import labels as strategy_labels
from alvae import vocabulary
from alvae.data import sources as data_sources
from alvae.labels import strategy_of

# Metrics tested per budget and as AULC (results stage; AULC computed for these when recorded).
TEST_METRICS = ["test_acc", "test_auc", "test_ap"]

# What the pool and the evaluation splits hold depends on these keys, on the source's own
# keys (alvae.data.sources.source_keys: image_size, a manifest's columns, a hold-out's
# test_size and split_seed) and on the files' content (source_identity), never on the
# fetch keys (alvae.data.sourcefiles.FETCH_KEYS: download, check_md5, url).
DATA_KEYS = ("source", "root", "path", "flag", "size", "subset_size", "subset_seed")

# The representation keys a kind's training depends on (not representation.retrain etc.).
REPRESENTATION_KEYS = ("latent_dim", "epochs", "lr", "weight_decay", "batch_size")

# The tune keys a study's result depends on (not storage, workers, compare_fixed: they
# decide how it runs, not what it finds).
TUNE_KEYS = ("trials", "folds", "metric", "pruner", "prune_after", "prune_startup",
             "startup_trials", "space")

# The al keys the all-labels ceiling depends on: the length and seed of the AL runs' last round.
CEILING_AL_KEYS = ("initial_labels", "labels_per_round", "final_labels")


def canonical(value: Any) -> Any:
    """A params value in one spelling: dict keys sorted at every level, so that
    Snakemake (which compares repr(params)) reruns a job only when a value changes,
    never because keys were reordered or a default was written out."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def expand(pattern: str, **values: Sequence) -> list[str]:
    """``pattern`` formatted with every combination of ``values`` (the first keyword
    varies slowest), as Snakemake's expand()."""
    keys = list(values)
    return [pattern.format(**dict(zip(keys, combo))) for combo in product(*values.values())]


# What each strategy and representation kind needs is declared once, in alvae.vocabulary;
# the functions below only read it.
def traits(strategy: str):
    """The vocabulary's traits of a label's strategy (coreset_vae@0.5+per_round -> coreset's)."""
    return vocabulary.traits(strategy_of(strategy))


def family_of(strategy: str) -> str:
    """coreset_vae, coreset_cvae, coreset_vae@0.5, coreset_cvae+per_round -> coreset;
    random stays random (drawn in every panel)."""
    return vocabulary.base_of(strategy_of(strategy))


def representation_of(strategy: str) -> Optional[str]:
    """The representation kind a strategy appends (``<base>_<kind>``): coreset_vae -> vae;
    a strategy without one (random, entropy) -> None."""
    return vocabulary.kind_of(strategy_of(strategy))


def uses_representation(strategy: str) -> bool:
    """The <base>_<kind> strategies read the latents of a representation (any kind)."""
    return representation_of(strategy) is not None


def labeled_kind(kind: str) -> bool:
    """A kind that learns from labels is trained per AL seed, on its initial labels."""
    return vocabulary.KINDS[kind].uses_labels


def scope_seed(scope: str) -> Optional[int]:
    """The AL seed of a scope: seed3 -> 3; shared -> None."""
    return int(scope[len("seed"):]) if scope.startswith("seed") else None


class Sources(NamedTuple):
    """The identity of each dataset's files (by name), and the folder of the digest store."""

    ids: dict
    folder: str


class Plan:
    """The plan of the study a validated config describes: job lists, stage switches,
    file paths, each rule's inputs (from its wildcards, as strings) and params."""

    def __init__(self, config: Mapping):
        self.config = config
        self.out = config["out_dir"].rstrip("/")
        self.datasets = list(config["datasets"])
        self.strategies = list(config["strategies"])
        self.seeds = list(config["al"]["seeds"])  # al.seeds: the first (or only) stage
        # al.extra_seeds (alvae.analysis.seedplan): the checkpoint rule plan_seeds writes
        # the whole seed list to seed_plan; every aggregation reads it.
        self.extra_seeds = config["al"]["extra_seeds"]
        self.seed_plan = f"{self.out}/results/seed_plan.json"
        self.tsne_datasets = [d for d in config["tsne"]["datasets"] if d in self.datasets]
        self.tsne_strategies = list(config["tsne"]["strategies"])
        self.families = sorted({family_of(s) for s in self.strategies if s != "random"}) or ["random"]
        # the kind whose latents the t-SNE experiment's <base>_<kind> strategies append
        # (the thesis: coreset vs coreset_vae); None when none of its strategies reads one
        self.tsne_kind = next((representation_of(s) for s in self.tsne_strategies if uses_representation(s)), None)
        # a frozen-feature task model (task_model.arch linear or mlp, alvae.training.head):
        # the representation task_model.features is trained once on the pool (train_representation), its
        # features of the evaluation splits are computed apart (encode_eval), both feed every run
        self.features_kind = config["task_model"]["features"]
        # al.initial_selection typiclust or centroids (alvae.al.initial): one initial labeled
        # set per dataset and AL seed (rule initial_labels), read by every strategy of the seed
        self.initial_selection = config["al"]["initial_selection"]
        self.initial_space = config["al"]["initial_space"]
        # the tuning stage (task_model.recipe: tuned; alvae.training.tune)
        self.tuned = config["task_model"]["recipe"] == "tuned"
        # some run retrains per round: every al_run then writes latents_rounds.npz
        self.per_round = any(self.retrain_of(s) == "per_round" for s in self.strategies)
        # the all-labels ceiling (alvae.training.ceiling); ceiling.enabled turns it off
        self.ceiling = config["ceiling"]["enabled"]
        # labels saved (alvae.analysis.labels_saved): when the study runs random and another strategy
        self.labels_saved = "random" in self.strategies and len(self.strategies) > 1
        # metrics ranked (PPM, CD diagram): stats.metrics, else all three; the rankings drawn:
        # "primary" (each dataset on its primary metric), then each ranked metric
        self.rank_metrics = list(config["stats"]["metrics"] or TEST_METRICS)
        self.rankings = ["primary"] + self.rank_metrics

    # --- strategies ---------------------------------------------------------------------

    def latent_kind_of(self, strategy: str) -> Optional[str]:
        """The representation kind whose latents a run reads: a <base>_<kind> strategy's
        kind, or the kind a latent-space strategy's `space` names (vocabulary's latent_space);
        else None."""
        t = traits(strategy)
        if t.latent_space:
            return vocabulary.space_kind(self.config[t.options]["space"])
        return representation_of(strategy)

    def reads_latents(self, strategy: str) -> bool:
        """*_<kind> strategies, and the latent-space strategies working in a kind's latents."""
        return self.latent_kind_of(strategy) is not None

    def retrain_of(self, strategy: str) -> Optional[str]:
        """once or per_round for a label reading a representation (representation.retrain, or the
        label's +once / +per_round suffix), else None."""
        if not uses_representation(strategy):
            return None
        return strategy_labels.retrain_of(strategy, default=self.config["representation"]["retrain"])

    def family_members(self, family: str) -> list[str]:
        """The labels of a family (its panel of learning curves)."""
        return [s for s in self.strategies if family_of(s) == family]

    def latent_share_runs(self) -> list[str]:
        """Labels of the runs whose rows carry latent_share (distance strategies with latents)."""
        return [s for s in self.strategies if uses_representation(s) and not traits(s).trains_loss_module]

    def retrained_runs(self) -> list[str]:
        """Labels whose AL jobs retrain their representation every round."""
        return [s for s in self.strategies if self.retrain_of(s) == "per_round"]

    def alpha_labels(self) -> list[str]:
        """The labels of the alpha sweep: every label reading a representation."""
        return [s for s in self.strategies if uses_representation(s)]

    # --- paths --------------------------------------------------------------------------

    def log_path(self, rule_name: str, *parts: str) -> str:
        return os.path.join(self.out, "logs", rule_name, *parts) + ".log"

    def bench_path(self, rule_name: str, *parts: str) -> str:
        return os.path.join(self.out, "benchmarks", rule_name, *parts) + ".tsv"

    def pool_per_seed(self, dataset: str) -> bool:
        return self.config["datasets"][dataset]["pool_per_seed"]

    def subset_file(self, dataset: str, seed=None) -> str:
        """The pool file of a dataset: one per dataset, or one per AL seed when
        datasets.<name>.pool_per_seed is true (then ``seed`` is required)."""
        if self.pool_per_seed(dataset):
            if seed is None:
                raise ValueError(f"datasets.{dataset}.pool_per_seed: the pool file needs a seed")
            return f"{self.out}/data/{dataset}/seed{seed}/subset.npz"
        return f"{self.out}/data/{dataset}/subset.npz"

    def eval_file(self, dataset: str) -> str:
        """The evaluation splits (test, val) of a dataset: one per dataset."""
        return f"{self.out}/data/{dataset}/eval.npz"

    def representation_per_seed(self, dataset: str, kind: str) -> bool:
        """Whether ``kind`` is trained once per AL seed on ``dataset``: always for the
        kinds that use labels (the seed's initial labeled set), for every kind under
        representation.per_seed, and when the pool itself is drawn per seed."""
        return (labeled_kind(kind) or self.config["representation"]["per_seed"]
                or self.config["datasets"][dataset]["pool_per_seed"])

    def representation_dir(self, dataset: str, kind: str, scope: str) -> str:
        """The folder of a train_representation job (scope: shared or seed<n>)."""
        return f"{self.out}/representation/{dataset}/{kind}/{scope}"

    def representation_file(self, dataset: str, kind: str, seed, name: str) -> str:
        """A file of the train_representation job that serves (dataset, kind, AL seed)."""
        if self.representation_per_seed(dataset, kind):
            if seed is None:
                raise ValueError(f"the {kind} representation of {dataset} is per seed: give a seed")
            return f"{self.representation_dir(dataset, kind, f'seed{seed}')}/{name}"
        return f"{self.representation_dir(dataset, kind, 'shared')}/{name}"

    def latents_file(self, dataset: str, kind: str, seed) -> str:
        """The latents the <base>_<kind> strategies read in AL seed ``seed``'s run."""
        return self.representation_file(dataset, kind, seed, "latents.npy")

    def eval_features_file(self, dataset: str, kind: str, seed) -> str:
        """The features of the test (and val) images under the representation of
        (dataset, kind, AL seed) (rule encode_eval)."""
        return self.representation_file(dataset, kind, seed, "eval_latents.npz")

    def initial_file(self, dataset: str, seed) -> str:
        """The chosen initial labels of (dataset, AL seed) (rule initial_labels)."""
        return f"{self.out}/initial/{dataset}/seed{seed}.npy"

    def run_dir(self, dataset: str, strategy: str, seed) -> str:
        """The folder of an AL run's outputs."""
        return f"{self.out}/runs/{dataset}/{strategy}/seed{seed}"

    def state_dir(self, dataset: str, strategy: str, seed) -> str:
        """Where an AL run checkpoints every round (and resumes from)."""
        return f"{self.out}/state/{dataset}/{strategy}/seed{seed}"

    def tune_scope(self, seed) -> str:
        """The study that serves AL seed ``seed``: shared (tune.scope: dataset) or seed<k>."""
        return f"seed{seed}" if self.config["tune"]["scope"] == "seed" else "shared"

    def tune_seed(self, scope: str) -> int:
        """The AL seed whose initial labels a study searches on: its own (seed<k>), or the
        first of al.seeds (shared)."""
        return int(scope[len("seed"):]) if scope.startswith("seed") else self.seeds[0]

    def tune_dir(self, dataset: str, scope: str) -> str:
        return f"{self.out}/tune/{dataset}/{scope}"

    def recipe_file(self, dataset: str, seed) -> str:
        """The recipe.yaml the AL jobs of (dataset, seed) train with."""
        return f"{self.tune_dir(dataset, self.tune_scope(seed))}/recipe.yaml"

    def fixed_round0_file(self, dataset: str, seed) -> str:
        return f"{self.out}/tune/{dataset}/fixed/seed{seed}.csv"

    def ceiling_file(self, dataset: str, seed) -> str:
        return f"{self.out}/ceiling/{dataset}/seed{seed}/metrics.csv"

    # --- job lists ----------------------------------------------------------------------

    def representation_jobs(self, seeds: Sequence[int]) -> list[tuple]:
        """(dataset, kind, seed or None) of every train_representation job the study needs, given
        every AL seed of the study."""
        jobs = []
        for d in self.datasets:
            wanted = [(self.latent_kind_of(s), seed) for s in self.strategies
                      if self.reads_latents(s) for seed in seeds]
            if self.features_kind is not None:
                wanted += [(self.features_kind, seed) for seed in seeds]
            if self.initial_selection != "random":
                wanted += [(self.initial_space, seed) for seed in seeds]
            if d in self.tsne_datasets and self.tsne_kind is not None:
                wanted.append((self.tsne_kind, self.config["tsne"]["seed"]))
            for kind, seed in wanted:
                job = (d, kind, seed if self.representation_per_seed(d, kind) else None)
                if job not in jobs:
                    jobs.append(job)
        return jobs

    def run_records(self, seeds: Sequence[int]) -> list[tuple]:
        """(dataset, strategy, seed, metrics path) of every AL run of ``seeds``."""
        return [(d, s, seed, f"{self.run_dir(d, s, seed)}/metrics.csv")
                for d in self.datasets for s in self.strategies for seed in seeds]

    def tune_jobs(self) -> list[tuple]:
        """(dataset, scope) of every study (none unless task_model.recipe is tuned)."""
        if not self.tuned:
            return []
        scopes = dict.fromkeys(self.tune_scope(s) for s in self.seeds)
        return [(d, scope) for d in self.datasets for scope in scopes]

    def compare_fixed(self) -> bool:
        """Also train the fixed recipe on each seed's round 0, for the report."""
        return self.tuned and bool(self.config["tune"]["compare_fixed"])

    def fixed_records(self) -> list[list]:
        """[dataset, seed] of every fixed_round0 job (none unless compare_fixed)."""
        return [[d, s] for d in self.datasets for s in self.seeds] if self.compare_fixed() else []

    def ceiling_records(self, seeds: Sequence[int]) -> list[tuple]:
        """(dataset, seed, path) of every ceiling job, given every AL seed of the study
        (none when ceiling.enabled is false; ceiling.seeds: the first N, null: all)."""
        if not self.ceiling:
            return []
        seeds = list(seeds)[: self.config["ceiling"]["seeds"]]
        return [(d, seed, self.ceiling_file(d, seed)) for d in self.datasets for seed in seeds]

    # --- data ---------------------------------------------------------------------------

    def read_sources(self) -> Sources:
        """The identity of each dataset's files' content, read once when the workflow is
        planned (its digest store lives under out_dir). A folder that cannot be written,
        a missing file (with download off) or a failed MD5 check raises a UserError of one
        line naming the file and the key."""
        from alvae.data.sourcefiles import DigestStore
        from alvae.data.sources import source_identity
        from alvae.io import writable_folder

        writable_folder(self.out, "out_dir")
        store = DigestStore(f"{self.out}/data/.sources", key="out_dir")
        ids = {d: source_identity(d, self.config["datasets"][d], store) for d in self.datasets}
        return Sources(ids, store.folder.as_posix())

    def data_params(self, dataset: str, sources: Sources) -> dict:
        """What the pool and evaluation-split jobs get besides their spec: the identity of
        the source files' content, and the folder of the digest store (for the receipt of a
        download). The fetch keys stay out: toggling one reruns nothing."""
        return {"source": sources.ids[dataset], "digests": sources.folder}

    def _data_spec(self, dataset: str, extra: tuple) -> dict:
        spec = self.config["datasets"][dataset]
        keys = dict.fromkeys(DATA_KEYS + extra + data_sources.source_keys(spec))
        return canonical({k: spec.get(k) for k in keys})

    def pool_spec(self, dataset: str) -> dict:
        """The dataset keys the pool depends on."""
        return self._data_spec(dataset, extra=("pool_per_seed",))

    def eval_spec(self, dataset: str) -> dict:
        """The dataset keys the evaluation splits depend on: the test draw continues the
        seed-only pool draw, so subset_size and subset_seed too, but not pool_per_seed."""
        return self._data_spec(dataset, extra=("test_size",))

    def recorded_config(self) -> dict:
        """The settings the report records: canonical, without the keys that only decide
        how the data files are fetched (so that toggling them reruns nothing)."""
        from alvae.data.sourcefiles import content_spec

        rec = canonical(self.config)
        rec["datasets"] = {name: content_spec(spec) for name, spec in rec["datasets"].items()}
        return rec

    # --- representations ----------------------------------------------------------------

    def representation_seed(self, dataset: str, scope: str) -> int:
        """Training seed: the AL seed for a per-seed job, else the pool's subset_seed."""
        if scope.startswith("seed"):
            return scope_seed(scope)
        return self.config["datasets"][dataset]["subset_seed"]

    def representation_params(self, kind: str) -> dict:
        """The representation settings a kind's training depends on (not representation.retrain
        etc.), its own options (representation.<kind>), and the identity of a file the user
        placed (weights)."""
        section = self.config["representation"]
        params = {k: section[k] for k in REPRESENTATION_KEYS}
        if isinstance(section.get(kind), dict):
            params[kind] = dict(section[kind])
        files = vocabulary.kind_files_module(kind)
        if files is not None:  # its content decides the job
            params["files"] = files.files_identity(section.get(kind))
        return params

    def representation_initial_labels(self, kind: str) -> Optional[int]:
        """al.initial_labels for a kind that learns from the seed's labels, else None."""
        return self.config["al"]["initial_labels"] if labeled_kind(kind) else None

    def representation_inputs(self, dataset: str, scope: str) -> dict:
        """The pool a representation trains on (with a per-seed pool, that seed's)."""
        seed = self.representation_seed(dataset, scope) if scope.startswith("seed") else None
        return {"subset": self.subset_file(dataset, seed)}

    def representation_diagnostics_inputs(self, dataset: str, kind: str, scope: str) -> dict:
        """A trained representation and the evaluation split its kNN accuracy is measured on."""
        d = self.representation_dir(dataset, kind, scope)
        return {**self.representation_inputs(dataset, scope), "evaluation": self.eval_file(dataset),
                "model": f"{d}/model.pt", "latents": f"{d}/latents.npy", "losses": f"{d}/losses.csv"}

    def latent_knn_inputs(self, seeds: Sequence[int]) -> list[str]:
        """The diagnostics of every trained representation."""
        return [self.representation_file(d, k, s, "diagnostics.json") for d, k, s in self.representation_jobs(seeds)]

    # --- AL runs ------------------------------------------------------------------------

    def feature_inputs(self, dataset: str, seed) -> dict:
        """The frozen features a head trains and is evaluated on (none for the ResNet)."""
        if self.features_kind is None:
            return {}
        return {"features": self.latents_file(dataset, self.features_kind, seed),
                "eval_features": self.eval_features_file(dataset, self.features_kind, seed)}

    def initial_inputs(self, dataset: str, seed) -> dict:
        """The chosen initial labels of (dataset, seed); none for random (drawn in the job)."""
        if self.initial_selection == "random":
            return {}
        return {"initial": self.initial_file(dataset, seed)}

    def initial_labels_inputs(self, dataset: str, seed) -> dict:
        """What the initial_labels job clusters: the pool, and its latents in al.initial_space."""
        return {"subset": self.subset_file(dataset, seed),
                "latents": self.latents_file(dataset, self.initial_space, seed)}

    def al_inputs(self, dataset: str, strategy: str, seed) -> dict:
        """What an AL run reads: pool, evaluation splits, frozen features, chosen initial
        labels, tuned recipe, and the latents (and for per-round retraining the model) of
        the representation it reads."""
        inputs = {"subset": self.subset_file(dataset, seed),
                  "evaluation": self.eval_file(dataset),
                  **self.feature_inputs(dataset, seed),
                  **self.initial_inputs(dataset, seed)}
        if self.tuned:
            inputs["recipe"] = self.recipe_file(dataset, seed)
        kind = self.latent_kind_of(strategy)
        if kind is not None:
            inputs["latents"] = self.latents_file(dataset, kind, seed)
            if self.retrain_of(strategy) == "per_round":  # round 0 continues from the trained model
                inputs["model"] = self.representation_file(dataset, kind, seed, "model.pt")
        return inputs

    def al_settings(self) -> dict:
        """The AL settings a run depends on (the seed list, and the rule that extends it, are
        not: a seed's run is the same whether it was listed or planned)."""
        return canonical({k: v for k, v in self.config["al"].items()
                          if k not in ("seeds", "extra_seeds")})

    def alpha(self, strategy: str):
        """The latent scale (config alpha) for a label reading a representation, else None."""
        return self.config["alpha"] if uses_representation(strategy) else None

    def retrain_params(self, strategy: str) -> Optional[dict]:
        """What the per-round retraining of a run needs (None: the latents stay fixed)."""
        if self.retrain_of(strategy) != "per_round":
            return None
        kind = representation_of(strategy)
        return {"kind": kind, "representation": self.representation_params(kind),
                "epochs": self.config["representation"]["retrain_epochs"]}

    def strategy_options(self, strategy: str) -> Optional[dict]:
        """A strategy's own config section (vocabulary's ``options``), or None. The
        learning-loss section goes to the loop apart (lloss_options): it shapes the training."""
        t = traits(strategy)
        return canonical(self.config[t.options]) if t.options and not t.trains_loss_module else None

    def lloss_options(self, strategy: str) -> Optional[dict]:
        """The section of a strategy that trains a module jointly with the task model (lloss)."""
        t = traits(strategy)
        return canonical(self.config[t.options]) if t.trains_loss_module else None

    # --- task model and tuning ----------------------------------------------------------

    def fixed_task_model(self) -> dict:
        """The config's task_model without `recipe`: the fixed recipe (trial 0 of a study,
        and every key the AL jobs do not take from the study)."""
        return canonical({k: v for k, v in self.config["task_model"].items() if k != "recipe"})

    def tune_task_model(self) -> dict:
        """The fixed recipe as the tuning stage sees it: without the keys its trials do not
        depend on (alvae.training.tune.NOT_IN_ROUND_0), so that changing them does not rerun it."""
        from alvae.training.tune import NOT_IN_ROUND_0

        return canonical({k: v for k, v in self.config["task_model"].items()
                          if k not in NOT_IN_ROUND_0})

    def tune_settings(self) -> dict:
        """The tune keys a study's result depends on (TUNE_KEYS)."""
        return canonical({k: self.config["tune"][k] for k in TUNE_KEYS})

    def recipe_params(self, seed) -> dict:
        """What decides the recipe an AL job of ``seed`` trains with (its content is the
        recipe.yaml input, and the job's run key holds the merged values)."""
        scope = self.tune_scope(seed)
        return {"scope": scope, "seed": self.tune_seed(scope), "tune": self.tune_settings(),
                "initial_labels": self.config["al"]["initial_labels"]}

    def ceiling_inputs(self, dataset: str, seed) -> dict:
        """The pool the ceiling trains on (that seed's with pool_per_seed), the evaluation
        split it is measured on, frozen features, and with task_model.recipe: tuned the
        recipe.yaml the AL runs of that seed train with."""
        inputs = {"subset": self.subset_file(dataset, seed),
                  "evaluation": self.eval_file(dataset),
                  **self.feature_inputs(dataset, seed)}
        if self.tuned:
            inputs["recipe"] = self.recipe_file(dataset, seed)
        return inputs

    def ceiling_al(self) -> dict:
        """The al settings of the ceiling: the length and seed of the AL runs' last round."""
        return canonical({k: self.config["al"][k] for k in CEILING_AL_KEYS})

    # --- t-SNE --------------------------------------------------------------------------

    def tsne_inputs(self, dataset: str) -> dict:
        """The pool of tsne.seed, the evaluation splits, and the latents its <base>_<kind>
        strategies append (of tsne.seed's representation when per seed)."""
        seed = self.config["tsne"]["seed"]
        inputs = {"subset": self.subset_file(dataset, seed), "evaluation": self.eval_file(dataset)}
        if self.tsne_kind is not None:
            inputs["latents"] = self.latents_file(dataset, self.tsne_kind, seed)
        return inputs

    def tsne_settings(self) -> dict:
        """The tsne keys the t-SNE selection depends on (all but the datasets list)."""
        return canonical({k: v for k, v in self.config["tsne"].items() if k != "datasets"})

    def tsne_pair_strategies(self) -> list[str]:
        """The two strategies side by side: the first plain/<kind> pair, else the first two."""
        for s in self.tsne_strategies:
            if f"{s}_{self.tsne_kind}" in self.tsne_strategies:
                return [s, f"{s}_{self.tsne_kind}"]
        return self.tsne_strategies[:2]

    def retrain_tsne_seed(self) -> int:
        """The AL seed whose per-round latents the t-SNE draws: tsne.seed if run, else the first."""
        seed = self.config["tsne"]["seed"]
        return seed if seed in self.seeds else self.seeds[0]

    def retrain_tsne_labels(self) -> list[str]:
        """One retrained label per representation kind (a kind trained without labels has the
        same latents under every base strategy; one that uses labels follows the picks)."""
        first = {}
        for s in self.retrained_runs():
            first.setdefault(representation_of(s), s)
        return list(first.values())

    def retrain_tsne_inputs(self, dataset: str) -> dict:
        """The pool, and the per-round latents of each label retrain_tsne draws."""
        seed = self.retrain_tsne_seed()
        return {"subset": self.subset_file(dataset, seed),
                "latents": [f"{self.run_dir(dataset, s, seed)}/latents_rounds.npz"
                            for s in self.retrain_tsne_labels()]}

    # --- statistics ---------------------------------------------------------------------

    def stats_metrics(self):
        """stats.metrics (null: by task)."""
        return self.config["stats"]["metrics"]

    def stats_primary(self):
        """stats.primary_metric (null: by task, alvae.analysis.stats.primary_metric)."""
        return self.config["stats"]["primary_metric"]

    def stats_margins(self) -> dict:
        """stats.equivalence_margin: δ of the TOST per metric."""
        return canonical(dict(self.config["stats"]["equivalence_margin"]))

    def stats_pairs(self) -> list[list[str]]:
        """stats.pairs: "auto" = each X vs X_vae, and each strategy vs random; a listed
        pair counts when both its labels are in the study."""
        from alvae.analysis.stats import default_pairs

        pairs = self.config["stats"]["pairs"]
        if pairs == "auto":
            return [list(p) for p in default_pairs(self.strategies)]
        return [list(p) for p in pairs if p[0] in self.strategies and p[1] in self.strategies]

    def stats_alpha(self):
        """stats.significance."""
        return self.config["stats"]["significance"]

    def stats_correction(self) -> str:
        """stats.correction: holm or bh, within each family."""
        return self.config["stats"]["correction"]

    # --- targets ------------------------------------------------------------------------

    def ceiling_curve_inputs(self) -> dict:
        """The ceiling table for the learning curves, when the stage is on."""
        return {"ceiling": f"{self.out}/results/ceiling.csv"} if self.ceiling else {}

    def worth_report_inputs(self) -> dict:
        """What the report's summary needs for its labels-saved and ceiling sentences."""
        inputs = {}
        if self.labels_saved:
            inputs["labels_saved"] = f"{self.out}/results/labels_saved.csv"
        if self.ceiling:
            inputs.update(ceiling=f"{self.out}/results/ceiling.csv",
                          curves_summary=f"{self.out}/results/summary.csv")
        return inputs

    def final_targets(self, seeds: Sequence[int]) -> list[str]:
        """The tables, figures and report pages `rule all` asks for, given every AL seed."""
        out = self.out
        targets = [f"{out}/results/runs.csv", f"{out}/results/summary.csv",
                   f"{out}/results/tests.md", f"{out}/report/summary.rst",
                   f"{out}/report/settings.rst", f"{out}/report/classifier.rst"]
        targets += expand(f"{out}/figures/{{kind}}_{{metric}}.{{ext}}", kind=["ppm", "cd"],
                          metric=self.rankings, ext=["png", "pdf"])
        targets += expand(f"{out}/figures/curves_{{dataset}}_{{family}}.{{ext}}",
                          dataset=self.datasets, family=self.families, ext=["png", "pdf"])
        representation_jobs = self.representation_jobs(seeds)
        targets += [self.representation_file(d, k, s, f) for d, k, s in representation_jobs
                    for f in ("reconstructions.png", "tsne.png")]
        if representation_jobs:
            targets.append(f"{out}/results/latent_knn.csv")
        targets += expand(f"{out}/figures/tsne_{{dataset}}_pair.png", dataset=self.tsne_datasets)
        # tune.workers > 1: the extra workers of each study (they run beside the tune job)
        targets += [f"{self.tune_dir(d, s)}/worker{w}.done" for d, s in self.tune_jobs()
                    for w in range(1, self.config["tune"]["workers"])]
        return targets

    def diagnostics_targets(self) -> list[str]:
        """The latent-share, alpha-sweep and per-round outputs `rule all` asks for."""
        out = self.out
        targets = []
        if self.retrained_runs():
            targets += [f"{out}/results/latent_knn_rounds.csv", f"{out}/figures/latent_knn_rounds.png"]
            targets += expand(f"{out}/figures/tsne_rounds_{{dataset}}.png", dataset=self.datasets)
        if self.latent_share_runs():
            targets += [f"{out}/results/latent_share.csv", f"{out}/figures/latent_share.png"]
        if any("@" in s for s in self.strategies):
            targets += [f"{out}/results/alpha_sweep.csv", f"{out}/figures/alpha_sweep.png"]
        return targets

    def worth_targets(self) -> list[str]:
        """The labels-saved and ceiling outputs `rule all` asks for."""
        targets = []
        if self.labels_saved:
            targets += [f"{self.out}/results/labels_saved.csv", f"{self.out}/figures/labels_saved.png"]
        if self.ceiling:
            targets.append(f"{self.out}/results/ceiling.csv")
        return targets
