"""The representations' checks of a config, before any job: each kind's own options,
through its module's ``config_problems(options, config)`` when it has one (called for
every kind in :data:`alvae.vocabulary.KINDS`, in use or not; a kind without it has no
checks), and the files the kinds in use read (their ``option_problems``)."""

from __future__ import annotations

from .. import vocabulary
from ..labels import strategy_of
from . import kind_module


def config_problems(config: dict) -> list[str]:
    problems = []
    for kind in vocabulary.KINDS:
        hook = getattr(kind_module(kind), "config_problems", None)
        if hook is not None:
            problems += hook((config.get("representation") or {}).get(kind), config)
    return problems + _kind_file_problems(config)


def kinds_in_use(config: dict) -> list[str]:
    """The representation kinds a study trains: those its strategies append, the spaces of
    its latent-space strategies, the frozen features of its task model, the space of its
    initial selection."""
    kinds = []
    for label in config["strategies"]:
        try:
            name = strategy_of(label)
            t = vocabulary.traits(name)
        except ValueError:
            continue
        kinds.append(vocabulary.kind_of(name))
        if t.latent_space:
            space = config[t.options]["space"] if t.options else None  # None: latents
            kinds.append(vocabulary.space_kind(space))
    kinds.append(config["task_model"]["features"])
    sel = config["al"]["initial_selection"]
    if sel != "random":
        kinds.append(config["al"]["initial_space"])
    return [k for k in dict.fromkeys(kinds) if k in vocabulary.KINDS]


def _kind_file_problems(config: dict) -> list[str]:
    """A kind that reads a file the user places (pretrained weights): present, with the
    digest given, before any job (the kind's own ``option_problems``)."""
    problems = []
    for kind in kinds_in_use(config):
        mod = vocabulary.kind_files_module(kind)
        if mod is not None:
            problems += mod.option_problems((config.get("representation") or {}).get(kind))
    return problems
