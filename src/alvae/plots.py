"""Figures: learning curves (thesis Figures 4.1-4.4) and t-SNE of the picks
(Figures 4.5, 4.6). Each figure is saved as PNG and PDF; functions return the
paths. Strategies differ in colour, marker and line style, so the figures stay
readable in greyscale."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 150
NAMES = {"random": "random", "entropy": "entropy", "coreset": "core-set",
         "coreset_vae": "VAE core-set", "medal": "MedAL", "medal_vae": "VAE MedAL",
         "lloss": "loss prediction", "lloss_vae": "VAE loss prediction"}
FAMILY_NAMES = {"coreset": "core-set", "medal": "MedAL", "lloss": "loss prediction",
                "entropy": "entropy", "random": "random"}
METRIC_NAMES = {"test_acc": "test accuracy", "test_auc": "test ROC-AUC (macro)",
                "val_acc": "validation accuracy", "val_auc": "validation ROC-AUC (macro)",
                "train_acc": "train accuracy", "train_loss": "train loss"}
_EXTRA = [("tab:purple", "v"), ("tab:brown", "P"), ("tab:pink", "h"), ("tab:olive", "<")]


def style(strategy: str, i: int = 0) -> dict:
    """Line style of a strategy: plain solid blue circles, _vae dash-dot
    orange squares, random dashed grey crosses, entropy green diamonds."""
    if strategy == "random":
        return dict(color="0.35", marker="x", linestyle="--")
    if strategy == "entropy":
        return dict(color="tab:green", marker="D", linestyle="-")
    if strategy.endswith("_vae"):
        return dict(color="tab:orange", marker="s", linestyle="-.")
    if strategy in NAMES:
        return dict(color="tab:blue", marker="o", linestyle="-")
    color, marker = _EXTRA[i % len(_EXTRA)]
    return dict(color=color, marker=marker, linestyle=":")


def _save(fig, out_png, out_pdf) -> tuple[str, str]:
    for path in (out_png, out_pdf):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=DPI, bbox_inches="tight")
    fig.savefig(out_pdf, bbox_inches="tight")
    plt.close(fig)
    return str(out_png), str(out_pdf)


def _significant_budgets(tests_df, dataset, strategies, metric, alpha) -> list[int]:
    """Budgets where the family's plain-vs-_vae Holm-adjusted p < alpha."""
    if tests_df is None or tests_df.empty:
        return []
    vae = [s for s in strategies if s.endswith("_vae")]
    plain = [s.removesuffix("_vae") for s in vae if s.removesuffix("_vae") in strategies]
    if not plain:
        return []
    a, b = plain[0], f"{plain[0]}_vae"
    t = tests_df[(tests_df["dataset"] == dataset) & (tests_df["metric"] == metric)
                 & (((tests_df["strategy_a"] == a) & (tests_df["strategy_b"] == b))
                    | ((tests_df["strategy_a"] == b) & (tests_df["strategy_b"] == a)))]
    return sorted(int(n) for n in t.loc[t["p_holm"] < alpha, "n_labels"])


