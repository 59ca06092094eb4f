"""Helpers shared by the strategies that rank candidates by a score (entropy, margin,
least confidence, BALD, learning loss, VAAL)."""

from __future__ import annotations

import numpy as np
import torch


def prob_matrix(probs) -> torch.Tensor:
    """``probs`` (n × C or n × L; array or tensor) as a float64 tensor, shape checked."""
    p = torch.as_tensor(probs).detach().double()
    if p.ndim != 2:
        raise ValueError(f"probs must be n × C, got shape {tuple(p.shape)}")
    return p


def top_k_stable(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, highest first, ties to the lower position."""
    if not 0 <= k <= len(scores):
        raise ValueError(f"budget {k} outside 0..{len(scores)} (number of candidates)")
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[:k].astype(np.int64)
