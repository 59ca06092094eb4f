"""Feature helpers shared by the distance strategies (core-set, MedAL)."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from .alpha import latent_share


def concat_latents(features: torch.Tensor, latents: Optional[np.ndarray], indices: np.ndarray,
                   alpha: float, device) -> torch.Tensor:
    """Return ``T_f(u) ⌢ α·V(u)`` for the pool points ``indices`` (thesis, chapter 3).

    ``features`` holds the task-model features of those points (n × f), ``latents``
    the VAE means of the whole pool (N × z). The result is float32 on ``device``.
    With ``alpha == 0`` the zero block would change no distance, so the features
    are returned as they are: the ``*_vae`` variant then reproduces the plain
    strategy bit for bit (no different BLAS summation order from a wider matrix).
    """
    features = features.to(device=device, dtype=torch.float32)
    if alpha == 0:
        return features
    if latents is None:
        raise ValueError("VAE latents are needed to concatenate them (ctx.latents is None)")
    z = torch.as_tensor(np.asarray(latents)[np.asarray(indices, dtype=np.int64)],
                        dtype=torch.float32, device=device)
    if len(z) != len(features):
        raise ValueError(f"{len(features)} feature rows but {len(z)} latent rows")
    return torch.cat([features, float(alpha) * z], dim=1)


def distance_features(ctx, use_vae: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Candidate and labeled feature matrices a distance strategy works on:
    the task-model features, with ``α·V(u)`` appended when ``use_vae``."""
    cand = ctx.infer(ctx.candidates)["features"]
    lab = ctx.infer(ctx.labeled)["features"] if len(ctx.labeled) else cand[:0]
    if use_vae:
        if ctx.latents is not None:
            z = np.asarray(ctx.latents)[np.asarray(ctx.candidates, dtype=np.int64)]
            ctx.diagnostics["latent_share"] = latent_share(cand, z, ctx.alpha)
        return (concat_latents(cand, ctx.latents, ctx.candidates, ctx.alpha, ctx.device),
                concat_latents(lab, ctx.latents, ctx.labeled, ctx.alpha, ctx.device))
    return (cand.to(device=ctx.device, dtype=torch.float32),
            lab.to(device=ctx.device, dtype=torch.float32))


def as_float(x: torch.Tensor) -> torch.Tensor:
    """float32 unless already float64 (used by tests for exact arithmetic)."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def distance_inputs(candidate_feats: torch.Tensor, labeled_feats: torch.Tensor, budget: int):
    """Checked inputs of a greedy distance selection (core-set, MedAL): the candidates as
    floats, the labeled rows in the same dtype and device, both shifted by one point."""
    n = candidate_feats.shape[0]
    if not 0 <= budget <= n:
        raise ValueError(f"budget {budget} outside 0..{n} (number of candidates)")
    if labeled_feats.shape[0] and labeled_feats.shape[1] != candidate_feats.shape[1]:
        raise ValueError(f"feature widths differ: candidates {candidate_feats.shape[1]}, "
                         f"labeled {labeled_feats.shape[1]}")
    c = as_float(candidate_feats)
    lab = labeled_feats.to(device=c.device, dtype=c.dtype)
    # Distances do not change under a common shift. Shifting by an existing point
    # keeps ‖a‖² + ‖b‖² − 2a·b well conditioned for non-centred (ReLU) features,
    # and keeps integer-valued inputs integer (exact ties in the tests).
    shift = lab[0].clone() if len(lab) else c[0].clone()
    return c - shift, lab, shift
