"""Selection heuristics, looked up by the names used in the config.

Each heuristic is one module; this registry maps a config name to the class
and the keyword arguments that make the variant (``*_vae`` switches the VAE
latents on).
"""

from __future__ import annotations

from importlib import import_module

from .base import SelectionContext, Strategy

# config name -> (module, class, constructor kwargs)
_REGISTRY = {
    "random": ("random", "RandomStrategy", {}),
    "entropy": ("entropy", "EntropyStrategy", {}),
    "coreset": ("coreset", "CoresetStrategy", {"use_vae": False}),
    "coreset_vae": ("coreset", "CoresetStrategy", {"use_vae": True}),
    "medal": ("medal", "MedalStrategy", {"use_vae": False}),
    "medal_vae": ("medal", "MedalStrategy", {"use_vae": True}),
    "lloss": ("lloss", "LearningLossStrategy", {"use_vae": False}),
    "lloss_vae": ("lloss", "LearningLossStrategy", {"use_vae": True}),
    "margin": ("margin", "MarginStrategy", {}),
    "least_confidence": ("least_confidence", "LeastConfidenceStrategy", {}),
    "bald": ("bald", "BaldStrategy", {}),
    "badge": ("badge", "BadgeStrategy", {}),
    "typiclust": ("typiclust", "TypiClustStrategy", {}),
    "probcover": ("probcover", "ProbCoverStrategy", {}),
}

STRATEGY_NAMES = tuple(_REGISTRY)


def get_strategy(name: str) -> Strategy:
    """Instantiate the strategy called ``name`` in the config."""
    try:
        module, cls, kwargs = _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown strategy {name!r}; choose from {', '.join(STRATEGY_NAMES)}"
        ) from None
    strategy = getattr(import_module(f"{__name__}.{module}"), cls)(**kwargs)
    strategy.name = name
    return strategy


__all__ = ["SelectionContext", "Strategy", "STRATEGY_NAMES", "get_strategy"]
