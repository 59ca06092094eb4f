"""Selection heuristics, looked up by the names used in the config.

Each heuristic is one module; which module, and what the heuristic needs (a
representation, a jointly trained module, MC dropout, its config section), is
declared once in :data:`alvae.vocabulary.STRATEGIES`. A ``<base>_<kind>`` name
is its base's class with the kind's latents switched on.
"""

from __future__ import annotations

from importlib import import_module

from .. import vocabulary
from ..schema import with_defaults
from .base import SelectionContext, Strategy

STRATEGY_NAMES = tuple(vocabulary.strategy_names())


def get_strategy(name: str, options: dict | None = None) -> Strategy:
    """Instantiate the strategy called ``name`` in the config, its traits set from the
    vocabulary and its ``params`` from its own config section (``options``, the validated
    section, or part of it in library use) over the schema's defaults."""
    base, kind = vocabulary.split_name(name)
    t = vocabulary.STRATEGIES[base]
    strategy = getattr(import_module(f"{__name__}.{t.module}"), t.cls)()
    strategy.params = with_defaults(t.options, options) if t.options else dict(options or {})
    strategy.name = name
    strategy.kind = kind
    strategy.uses_representation = kind is not None
    strategy.trains_loss_module = t.trains_loss_module
    strategy.mc_dropout = t.mc_dropout
    return strategy


__all__ = ["SelectionContext", "Strategy", "STRATEGY_NAMES", "get_strategy"]
