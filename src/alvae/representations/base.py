"""What every representation kind returns, and checks shared by the kinds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RepresentationResult:
    """``state``: torch-saveable dict (kind, constructor config, weights) to
    warm-start or rebuild the model; ``latents``: float32 (N, d) pool features
    the ``*_<kind>`` strategies concatenate; ``losses``: one dict per epoch;
    ``model``: the trained torch module (eval mode), for figures."""

    state: dict
    latents: np.ndarray
    losses: list = field(default_factory=list)
    model: object = None


def labeled_indices(labeled, n_pool: int) -> np.ndarray:
    """``labeled`` as sorted unique int64 pool indices (None -> empty)."""
    if labeled is None:
        return np.zeros(0, dtype=np.int64)
    idx = np.unique(np.asarray(labeled, dtype=np.int64))
    if idx.size and (idx[0] < 0 or idx[-1] >= n_pool):
        raise ValueError(f"labeled indices must lie in [0, {n_pool}), got {idx[0]}..{idx[-1]}")
    return idx


def check_init_state(init_state, kind: str, config: dict) -> None:
    """A warm start must come from the same kind and the same architecture."""
    if init_state is None:
        return
    if init_state.get("kind") != kind:
        raise ValueError(f"init_state is of kind {init_state.get('kind')!r}, not {kind!r}")
    if init_state.get("config") != config:
        raise ValueError(f"init_state's model config {init_state.get('config')} does not match "
                         f"{config} (representation.latent_dim, image shape or number of classes changed)")


def sub_cfg(rep_cfg: dict, kind: str, defaults: dict | None = None) -> dict:
    """``rep_cfg[kind]`` (the kind's options, ``representation.<kind>``) checked against the schema,
    as the workflow checks them before any job, with the schema's defaults for the keys
    not given (library use). Raises :class:`alvae.errors.ConfigError` (a ValueError)
    naming the key: an unknown one, or a value the schema refuses."""
    from ..errors import ConfigError
    from ..schema import defaults as schema_defaults
    from ..validation import checked_section

    known = schema_defaults("representation", kind) if defaults is None else defaults
    given = dict(rep_cfg.get(kind) or {})
    unknown = set(given) - set(known)
    if unknown:
        raise ConfigError(f"unknown keys representation.{kind}.{sorted(unknown)}")
    return {**known, **checked_section(("representation", kind), given)}
