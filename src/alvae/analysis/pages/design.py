"""The report's "Study design" section: what every run of the study shares and what a
reader must know before reading a verdict: the task model (the ResNet-18, or a head on
a representation's frozen features), how each seed's initial labels were chosen, and
how many seeds ran and why (a fixed number, or the two-stage rule of
``al.extra_seeds``, stated with the rule fixed before any seed was seen)."""

from __future__ import annotations

from typing import Mapping, Optional

from ... import vocabulary

INITIAL_WORDS = {
    "random": "drawn uniformly at random from the pool",
    "typiclust": ("chosen without labels by TypiClust's cold start: the most typical point of "
                  "each of {n} k-means clusters"),
    "centroids": ("chosen without labels: the pool point nearest each of {n} k-means "
                  "centroids"),
}


def _kind_title(kind: Optional[str]) -> str:
    return vocabulary.KINDS[kind].title if kind in vocabulary.KINDS else str(kind)


def task_model_sentence(task_model: Mapping) -> str:
    arch = task_model["arch"]
    if arch == "resnet18":
        return ("- **Task model**: the ResNet-18 on the images, retrained from scratch every "
                "round.")
    kind = task_model["features"]
    shape = "one linear layer" if arch == "linear" else (
        f"an MLP (one hidden layer of {task_model['hidden']} ReLU units)")
    return (f"- **Task model**: {shape} on the frozen features of the ``{kind}`` representation "
            f"({_kind_title(kind)}, trained once on the pool without labels; the test images "
            f"encoded by the same frozen encoder), retrained from scratch every round "
            f"({task_model['optimizer']}, lr {task_model['lr']}).")


def initial_sentence(al: Mapping) -> str:
    sel = al["initial_selection"]
    n = al["initial_labels"]
    words = INITIAL_WORDS.get(sel, sel).format(n=n)
    where = ""
    if sel != "random":
        kind = al["initial_space"]
        where = f" in the ``{kind}`` representation ({_kind_title(kind)})"
    return (f"- **Initial labels** (``al.initial_selection: {sel}``): each seed's {n} initial "
            f"labels were {words}{where}; every strategy of a seed starts from the same set "
            f"(paired design).")


def seeds_sentence(al: Mapping, plan: Optional[Mapping] = None) -> str:
    seeds = list(al["seeds"])
    if not al["extra_seeds"]:
        return (f"- **Seeds**: a fixed list of {len(seeds)} ({', '.join(map(str, seeds))}), set "
                f"before any run.")
    from ..seedplan import rule_text

    rule = rule_text(al["extra_seeds"], len(seeds))
    if plan is None:
        return f"- **Seeds**: {rule}"
    return (f"- **Seeds**: {rule} {plan['sentence']}")


def design_rst(config: Mapping, plan: Optional[Mapping] = None) -> str:
    """The section (reStructuredText) from the recorded config (validated: the schema
    filled its defaults in) and the seed plan."""
    lines = ["Study design", "============", "",
             task_model_sentence(config["task_model"]),
             initial_sentence(config["al"]),
             seeds_sentence(config["al"], plan), ""]
    return "\n".join(lines) + "\n"
