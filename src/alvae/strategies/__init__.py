"""Selection heuristics, looked up by the names used in the config.

Each heuristic is one module; this registry maps a config name to the class
and the keyword arguments that make the variant (``*_vae`` switches the VAE
latents on; ``<base>_<kind>`` names which representation kind's latents
the workflow feeds in, the class is the same).
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
    "coreset_cvae": ("coreset", "CoresetStrategy", {"use_vae": True}),
    "coreset_gmvae": ("coreset", "CoresetStrategy", {"use_vae": True}),
    "medal_cvae": ("medal", "MedalStrategy", {"use_vae": True}),
    "medal_gmvae": ("medal", "MedalStrategy", {"use_vae": True}),
    "lloss_cvae": ("lloss", "LearningLossStrategy", {"use_vae": True}),
    "lloss_gmvae": ("lloss", "LearningLossStrategy", {"use_vae": True}),
    "vaal": ("vaal", "VAALStrategy", {}),
    "margin": ("margin", "MarginStrategy", {}),
    "least_confidence": ("least_confidence", "LeastConfidenceStrategy", {}),
    "bald": ("bald", "BaldStrategy", {}),
    "badge": ("badge", "BadgeStrategy", {}),
    "typiclust": ("typiclust", "TypiClustStrategy", {}),
    "probcover": ("probcover", "ProbCoverStrategy", {}),
}

STRATEGY_NAMES = tuple(_REGISTRY)
#: the representation kinds a ``<base>_<kind>`` strategy concatenates (alvae.representations)
VAE_KINDS = ("vae", "cvae", "gmvae")


def vae_kind_of(name: str):
    """``coreset_cvae`` -> ``"cvae"``; ``None`` for a strategy without latents."""
    kind = name.rpartition("_")[2]
    return kind if kind in VAE_KINDS and name in _REGISTRY else None


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


__all__ = ["SelectionContext", "Strategy", "STRATEGY_NAMES", "VAE_KINDS", "get_strategy",
           "vae_kind_of"]
