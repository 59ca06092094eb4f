"""The AL loop's checks of a config, before any job: the label budget, the t-SNE
experiment (:mod:`alvae.al.tsne_experiment`) and a chosen initial labeled set
(:mod:`alvae.al.initial`)."""

from __future__ import annotations

from .. import vocabulary
from ..labels import strategy_of
from ..training.checks import MIN_TRAIN_POINTS, TRAIN_POINTS_WHY


def config_problems(config: dict) -> list[str]:
    return _budget_problems(config) + _tsne_problems(config) + _initial_problems(config)


def _budget_problems(config: dict) -> list[str]:
    al = config["al"]
    if al["final_labels"] < al["initial_labels"]:
        return [f"al.final_labels ({al['final_labels']}) is smaller than al.initial_labels "
                f"({al['initial_labels']})"]
    return []


def _tsne_problems(config: dict) -> list[str]:
    """The t-SNE experiment's labeled points, candidates and picks against each of its
    datasets."""
    problems = []
    tsne = config["tsne"]
    if tsne["datasets"] and tsne["initial_labels"] < MIN_TRAIN_POINTS:
        problems.append(f"tsne.initial_labels ({tsne['initial_labels']}) must be at least "
                        f"{MIN_TRAIN_POINTS} ({TRAIN_POINTS_WHY})")
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
    return problems


def _initial_problems(config: dict) -> list[str]:
    """al.initial_selection other than random: a representation trained without labels to
    pick in, and none of the stages not yet wired to a chosen initial set (alvae.al.initial)."""
    al = config["al"]
    sel, space = al["initial_selection"], al["initial_space"]
    if sel == "random":
        if space is not None:
            return [f"al.initial_space ({space!r}) is read only by al.initial_selection "
                    f"typiclust or centroids; set it to null, or choose one of them"]
        return []
    problems = []
    if space is None:
        problems.append(f"al.initial_space: al.initial_selection: {sel} clusters the pool in a "
                        f"representation; name its kind")
    if config["task_model"]["recipe"] == "tuned":
        problems.append(f"task_model.recipe: tuned searches on random initial labels; with "
                        f"al.initial_selection: {sel} set recipe: fixed")
    for label in config["strategies"]:
        try:
            kind = vocabulary.kind_of(strategy_of(label))
        except ValueError:
            continue
        if kind is not None and vocabulary.KINDS[kind].uses_labels:
            problems.append(f"strategies: {label} trains its representation on the seed's initial "
                            f"labels, which al.initial_selection: {sel} does not hand it yet; use "
                            f"random, or drop {label}")
    return problems
