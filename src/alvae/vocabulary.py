"""The names of alvae's methods and what each one needs, declared once.

Everything else (the study's plan in ``alvae.plan``, the config schema's enums, the
strategy and representation registries, the statistics' families, the plots'
styles, the diagnostics) reads this module. It imports nothing heavy (no torch),
so the Snakefile can import it while planning.

- A new **strategy** is its file in ``alvae/strategies/`` and one line in
  :data:`STRATEGIES`.
- A new **representation kind** is its file in ``alvae/representations/`` (a
  ``fit`` function and a ``load_model`` function) and one line in :data:`KINDS`.
  Every strategy that takes a representation then has a ``<base>_<kind>``
  variant (``coreset_<kind>``, ...), and the thesis's family of tests compares
  ``X`` with ``X_<kind>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class StrategyTraits:
    """What the workflow and the loop must know about a strategy, beyond its code."""

    module: str          #: its file in alvae/strategies/
    cls: str             #: its class there
    title: str           #: its name in figures and sentences
    #: it has ``<name>_<kind>`` variants that append a kind's latents to its features
    takes_representation: bool = False
    #: it trains a module jointly with the task model (learning loss): its model, and so
    #: its round-0 scores, differ from the other strategies' before any query
    trains_loss_module: bool = False
    #: it may work in a kind's latent space instead of the task features (``<options>.space``)
    latent_space: bool = False
    #: the task model carries a dropout layer before its last layer (MC dropout)
    mc_dropout: bool = False
    #: it handles multi-label tasks
    multilabel: bool = True
    #: its own config section, if any (the section's keys and defaults live in the schema)
    options: Optional[str] = None


@dataclass(frozen=True)
class KindTraits:
    """A representation kind ("VAE kind"): trained on the pool, its latents are appended
    to a strategy's features (``<base>_<kind>``) or serve as a strategy's space."""

    module: str          #: its file in alvae/representations/
    title: str           #: its name in figures and sentences
    #: it learns from labels: trained per AL seed on that seed's initial labels
    uses_labels: bool = False
    color: Optional[str] = None  #: its colour in the learning curves (else from a palette)
    #: it reads a file the user places (pretrained weights): its module, importable without
    #: torch, has ``option_problems(options)`` (checked with the config, before any job) and
    #: ``files_identity(options)`` (the file's digest, in its training job's params)
    reads_files: bool = False


STRATEGIES: dict[str, StrategyTraits] = {
    "random": StrategyTraits("random", "RandomStrategy", "random"),
    "entropy": StrategyTraits("entropy", "EntropyStrategy", "entropy"),
    "coreset": StrategyTraits("coreset", "CoresetStrategy", "core-set", takes_representation=True),
    "medal": StrategyTraits("medal", "MedalStrategy", "MedAL", takes_representation=True),
    "lloss": StrategyTraits("lloss", "LearningLossStrategy", "loss prediction",
                            takes_representation=True, trains_loss_module=True, options="lloss"),
    "vaal": StrategyTraits("vaal", "VAALStrategy", "VAAL", options="vaal"),
    "margin": StrategyTraits("margin", "MarginStrategy", "margin"),
    "least_confidence": StrategyTraits("least_confidence", "LeastConfidenceStrategy", "least confidence"),
    "bald": StrategyTraits("bald", "BaldStrategy", "BALD", mc_dropout=True, options="bald"),
    "badge": StrategyTraits("badge", "BadgeStrategy", "BADGE"),
    "typiclust": StrategyTraits("typiclust", "TypiClustStrategy", "TypiClust", latent_space=True,
                                options="typiclust"),
    "probcover": StrategyTraits("probcover", "ProbCoverStrategy", "ProbCover", latent_space=True,
                                options="probcover"),
}

KINDS: dict[str, KindTraits] = {
    "vae": KindTraits("vae", "VAE", color="tab:orange"),
    "cvae": KindTraits("cvae", "M2 cvae", uses_labels=True, color="tab:purple"),
    "gmvae": KindTraits("gmvae", "GMM-VAE", color="tab:brown"),
    "simclr": KindTraits("simclr", "SimCLR", color="tab:cyan"),
    "pretrained": KindTraits("pretrained", "pretrained", color="tab:olive", reads_files=True),
}

# Data sources: ``datasets.<name>.source`` -> "module" (its SOURCE) or "module:NAME", a module
# of alvae.data.sources that knows everything about the source. A new source adds one line.
SOURCES: dict[str, str] = {
    "digits": "digits",
    "mnist": "idx:MNIST",
    "fashion_mnist": "idx:FASHION_MNIST",
    "medmnist": "medmnist",
    "npz": "npz",
    "folder": "folder",
    "csv": "manifest",
    "cifar10": "torchvision_sets:CIFAR10",
    "cifar100": "torchvision_sets:CIFAR100",
    "svhn": "torchvision_sets:SVHN",
}


_PALETTE = ("tab:pink", "tab:olive", "tab:cyan", "tab:red", "tab:gray")


def kind_files_module(kind: str):
    """The module of a kind that reads a file the user places (``reads_files``), imported
    without torch; None for the other kinds."""
    if not KINDS[kind].reads_files:
        return None
    from importlib import import_module

    return import_module(f"alvae.representations.{KINDS[kind].module}")


# ------------------------------------------------------------------- lookups
def strategy_names() -> list[str]:
    """Every strategy name the config accepts: the plain ones, then each
    ``<base>_<kind>`` variant."""
    names = list(STRATEGIES)
    for base, t in STRATEGIES.items():
        if t.takes_representation:
            names += [f"{base}_{kind}" for kind in KINDS]
    return names


def split_name(name: str) -> tuple[str, Optional[str]]:
    """``coreset_cvae`` -> ``("coreset", "cvae")``; ``entropy`` -> ``("entropy", None)``.
    Raises ``ValueError`` for an unknown name."""
    if name in STRATEGIES:
        return name, None
    base, _, kind = name.rpartition("_")
    if kind in KINDS and base in STRATEGIES and STRATEGIES[base].takes_representation:
        return base, kind
    raise ValueError(f"unknown strategy {name!r}; choose from {', '.join(strategy_names())}")


def traits(name: str) -> StrategyTraits:
    """The traits of a strategy name (a ``<base>_<kind>`` variant has its base's)."""
    return STRATEGIES[split_name(name)[0]]


def kind_of(name: str) -> Optional[str]:
    """The kind whose latents a ``<base>_<kind>`` strategy appends; None otherwise."""
    try:
        return split_name(name)[1]
    except ValueError:
        return None


def base_of(name: str) -> str:
    """``coreset_vae`` -> ``coreset`` (a name without a kind is its own base)."""
    try:
        return split_name(name)[0]
    except ValueError:
        return name


def space_kind(space: Optional[str]) -> Optional[str]:
    """The kind a ``<strategy>.space`` setting names: a kind's name, or ``latents`` (the
    plain VAE's, the default); None for ``features`` (the task model's)."""
    if space in (None, "latents"):
        return "vae"
    return space if space in KINDS else None


def space_names() -> list[str]:
    """What ``<strategy>.space`` accepts."""
    return ["latents", "features", *KINDS]


def kind_color(kind: str) -> str:
    t = KINDS[kind]
    return t.color or _PALETTE[list(KINDS).index(kind) % len(_PALETTE)]


def title(name: str) -> str:
    """``coreset_vae`` -> ``VAE core-set``; ``lloss`` -> ``loss prediction``."""
    try:
        base, kind = split_name(name)
    except ValueError:
        return name
    return STRATEGIES[base].title if kind is None else f"{KINDS[kind].title} {STRATEGIES[base].title}"


def strategy_label_pattern() -> str:
    """The spelling of a variant label (alvae.labels) in the schema:
    ``<base>_<kind>[@<scale>][+once|+per_round]``."""
    bases = "|".join(b for b, t in STRATEGIES.items() if t.takes_representation)
    kinds = "|".join(KINDS)
    return rf"^({bases})_({kinds})(@[0-9]+(\.[0-9]+)?)?(\+(once|per_round))?$"
