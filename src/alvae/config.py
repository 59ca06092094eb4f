"""Configuration: schema validation with defaults, cross-field checks, hashing.

The workflow validates ``config`` with the same schema (Snakemake's ``validate``)
and then calls :func:`check_config`; library users call :func:`load_config`.
Every failure raises :class:`ConfigError` naming the key to fix.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError
from .schema import SCHEMA_PATH  # noqa: F401  (the file, for users of alvae.config)
from .validation import (  # noqa: F401
    _allowed,
    _coerce_numbers,
    _schema,
    _schema_problems,
    _validator_with_defaults,
    checked_section,
)

# Size of the official training split of each named source (None: only known once loaded).
TRAIN_SPLIT_SIZES = {
    "digits": 1500,
    "mnist": 60000,
    "fashion_mnist": 60000,
    "cifar10": 50000,
    "cifar100": 50000,
    "svhn": 73257,  # train_32x32.mat (the `extra` split is not read)
}
# folder and csv sources: counted by alvae.data.imagesources.spec_problems, which names the folder.
# MedMNIST flags at 28 px: training-split sizes from medmnist's INFO are read at run time;
# ChestMNIST is listed so that the thesis config is checked before anything downloads.
MEDMNIST_TRAIN_SIZES = {"chestmnist": 78468}


RENAMED = {("stats", "alpha"): "stats.significance (the level of the tests; `alpha` is the "
                                "scale of the latents)",
           ("vae", "cvae", "alpha"): "vae.cvae.class_weight (M2's classification weight)",
           ("task_model", "min_train_acc"): "task_model.train_until: {train_acc: ..., max_epochs: "
                                            "...} (the stopping rule of every round)",
           ("task_model", "max_extra_epochs"): "task_model.train_until.max_epochs (the most "
                                               "epochs a round trains in all)",
           ("task_model", "amp"): "task_model.precision: auto, fp32 or bf16 (amp: true was auto, "
                                  "amp: false is fp32)"}


def _renamed_problems(config: dict) -> list[str]:
    problems = []
    for path, now in RENAMED.items():
        node = config
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            problems.append(f"  {'.'.join(path)}: renamed; write {now}")
    return problems


def validate_config(config: dict) -> dict:
    """Validate ``config`` in place against the schema, fill defaults, check it."""
    renamed = _renamed_problems(config)
    if renamed:
        raise ConfigError("invalid configuration:\n" + "\n".join(renamed))
    lines = _schema_problems(_schema(), config)
    if lines:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {line}" for line in lines))
    _coerce_numbers(config, _schema())
    check_config(config)
    return config


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (plain YAML keeps
    the last one silently, so a second ``al:`` block would replace the first)."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1}); keep one",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_yaml(path: str | Path) -> dict:
    """Parse a YAML config file; a syntax error or a duplicate key names the file, line
    and column."""
    try:
        with open(path) as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        kind = "YAML error" if reason.startswith("duplicate key") else "YAML syntax error"
        raise ConfigError(f"{where}: {kind}: {reason}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds keys at the top level, not a {type(data).__name__}")
    return data


def config_or_exit(config: dict | None = None, path: str | Path | None = None) -> dict:
    """For the Snakefile: validate ``config`` in place (or only parse the file ``path``),
    or print the short reason and exit (status 1) before Snakemake plans any job."""
    try:
        return validate_config(config) if path is None else read_yaml(path)
    except ConfigError as exc:
        import sys

        print(f"ERROR: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def load_config(path: str | Path, overrides: Mapping[str, Any] | None = None) -> dict:
    """Read a YAML config, apply top-level ``overrides``, validate and fill defaults."""
    config = read_yaml(path)
    config.update(overrides or {})
    return validate_config(config)


def known_train_size(ds: Mapping[str, Any]) -> int | None:
    """Training-split size of a dataset entry when it is known without loading it."""
    if ds["source"] == "medmnist":
        flag = ds.get("flag")  # MedMNIST+ keeps the 28-px splits at every size
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[flag]["n_samples"]["train"])
        except Exception:
            return MEDMNIST_TRAIN_SIZES.get(flag)
    return TRAIN_SPLIT_SIZES.get(ds["source"])


def check_config(config: dict) -> None:
    """Cross-field checks the schema cannot express. Raises :class:`ConfigError`."""
    from .data.imagesources import image_side, spec_problems  # noqa: PLC0415

    al = config["al"]
    problems = _path_problems(config)
    if al["final_labels"] < al["initial_labels"]:
        problems.append(
            f"al.final_labels ({al['final_labels']}) is smaller than al.initial_labels "
            f"({al['initial_labels']})"
        )
    for name, ds in config["datasets"].items():
        key = f"datasets.{name}"
        if ds["source"] == "medmnist" and not ds.get("flag"):
            problems.append(f"{key}.flag: a MedMNIST flag such as 'chestmnist' is required")
        if ds["source"] == "npz" and not ds.get("path"):
            problems.append(f"{key}.path: the .npz file is required for source npz")
        side, input_size = image_side(ds), config["task_model"].get("input_size")
        if side and input_size and input_size < side:
            problems.append(
                f"task_model.input_size ({input_size}) is smaller than the {side}-px images of "
                f"{key}: the task model would see them shrunk to {input_size} px; set "
                f"task_model.input_size: null (or {side})")
        source_problems = spec_problems(key, ds)  # folders, manifests, MedMNIST+ sizes
        problems += source_problems
        n_train = None if source_problems else known_train_size(ds)
        if n_train is not None and ds["subset_size"] > n_train:
            problems.append(
                f"{key}.subset_size ({ds['subset_size']}) is larger than the training split "
                f"of {ds['source']}{'/' + ds['flag'] if ds.get('flag') else ''} ({n_train})"
            )
        if al["initial_labels"] >= ds["subset_size"]:
            problems.append(
                f"al.initial_labels ({al['initial_labels']}) must be smaller than "
                f"{key}.subset_size ({ds['subset_size']})"
            )
        if al["final_labels"] > ds["subset_size"]:
            problems.append(
                f"al.final_labels ({al['final_labels']}) is larger than {key}.subset_size "
                f"({ds['subset_size']})"
            )
    problems += _minimum_problems(config)
    tsne = config["tsne"]
    for name in tsne["datasets"]:
        if name not in config["datasets"]:
            problems.append(f"tsne.datasets: {name!r} is not a configured dataset")
            continue
        size = config["datasets"][name]["subset_size"]
        if tsne["initial_labels"] + tsne["candidates"] > size:
            problems.append(
                f"tsne.initial_labels + tsne.candidates ({tsne['initial_labels']} + "
                f"{tsne['candidates']}) exceed datasets.{name}.subset_size ({size})"
            )
    if tsne["pick"] > tsne["candidates"]:
        problems.append(f"tsne.pick ({tsne['pick']}) exceeds tsne.candidates ({tsne['candidates']})")
    st = config["stats"]
    if st.get("primary_metric") and st.get("metrics") and st["primary_metric"] not in st["metrics"]:
        problems.append(f"stats.primary_metric: {st['primary_metric']!r} is not in stats.metrics "
                        f"{st['metrics']} (the primary metric must be tested)")
    problems += _tune_problems(config)
    problems += _head_problems(config)
    problems += _kind_file_problems(config)
    problems += _initial_problems(config)
    problems += _extra_seed_problems(config)
    pairs = config["stats"]["pairs"]
    if pairs != "auto":
        for a, b in pairs:
            for s in (a, b):
                if s not in config["strategies"]:
                    problems.append(f"stats.pairs: {s!r} is not in strategies")
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))


# Test-split sizes known without loading (digits: the fixed split of alvae.data.loaders).
TEST_SPLIT_SIZES = {"digits": 297, "mnist": 10000, "fashion_mnist": 10000}
# Labeled points a task model trains on, at least (docs/reliability.md, "Minimum sizes"):
# ResNet's last stages see 1x1 maps, which batch normalisation normalises over the batch
# alone; over two points every value becomes -1 or +1 and the gradient into the layers
# before explodes (round 0 of a 2-label run then evaluates to NaN; 3 labels train).
MIN_TRAIN_POINTS = 3
TRAIN_POINTS_WHY = ("batch normalisation over two points sets each channel of ResNet's 1x1 "
                    "maps to ±1, and the model's outputs overflow to NaN")


def known_test_size(ds: Mapping[str, Any]) -> int | None:
    """Test-split size of a dataset entry when it is known without loading it."""
    if ds["source"] == "medmnist":
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[ds.get("flag")]["n_samples"]["test"])
        except Exception:
            return None
    return TEST_SPLIT_SIZES.get(ds["source"])


def _minimum_problems(config: dict) -> list[str]:
    """Sizes below which a job would crash or quietly do something else: the labeled
    points a task model trains on (round 0 after the validation hold-out, a tuning fold,
    the t-SNE experiment), mixture components and TypiClust's cluster
    floor against the pool, a test subset larger than the test split, and two labels
    that name the same run."""
    from .labels import parse_label
    from .training.recipe import validation_size

    problems = []
    al, tm = config["al"], config["task_model"]
    n0 = al["initial_labels"]
    held = "task_model.val_fraction" if tm.get("val_fraction") else ""
    kept = n0 - validation_size(n0, tm.get("val_fraction", 0.0))
    if kept < MIN_TRAIN_POINTS and held:
        problems.append(
            f"al.initial_labels ({n0}) leaves {kept} labeled point(s) to train on after "
            f"{held} ({tm['val_fraction']}); round 0 needs at least {MIN_TRAIN_POINTS} "
            f"({TRAIN_POINTS_WHY}); raise al.initial_labels")
    elif kept < MIN_TRAIN_POINTS:
        problems.append(f"al.initial_labels ({n0}) must be at least {MIN_TRAIN_POINTS}: round 0 "
                        f"trains on them, and {TRAIN_POINTS_WHY}")
    folds = (config.get("tune") or {}).get("folds", 3)
    if tm.get("recipe") == "tuned" and kept >= MIN_TRAIN_POINTS and 2 * folds <= n0:
        fold_train = n0 - math.ceil(n0 / folds)  # the smallest training part of a fold
        fold_kept = fold_train - validation_size(fold_train, tm.get("val_fraction", 0.0))
        if fold_kept < MIN_TRAIN_POINTS:
            problems.append(
                f"tune.folds ({folds}) leaves {fold_kept} of al.initial_labels ({n0}) to train "
                f"on in a fold{' after ' + held if held else ''}; a fold needs at least "
                f"{MIN_TRAIN_POINTS} ({TRAIN_POINTS_WHY}); raise al.initial_labels"
                f"{' or lower tune.folds' if folds > 2 else ''}")
    tsne = config.get("tsne", {})
    if tsne.get("datasets") and tsne.get("initial_labels", MIN_TRAIN_POINTS) < MIN_TRAIN_POINTS:
        problems.append(f"tsne.initial_labels ({tsne['initial_labels']}) must be at least "
                        f"{MIN_TRAIN_POINTS} ({TRAIN_POINTS_WHY})")
    strategies = config.get("strategies", [])
    components = config.get("vae", {}).get("gmvae", {}).get("components")
    min_cluster = config.get("typiclust", {}).get("min_cluster_size")
    for name, ds in config["datasets"].items():
        size = ds["subset_size"]
        if components is not None and components >= size:
            problems.append(f"vae.gmvae.components ({components}) must be smaller than "
                            f"datasets.{name}.subset_size ({size}): each component needs points")
        if "typiclust" in strategies and min_cluster is not None and min_cluster >= size:
            problems.append(
                f"typiclust.min_cluster_size ({min_cluster}) must be smaller than "
                f"datasets.{name}.subset_size ({size}): clusters of min_cluster_size points or "
                f"fewer are dropped, so every cluster would be")
        n_test = known_test_size(ds)
        if ds.get("test_size") is not None and n_test is not None and ds["test_size"] > n_test:
            problems.append(f"datasets.{name}.test_size ({ds['test_size']}) is larger than the "
                            f"test split of {ds['source']} ({n_test}); use null for all of it")
    for name in ("typiclust", "probcover"):
        space = config.get(name, {}).get("space", "latents")
        if space not in ("latents", "features"):
            from .vocabulary import KINDS

            if space not in KINDS:
                problems.append(f"{name}.space: {space!r} is not latents, features or a "
                                f"representation kind ({', '.join(KINDS)})")
    default_retrain = config.get("vae", {}).get("retrain", "once")
    seen = {}
    for label in strategies:
        try:
            lab = parse_label(label)
        except ValueError:
            continue  # the schema names it
        # (a schedule suffix is allowed only where a representation is read, so the default
        # schedule stands in for an absent suffix everywhere)
        key = (lab.name, lab.scale, lab.retrain or default_retrain)
        if key in seen:
            problems.append(f"strategies: {seen[key]!r} and {label!r} are the same run "
                            f"(same strategy, α scale and schedule); keep one")
        else:
            seen[key] = label
    return problems


def _tune_problems(config: dict) -> list[str]:
    """tune.space values against the task_model key they stand for (each choice and
    bound must be a value that key accepts), ranges and the fixed recipe's values
    (alvae.training.tune.space_problems), and tune's numbers against the labeled set."""

    from .training.tune import space_problems

    tune, tm = config.get("tune") or {}, config["task_model"]
    space = tune.get("space") or {}
    problems = space_problems(space, tm)
    tm_schema = _schema()["properties"]["task_model"]["properties"]
    for key, spec in space.items():
        if spec is None or key not in tm_schema:
            continue
        values = spec if isinstance(spec, list) else [spec["low"], spec["high"]]
        sub = {k: v for k, v in tm_schema[key].items() if k not in ("default", "description")}
        if not isinstance(spec, list) and "enum" in sub:
            problems.append(f"tune.space.{key}: {key} takes one of {sub['enum']}; give a list "
                            f"of choices, not a range")
            continue
        checker = _validator_with_defaults()(sub)
        for value in values:
            for err in checker.iter_errors(value):
                problems.append(f"tune.space.{key}: {value!r} is not a valid task_model.{key} "
                                f"({err.message})")
    if tm.get("recipe") == "tuned":
        if not any(spec is not None for spec in space.values()):
            problems.append("tune.space: every key is null, so there is nothing to tune; "
                            "search at least one key or set task_model.recipe: fixed")
        folds = tune.get("folds", 3)
        if 2 * folds > config["al"]["initial_labels"]:
            problems.append(f"tune.folds ({folds}) needs at least {2 * folds} initial labels "
                            f"(al.initial_labels is {config['al']['initial_labels']})")
    if tune.get("workers", 1) > 1 and tune.get("storage", "sqlite") != "journal":
        problems.append(f"tune.workers ({tune['workers']}) > 1 needs tune.storage: journal "
                        f"(several processes writing one SQLite file is unsafe on a cluster's "
                        f"file system)")
    return problems


