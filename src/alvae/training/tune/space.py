"""The search space of the tuning stage: which ``task_model`` keys a study may vary
(``tune.space``), the checks across their values, the Optuna distributions (each
widened to hold the fixed recipe's value, so that the fixed recipe can be trial 0),
and a trial's whole recipe from its parameters."""

from __future__ import annotations

from typing import Any, Mapping

from ...errors import ConfigError
from ...schema import range_defaults

# task_model keys a search may vary (tune.space), and which of them are integers
TUNABLE = ("lr", "momentum", "weight_decay", "batch_size", "epochs_initial", "min_steps",
           "augment", "hflip", "crop_padding", "stem", "lr_schedule")
INT_KEYS = ("batch_size", "epochs_initial", "min_steps", "crop_padding")
METRICS = {"accuracy": "acc", "auc": "auc"}
# task_model keys a trial's cross-validation does not depend on
NOT_IN_ROUND_0 = ("recipe", "epochs_per_round")


def primary_metric(task: str, metric: str = "auto") -> str:
    """``accuracy`` for single-label tasks, ``auc`` for multi-label ones, unless set."""
    if metric in METRICS:
        return metric
    if metric != "auto":
        raise ConfigError(f"tune.metric must be auto, accuracy or auc, got {metric!r}")
    return "auc" if task == "multi-label" else "accuracy"


def space_problems(space: Mapping[str, Any], fixed: Mapping[str, Any]) -> list[str]:
    """What is wrong with a ``tune.space`` (one line per key); the schema has checked
    the shapes, these are the checks across values."""
    problems = []
    for key, spec in space.items():
        where = f"tune.space.{key}"
        if key not in TUNABLE:
            problems.append(f"{where}: not a tunable task_model key ({', '.join(TUNABLE)})")
            continue
        if spec is None:
            continue
        if isinstance(spec, list):
            if len(spec) == 0:
                problems.append(f"{where}: an empty list of choices (null turns the key off)")
            continue
        spec = {**range_defaults(), **spec}  # a range checked by the schema, or partial in library use
        low, high, log = spec["low"], spec["high"], spec["log"]
        if key in INT_KEYS and not all(isinstance(v, int) and not isinstance(v, bool)
                                       for v in (low, high)):
            problems.append(f"{where}: {key} is an integer; low and high must be integers")
        if low > high:
            problems.append(f"{where}: low ({low}) is above high ({high})")
        if log and low <= 0:
            problems.append(f"{where}: a log range needs low > 0 (got {low})")
        value = fixed.get(key)
        if log and value is not None and value <= 0:
            problems.append(f"{where}: the fixed recipe's task_model.{key} = {value} cannot lie "
                            f"in a log range (trial 0 is the fixed recipe); give a list of "
                            f"choices or log: false")
    return problems


def distributions(space: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict:
    """Optuna distributions of the searched keys, each holding the fixed recipe's value:
    a range is widened to it, a list of choices gets it appended."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    problems = space_problems(space, fixed)
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
    dists = {}
    for key in sorted(space):
        spec = space[key]
        if spec is None:
            continue
        value = fixed[key]
        if isinstance(spec, list):
            choices = list(spec) + ([value] if value not in spec else [])
            dists[key] = CategoricalDistribution(choices)
            continue
        low, high = min(spec["low"], value), max(spec["high"], value)
        log = bool({**range_defaults(), **spec}["log"])
        if key in INT_KEYS:
            dists[key] = IntDistribution(int(low), int(high), log=log)
        else:
            dists[key] = FloatDistribution(float(low), float(high), log=log)
    return dists


def fixed_params(dists: Mapping[str, Any], fixed: Mapping[str, Any]) -> dict:
    """The fixed recipe's values of the searched keys (trial 0)."""
    return {k: fixed[k] for k in dists}


def trial_recipe(fixed: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
    """A trial's whole task_model: the fixed recipe with the trial's values."""
    tm = dict(fixed)
    for k, v in params.items():
        tm[k] = int(v) if k in INT_KEYS else v
    return tm