def learning_curves(summary_df: pd.DataFrame, dataset: str, family_strategies: Sequence[str],
                    metrics: str | Sequence[str] = "test_acc", tests_df: pd.DataFrame | None = None,
                    baseline: float | Mapping[str, float] | None = None,
                    out_png: str | Path = "curves.png", out_pdf: str | Path = "curves.pdf",
                    reference: str | None = "random", alpha: float = 0.05,
                    title: str | None = None) -> tuple[str, str]:
    """Mean curve and shaded 95% CI per strategy, one panel per metric.

    ``reference`` (random) is added as a dashed line when the summary has it.
    Budgets where the family's plain vs _vae test has Holm-adjusted p < alpha
    get a star above the curves. ``baseline`` (a float for the accuracy panels,
    or a dict metric -> value) is drawn as a dotted horizontal line."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    strategies = list(family_strategies)
    if reference and reference not in strategies:
        strategies.append(reference)
    data = summary_df[summary_df["dataset"] == dataset]
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.0 * len(metrics), 4.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        drawn, top = 0, {}
        for i, s in enumerate(strategies):
            d = data[(data["strategy"] == s) & (data["metric"] == metric)].sort_values("n_labels")
            if d.empty:
                continue
            st = style(s, i)
            n = int(d["n"].min())
            ax.plot(d["n_labels"], d["mean"], label=f"{NAMES.get(s, s)} (n={n})", markersize=5,
                    linewidth=1.6, **st)
            ok = d["ci_low"].notna()
            ax.fill_between(d["n_labels"][ok], d["ci_low"][ok], d["ci_high"][ok],
                            color=st["color"], alpha=0.18, linewidth=0)
            for n_l, hi in zip(d["n_labels"], d[["mean", "ci_high"]].max(axis=1)):
                top[n_l] = max(top.get(n_l, -np.inf), hi)
            drawn += 1
        if not drawn:
            raise ValueError(f"no summary rows for {dataset}, {strategies}, {metric}")
        base = baseline.get(metric) if isinstance(baseline, Mapping) else (
            baseline if metric.endswith("_acc") else None)
        if base is not None:
            ax.axhline(base, color="black", linestyle=":", linewidth=1.2,
                       label=f"all-negative baseline ({base:.3f})")
        stars = _significant_budgets(tests_df, dataset, family_strategies, metric, alpha)
        if stars:
            lo, hi = ax.get_ylim()
            y = [top.get(n, hi) + 0.05 * (hi - lo) for n in stars]
            ax.plot(stars, y, linestyle="none", marker="*", markersize=11,
                    color="black", label=f"Holm-adjusted p < {alpha:g} (plain vs VAE)")
            ax.set_ylim(lo, max(hi, max(y) + 0.04 * (hi - lo)))
        ax.set_xlabel("number of labels")
        ax.set_ylabel(METRIC_NAMES.get(metric, metric))
        ax.set_title(METRIC_NAMES.get(metric, metric))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fam = family_strategies[0].removesuffix("_vae") if family_strategies else ""
    versus = ("its VAE variant" if any(s.endswith("_vae") for s in family_strategies)
              else "random sampling")
    fig.suptitle(title or f"{dataset}: {FAMILY_NAMES.get(fam, fam)} vs {versus} "
                 "(mean over seeds, shaded 95% CI)")
    fig.tight_layout()
    return _save(fig, out_png, out_pdf)


def selection_points(selection: Mapping[str, np.ndarray], strategy: str):
    """(labeled, candidates, picked) of a t-SNE selection file for ``strategy``,
    in the space it measured distances in: features, or, for a _vae strategy,
    [features, alpha * latents]."""
    lab = np.asarray(selection["labeled_features"], dtype=float)
    cand = np.asarray(selection["candidate_features"], dtype=float)
    if strategy.endswith("_vae"):
        a = float(selection["alpha"])
        lab = np.hstack([lab, a * np.asarray(selection["labeled_latents"], dtype=float)])
        cand = np.hstack([cand, a * np.asarray(selection["candidate_latents"], dtype=float)])
    return lab, cand, np.asarray(selection[f"picked_{strategy}"], dtype=int)


def tsne_embed(labeled: np.ndarray, candidates: np.ndarray, seed: int = 0,
               threads: int | None = None) -> np.ndarray:
    """2-D t-SNE (scikit-learn defaults, random_state=seed) of labeled + candidates
    stacked. ``threads`` caps the OpenMP/BLAS threads (the job's share of the CPU)."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    x = np.vstack([labeled, candidates]).astype(np.float32)
    with threadpool_limits(limits=threads):
        return TSNE(n_components=2, random_state=seed).fit_transform(x)


def _draw_tsne(ax, emb: np.ndarray, n_labeled: int, picked: np.ndarray, title: str) -> None:
    lab, cand = emb[:n_labeled], emb[n_labeled:]
    mask = np.zeros(len(cand), dtype=bool)
    mask[picked] = True
    ax.scatter(*cand[~mask].T, s=7, c="0.65", marker=".", alpha=0.8,
               label=f"unlabeled candidates (n={int((~mask).sum())})")
    ax.scatter(*lab.T, s=9, c="tab:blue", marker="o", alpha=0.55, linewidths=0,
               label=f"labeled (n={len(lab)})")
    ax.scatter(*cand[mask].T, s=60, c="tab:red", marker="*", edgecolors="black", linewidths=0.4,
               label=f"picked (n={int(mask.sum())})")
    ax.set_title(title)
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=8, loc="best", markerscale=1.2)


def tsne_figure(labeled: np.ndarray, candidates: np.ndarray, picked_positions, title: str,
                seed: int, out_png, out_pdf, embedding: np.ndarray | None = None,
                threads: int | None = None):
    """t-SNE of labeled + candidates; picked = positions into ``candidates``.
    Pass ``embedding`` (from tsne_embed) to reuse one."""
    emb = tsne_embed(labeled, candidates, seed, threads) if embedding is None else embedding
    fig, ax = plt.subplots(figsize=(6.0, 5.6))
    _draw_tsne(ax, emb, len(labeled), np.asarray(picked_positions, dtype=int), title)
    fig.tight_layout()
    return _save(fig, out_png, out_pdf)


def tsne_pair(panels: Sequence[Mapping], seed: int, out_png, out_pdf, title: str | None = None,
              threads: int | None = None):
    """Side-by-side t-SNE panels; each panel a dict with labeled, candidates,
    picked, title and optionally embedding. Each panel has its own embedding
    (its strategy's distance space)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(6.0 * len(panels), 5.6), squeeze=False)
    for ax, p in zip(axes[0], panels):
        emb = p.get("embedding")
        emb = tsne_embed(p["labeled"], p["candidates"], seed, threads) if emb is None else emb
        _draw_tsne(ax, emb, len(p["labeled"]), np.asarray(p["picked"], dtype=int), p["title"])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, out_png, out_pdf)