def _head_problems(config: dict) -> list[str]:
    """A frozen-feature task model (task_model.arch linear or mlp) against what needs the
    ResNet: its kind, strategies that train a module on the residual blocks, image
    augmentation, the recipe tuning and the t-SNE experiment (alvae.training.head)."""
    from . import vocabulary
    from .labels import strategy_of
    from .training.head_rules import head_problems, is_head

    tm = config["task_model"]
    problems = head_problems(tm, config.get("strategies", []),
                             lambda label: vocabulary.traits(strategy_of(label)))
    if is_head(tm) and config.get("tsne", {}).get("datasets"):
        problems.append(f"tsne.datasets: the t-SNE experiment trains the ResNet on images; with "
                        f"task_model.arch: {tm['arch']} set tsne.datasets: []")
    return problems


def _extra_seed_problems(config: dict) -> list[str]:
    """al.extra_seeds: enough stage-1 seeds for a standard deviation, a cap above them, and
    none of the stages not wired to planned seeds (alvae.analysis.seedplan)."""
    al = config["al"]
    rule = al.get("extra_seeds")
    if rule is None:
        return []
    from .schema import with_defaults

    rule = with_defaults("al", rule, sub="extra_seeds")
    k = len(al["seeds"])
    problems = []
    if k < 3:
        problems.append(f"al.seeds: al.extra_seeds plans from the spread of the first seeds; "
                        f"give at least 3 (got {k})")
    if rule["max_seeds"] < k:
        problems.append(f"al.extra_seeds.max_seeds ({rule['max_seeds']}) is below the {k} seeds "
                        f"of al.seeds")
    if rule["min_seeds"] is not None and rule["min_seeds"] > rule["max_seeds"]:
        problems.append(f"al.extra_seeds.min_seeds ({rule['min_seeds']}) exceeds max_seeds "
                        f"({rule['max_seeds']})")
    if config["task_model"].get("recipe") == "tuned":
        problems.append("task_model.recipe: tuned is not planned for extra seeds yet; with "
                        "al.extra_seeds set recipe: fixed")
    if config.get("tsne", {}).get("datasets") and config["tsne"].get("seed") not in al["seeds"]:
        problems.append("tsne.seed: with al.extra_seeds it must be one of al.seeds (stage 1)")
    return problems


