"""The numbers the report's pages read (their words are in alvae.analysis.pages): which
rows of a tests table were tested, their verdicts, their question and role; the software
versions; and for the Classifier page the train-accuracy threshold, the reference
strategy and each strategy's share of rounds below the threshold."""

from __future__ import annotations

import importlib
import platform
from importlib import metadata

import numpy as np
import pandas as pd

from .. import vocabulary

OUTCOMES = ("differs", "equivalent", "inconclusive")


def question_of(df: pd.DataFrame) -> pd.Series:
    from .stats import pair_family

    return pd.Series([pair_family(a, b) for a, b in zip(df["strategy_a"], df["strategy_b"])],
                     index=df.index, dtype=object)


def is_thesis_pair(df: pd.DataFrame) -> pd.Series:
    from .stats import THESIS_FAMILY

    return question_of(df) == THESIS_FAMILY


def tested_rows(df: pd.DataFrame) -> pd.Series:
    """Rows with a defined t-test (the rows counted in their family)."""
    return df["t"].notna() if "t" in df else df["p_adj"].notna()


def verdicts_of(df: pd.DataFrame, alpha: float) -> pd.Series:
    """The verdict column, or (tables without one) recomputed by alvae.analysis.stats.verdict."""
    from .stats import BEFORE_QUERY_NOTE, verdict

    if "verdict" in df:
        return df["verdict"]
    before = (df["note"].map(lambda n: isinstance(n, str) and BEFORE_QUERY_NOTE in n)
              if "note" in df else pd.Series(False, index=df.index))
    pe = df["p_equiv_adj"] if "p_equiv_adj" in df else pd.Series(np.nan, index=df.index)
    return pd.Series([verdict(a, e, t, b, alpha) for a, e, t, b in
                      zip(df["p_adj"], pe, tested_rows(df), before)], index=df.index)


def primary_rows(df: pd.DataFrame | None) -> pd.Series:
    """Rows of the primary metric (tables without a role column: every row)."""
    if df is None:
        return pd.Series(dtype=bool)
    if "role" not in df:
        return pd.Series(True, index=df.index)
    return df["role"].fillna("primary") == "primary"


def outcome_counts(v: pd.Series) -> dict:
    return {o: int((v == o).sum()) for o in OUTCOMES}


def software_versions() -> dict:
    """Versions of Python and the libraries the results depend on ("not installed" if absent)."""
    versions = {"python": platform.python_version()}
    for name, dist in [("torch", "torch"), ("torchvision", "torchvision"), ("numpy", "numpy"),
                       ("scipy", "scipy"), ("sklearn", "scikit-learn"),
                       ("matplotlib", "matplotlib"), ("pandas", "pandas"),
                       ("snakemake", "snakemake"), ("medmnist", "medmnist"), ("alvae", "alvae")]:
        try:
            versions[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            try:
                versions[name] = getattr(importlib.import_module(name), "__version__", "unknown")
            except Exception:
                versions[name] = "not installed"
    if versions.get("torch") not in (None, "not installed"):
        try:
            import torch

            versions["cuda (torch build)"] = torch.version.cuda or "none (CPU build)"
        except Exception:
            pass
    return versions


# ------------------------------------------------------------------ the Classifier page

# the final train accuracy a round should reach when the recipe sets no target of its own
# (task_model.train_until.train_acc): see underfit_threshold
UNDERFIT_DEFAULT = 0.95


def _own_training(strategy: str) -> bool:
    """Whether a strategy's round 0 trains differently from plain training (a jointly
    trained loss module, a dropout layer): alvae.vocabulary's traits."""
    from ..labels import strategy_of

    try:
        t = vocabulary.traits(strategy_of(str(strategy)))
    except ValueError:
        return False
    return t.trains_loss_module or t.mc_dropout


def reference_strategy(strategies) -> str | None:
    """The strategy whose round 0 stands for the recipe's plain training: random if run,
    else the first that trains the task model alone."""
    strategies = list(strategies)
    if "random" in strategies:
        return "random"
    plain = [s for s in strategies if not _own_training(s)]
    return plain[0] if plain else None


def underfit_threshold(task_model: dict) -> tuple[float, str]:
    """(train accuracy a round should reach, where that number comes from): the
    recipe's own stopping target, ``task_model.train_until.train_acc`` when
    ``train_until`` is a mapping, else :data:`UNDERFIT_DEFAULT` (named as such)."""
    until = task_model.get("train_until")
    if isinstance(until, dict) and until.get("train_acc") is not None:
        return float(until["train_acc"]), "task_model.train_until.train_acc"
    return UNDERFIT_DEFAULT, (f"the default {UNDERFIT_DEFAULT:g}: the recipe sets no train-"
                              "accuracy target")


underfit_target = underfit_threshold  # (older name)


def underfit_shares(runs: pd.DataFrame, dataset: str, target: float) -> pd.DataFrame:
    """Per strategy of ``dataset``: rounds, rounds ending below train accuracy
    ``target``, their share, and the lowest train accuracy."""
    g = runs[(runs["dataset"] == dataset)].dropna(subset=["train_acc"]) \
        if "train_acc" in runs else runs.iloc[:0]
    out = g.groupby("strategy", sort=True)["train_acc"].agg(
        rounds="size", below=lambda v: int((v < target).sum()), lowest="min")
    out["share"] = out["below"] / out["rounds"]
    return out.reset_index()
