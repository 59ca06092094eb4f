"""α, the scale of the latent block in ``T_f(u) ⌢ α·V(u)``, and how much it weighs.

``spread`` is the mean pairwise squared distance of a set of points,

    spread(X) = (1/n²) Σ_i Σ_j ‖x_i − x_j‖² = 2·(mean ‖x‖² − ‖mean x‖²),

computed from the right-hand side (O(n·d), never an n×n matrix). In a
concatenation the squared distances add up block by block, so the mean pairwise
squared distance of ``f ⌢ α·z`` is ``spread(f) + α²·spread(z)``.

- ``alpha: auto`` matches spreads on the round-0 labeled set:
  α = sqrt(spread(f) / spread(z)), so both blocks carry half of the mean squared
  distance there.
- ``alpha: auto_norm`` is the earlier rule: the mean L2 norm of the task features
  (round-0 labeled set) over the mean norm of the latents (whole pool).
- A strategy label ``<name>@<scale>`` (e.g. ``coreset_vae@0.25``) multiplies the
  α the config gives by ``scale`` (the α sweep).

``latent_share`` is the fraction of the candidates' mean pairwise squared
distance that the latent block contributes: α²·spread(z) / (spread(f) + α²·spread(z)).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..labels import parse_label

AUTO_MODES = ("auto", "auto_norm")


def split_label(label: str) -> tuple[str, float]:
    """``"coreset_vae@0.25"`` -> ``("coreset_vae", 0.25)``; a plain name has scale 1.
    A ``+<retrain>`` suffix (:mod:`alvae.labels`) is accepted and dropped."""
    parsed = parse_label(label)
    return parsed.name, parsed.scale


def spread(x) -> float:
    """Mean pairwise squared distance of the rows of ``x`` (0 for fewer than 2 rows)."""
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).detach().double()
    if x.shape[0] < 2:
        return 0.0
    mean_sq = float(torch.einsum("ij,ij->i", x, x).mean())
    centre = x.mean(dim=0)
    return max(2.0 * (mean_sq - float(centre @ centre)), 0.0)


def spread_alpha(features, latents) -> float:
    """``alpha: auto``: α with α²·spread(latents) = spread(features) (same points)."""
    f, z = spread(features), spread(latents)
    return math.sqrt(f / z) if z > 0 else 1.0


def norm_alpha(features, latents) -> float:
    """``alpha: auto_norm``: mean L2 norm of ``features`` over that of ``latents``."""
    f = float(torch.as_tensor(features).float().norm(dim=1).mean())
    z = float(np.linalg.norm(np.asarray(latents), axis=1).mean())
    return f / z if z > 0 else 1.0


def latent_share(features, latents, alpha: float) -> float:
    """Fraction of the mean pairwise squared distance of ``f ⌢ α·z`` due to ``α·z``."""
    f = spread(features)
    z = float(alpha) ** 2 * spread(latents)
    return z / (f + z) if f + z > 0 else math.nan


def measured_alpha(mode: str, features, latents: np.ndarray, labeled: np.ndarray) -> float:
    """α of ``alpha: auto`` or ``auto_norm`` from the round-0 model's ``features`` of
    the ``labeled`` pool points and the pool's ``latents``."""
    if mode == "auto":
        return spread_alpha(features, np.asarray(latents)[np.asarray(labeled, dtype=np.int64)])
    if mode == "auto_norm":
        return norm_alpha(features, latents)
    raise ValueError(f"alpha: {mode!r} is neither a number nor one of {', '.join(AUTO_MODES)}")