def _initial_problems(config: dict) -> list[str]:
    """al.initial_selection other than random: a representation trained without labels to
    pick in, and none of the stages not yet wired to a chosen initial set (alvae.al.initial)."""
    from . import vocabulary
    from .labels import strategy_of

    al = config["al"]
    sel, space = al.get("initial_selection", "random"), al.get("initial_space")
    if sel == "random":
        if space is not None:
            return [f"al.initial_space ({space!r}) is read only by al.initial_selection "
                    f"typiclust or centroids; set it to null, or choose one of them"]
        return []
    problems = []
    if space is None:
        problems.append(f"al.initial_space: al.initial_selection: {sel} clusters the pool in a "
                        f"representation; name its kind")
    if config["task_model"].get("recipe") == "tuned":
        problems.append(f"task_model.recipe: tuned searches on random initial labels; with "
                        f"al.initial_selection: {sel} set recipe: fixed")
    for label in config.get("strategies", []):
        try:
            kind = vocabulary.kind_of(strategy_of(label))
        except ValueError:
            continue
        if kind is not None and vocabulary.KINDS[kind].uses_labels:
            problems.append(f"strategies: {label} trains its representation on the seed's initial "
                            f"labels, which al.initial_selection: {sel} does not hand it yet; use "
                            f"random, or drop {label}")
    return problems


