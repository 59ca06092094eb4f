"""The strategies' checks of a config, before any job: the space a latent-space strategy
names, labels that name the same run, and each strategy's own options, through its
module's ``config_problems(options, config)`` when it has one (called for every strategy
in :data:`alvae.vocabulary.STRATEGIES`, in use or not; a strategy without it has no
checks)."""

from __future__ import annotations

from importlib import import_module

from .. import vocabulary
from ..labels import parse_label


def config_problems(config: dict) -> list[str]:
    problems = _space_problems(config) + _same_run_problems(config)
    for t in vocabulary.STRATEGIES.values():
        hook = getattr(import_module(f"{__package__}.{t.module}"), "config_problems", None)
        if hook is not None:
            problems += hook(config.get(t.options) if t.options else None, config)
    return problems


def _space_problems(config: dict) -> list[str]:
    """``<options>.space`` of each latent-space strategy: latents, features or a kind."""
    problems = []
    for t in vocabulary.STRATEGIES.values():
        if not (t.latent_space and t.options):
            continue
        space = config[t.options]["space"]
        if space not in ("latents", "features") and space not in vocabulary.KINDS:
            problems.append(f"{t.options}.space: {space!r} is not latents, features or a "
                            f"representation kind ({', '.join(vocabulary.KINDS)})")
    return problems


def _same_run_problems(config: dict) -> list[str]:
    """Two labels that name the same run (strategy, α scale and schedule)."""
    default_retrain = config["representation"]["retrain"]
    seen, problems = {}, []
    for label in config["strategies"]:
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
