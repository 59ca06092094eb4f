"""The task model's checks of a config, before any job: enough labeled points for round 0
after the validation hold-out, and a frozen-feature task model (task_model.arch linear or
mlp) against what needs the ResNet (:mod:`alvae.training.head_rules`)."""

from __future__ import annotations

from .. import vocabulary
from ..labels import strategy_of
from .head_rules import head_problems, is_head
from .recipe import validation_size

# Labeled points a task model trains on, at least (docs/reliability.md, "Minimum sizes"):
# ResNet's last stages see 1x1 maps, which batch normalisation normalises over the batch
# alone; over two points every value becomes -1 or +1 and the gradient into the layers
# before explodes (round 0 of a 2-label run then evaluates to NaN; 3 labels train).
MIN_TRAIN_POINTS = 3
TRAIN_POINTS_WHY = ("batch normalisation over two points sets each channel of ResNet's 1x1 "
                    "maps to ±1, and the model's outputs overflow to NaN")


def config_problems(config: dict) -> list[str]:
    return _round0_problems(config) + _head_problems(config)


def _round0_problems(config: dict) -> list[str]:
    """Round 0 trains on al.initial_labels less the validation hold-out."""
    al, tm = config["al"], config["task_model"]
    n0 = al["initial_labels"]
    held = "task_model.val_fraction" if tm["val_fraction"] else ""
    kept = n0 - validation_size(n0, tm["val_fraction"])
    if kept < MIN_TRAIN_POINTS and held:
        return [f"al.initial_labels ({n0}) leaves {kept} labeled point(s) to train on after "
                f"{held} ({tm['val_fraction']}); round 0 needs at least {MIN_TRAIN_POINTS} "
                f"({TRAIN_POINTS_WHY}); raise al.initial_labels"]
    if kept < MIN_TRAIN_POINTS:
        return [f"al.initial_labels ({n0}) must be at least {MIN_TRAIN_POINTS}: round 0 "
                f"trains on them, and {TRAIN_POINTS_WHY}"]
    return []


def _head_problems(config: dict) -> list[str]:
    """A frozen-feature task model against its kind, strategies that train a module on the
    residual blocks, image augmentation, the recipe tuning and the t-SNE experiment."""
    tm = config["task_model"]
    problems = head_problems(tm, config["strategies"],
                             lambda label: vocabulary.traits(strategy_of(label)))
    if is_head(tm) and config["tsne"]["datasets"]:
        problems.append(f"tsne.datasets: the t-SNE experiment trains the ResNet on images; with "
                        f"task_model.arch: {tm['arch']} set tsne.datasets: []")
    return problems