def kinds_in_use(config: dict) -> list[str]:
    """The representation kinds a study trains: those its strategies append, the spaces of
    its latent-space strategies, the frozen features of its task model, the space of its
    initial selection."""
    from . import vocabulary
    from .labels import strategy_of

    kinds = []
    for label in config.get("strategies", []):
        try:
            name = strategy_of(label)
            t = vocabulary.traits(name)
        except ValueError:
            continue
        kinds.append(vocabulary.kind_of(name))
        if t.latent_space:
            kinds.append(vocabulary.space_kind(config.get(t.options, {}).get("space", "latents")))
    kinds.append(config.get("task_model", {}).get("features"))
    sel = config.get("al", {}).get("initial_selection", "random")
    if sel != "random":
        kinds.append(config["al"].get("initial_space"))
    return [k for k in dict.fromkeys(kinds) if k in vocabulary.KINDS]


def _kind_file_problems(config: dict) -> list[str]:
    """A kind that reads a file the user places (pretrained weights): present, with the
    digest given, before any job (the kind's own ``option_problems``)."""
    from . import vocabulary

    problems = []
    for kind in kinds_in_use(config):
        mod = vocabulary.kind_files_module(kind)
        if mod is not None:
            problems += mod.option_problems((config.get("vae") or {}).get(kind))
    return problems


