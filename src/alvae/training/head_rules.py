"""What a frozen-feature task model (:mod:`alvae.training.head`) accepts, torch-free so
that the config check can import it while the workflow is planned."""

from __future__ import annotations

from typing import Mapping

from ..schema import with_defaults

HEAD_ARCHS = ("linear", "mlp")


def is_head(task_model: Mapping) -> bool:
    """Whether ``task_model`` (validated, or partial in library use) is a frozen-feature head."""
    return with_defaults("task_model", task_model)["arch"] in HEAD_ARCHS


def head_problems(task_model: Mapping, strategies, traits_of) -> list[str]:
    """Why a config cannot run a frozen-feature head (one line per problem, each naming
    the key): ``traits_of(label)`` gives a strategy label's
    :class:`alvae.vocabulary.StrategyTraits`."""
    task_model = with_defaults("task_model", task_model)
    arch, kind = task_model["arch"], task_model["features"]
    if arch not in HEAD_ARCHS:
        if kind is not None:
            return [f"task_model.features ({kind!r}) is read only by a frozen-feature head: set "
                    f"task_model.arch: linear or mlp, or task_model.features: null"]
        return []
    problems = []
    if kind is None:
        from .. import vocabulary

        problems.append(f"task_model.features: task_model.arch: {arch} trains on a "
                        f"representation's frozen features; name its kind "
                        f"({', '.join(vocabulary.KINDS)})")
    for label in strategies:
        try:
            t = traits_of(label)
        except ValueError:
            continue
        if t.trains_loss_module:
            problems.append(f"strategies: {label} trains a module on the task model's residual "
                            f"blocks, and task_model.arch: {arch} has none; drop it or use "
                            f"task_model.arch: resnet18")
    if task_model["augment"]:
        problems.append(f"task_model.augment: crops and flips images, and task_model.arch: {arch} "
                        f"trains on frozen features; set augment: false")
    if task_model["recipe"] == "tuned":
        problems.append(f"task_model.recipe: tuned tunes the ResNet's recipe on images; with "
                        f"task_model.arch: {arch} set recipe: fixed")
    return problems
