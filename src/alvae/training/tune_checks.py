"""The recipe tuning's checks of a config, before any job: ``tune.space`` against the
task_model keys it searches (:func:`alvae.training.tune.space_problems` and the schema of
each key), and ``tune``'s numbers against the labeled set."""

from __future__ import annotations

import math

from ..validation import _schema, _validator_with_defaults
from .checks import MIN_TRAIN_POINTS, TRAIN_POINTS_WHY
from .recipe import validation_size
from .tune import space_problems


def config_problems(config: dict) -> list[str]:
    return _fold_size_problems(config) + _space_problems(config)


def _fold_size_problems(config: dict) -> list[str]:
    """The smallest training part of a tuning fold, after the validation hold-out."""
    tm = config["task_model"]
    n0 = config["al"]["initial_labels"]
    held = "task_model.val_fraction" if tm["val_fraction"] else ""
    kept = n0 - validation_size(n0, tm["val_fraction"])
    folds = config["tune"]["folds"]
    if tm["recipe"] == "tuned" and kept >= MIN_TRAIN_POINTS and 2 * folds <= n0:
        fold_train = n0 - math.ceil(n0 / folds)  # the smallest training part of a fold
        fold_kept = fold_train - validation_size(fold_train, tm["val_fraction"])
        if fold_kept < MIN_TRAIN_POINTS:
            return [f"tune.folds ({folds}) leaves {fold_kept} of al.initial_labels ({n0}) to "
                    f"train on in a fold{' after ' + held if held else ''}; a fold needs at "
                    f"least {MIN_TRAIN_POINTS} ({TRAIN_POINTS_WHY}); raise al.initial_labels"
                    f"{' or lower tune.folds' if folds > 2 else ''}"]
    return []


def _space_problems(config: dict) -> list[str]:
    """tune.space values against the task_model key they stand for (each choice and
    bound must be a value that key accepts), ranges and the fixed recipe's values
    (alvae.training.tune.space_problems), and tune's numbers against the labeled set."""
    tune, tm = config["tune"], config["task_model"]
    space = tune["space"]
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
    if tm["recipe"] == "tuned":
        if not any(spec is not None for spec in space.values()):
            problems.append("tune.space: every key is null, so there is nothing to tune; "
                            "search at least one key or set task_model.recipe: fixed")
        folds = tune["folds"]
        if 2 * folds > config["al"]["initial_labels"]:
            problems.append(f"tune.folds ({folds}) needs at least {2 * folds} initial labels "
                            f"(al.initial_labels is {config['al']['initial_labels']})")
    if tune["workers"] > 1 and tune["storage"] != "journal":
        problems.append(f"tune.workers ({tune['workers']}) > 1 needs tune.storage: journal "
                        f"(several processes writing one SQLite file is unsafe on a cluster's "
                        f"file system)")
    return problems
