"""What per-round retraining did to the representation (rule ``retrain_diagnostics``).

Reads what the AL jobs of the retrained labels (``representation.retrain: per_round`` or a
``+per_round`` label) wrote: the ``latent_knn_acc`` column of ``runs.csv`` (kNN(5)
accuracy on the test split of each round's latent means, :mod:`alvae.representations.retrain`)
and each round's pool latents (``latents_rounds.npz``).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..representations.diagnostics import save_tsne_grid
from .alpha_report import plot_rounds, round_table


def latent_knn_rounds_table(runs: pd.DataFrame, strategies: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% t interval over seeds of ``latent_knn_acc`` per dataset ×
    strategy × round (round 0: the representation before any retraining)."""
    return round_table(runs, strategies, "latent_knn_acc")


def plot_latent_knn_rounds(table: pd.DataFrame, out_png, out_pdf) -> tuple[str, str]:
    return plot_rounds(table, out_png, out_pdf, "kNN(5) accuracy of the latent means (test)")


def tsne_panels(round_latents: Mapping[str, Mapping[str, np.ndarray]]) -> list:
    """One row per label: its first and last round's latents, titled
    ``<label>, round <r>`` (the rows :func:`save_tsne_grid` draws)."""
    panels = []
    for label, rounds in round_latents.items():
        keys = sorted(rounds, key=lambda k: int(k.split("_")[1]))
        if not keys:
            continue
        chosen = [keys[0]] + ([keys[-1]] if len(keys) > 1 else [])
        panels.append([(rounds[k], f"{label}, {k.replace('_', ' ')}") for k in chosen])
    return panels


def save_round_tsne(round_latents: Mapping[str, Mapping[str, np.ndarray]], pool_labels,
                    path, seed: int) -> int:
    """t-SNE of the pool's latents before the first and after the last retraining,
    one row per label, coloured by class; returns the number of rows drawn (a
    figure saying there is nothing to draw when 0)."""
    panels = tsne_panels(round_latents)
    if not panels:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(4, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no retrained representation in this study", ha="center")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return 0
    save_tsne_grid(panels, pool_labels, path, seed)
    return len(panels)