DATASET_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def _path_problems(config: dict) -> list[str]:
    """Every output lies under ``out_dir``: no empty or root ``out_dir``, no dataset name
    that could climb out of it, and ``out_dir`` must be (or become) a folder."""
    problems = []
    out = config.get("out_dir")
    if not isinstance(out, str) or not out.strip():
        problems.append("out_dir: must be a non-empty folder path (got an empty value)")
    elif out.strip().rstrip("/") == "" or os.path.realpath(out) == "/":
        problems.append(f"out_dir: {out!r} is the filesystem root; name a folder for the results")
    else:
        for parent in [Path(out), *Path(out).parents]:
            if parent.exists():
                if not parent.is_dir():
                    problems.append(f"out_dir: {parent} exists and is not a folder; "
                                    f"move it away or choose another out_dir")
                break
    for name in config.get("datasets", {}):
        if not DATASET_NAME.match(str(name)):
            problems.append(f"datasets.{name}: a dataset name may hold only letters, digits, "
                            f"'_' and '-' (it becomes a folder name)")
    return problems


if __name__ == "__main__":  # python -m alvae.config FILE: check a config file, short messages
    import sys

    for _arg in sys.argv[1:]:
        config_or_exit(config_or_exit(path=_arg))
        print(f"{_arg}: valid")
