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

from .. import vocabulary  # noqa: E402
from ..labels import parse_label  # noqa: E402

DPI = 150
# display names of strategies, from alvae.vocabulary: core-set, VAE core-set, ...
NAMES = {name: vocabulary.title(name) for name in vocabulary.strategy_names()}
FAMILY_NAMES = {name: t.title for name, t in vocabulary.STRATEGIES.items()}
METRIC_NAMES = {"test_acc": "test accuracy", "test_auc": "test ROC-AUC",
                "test_ap": "test average precision",
                "val_acc": "validation accuracy", "val_auc": "validation ROC-AUC",
                "val_ap": "validation average precision",
                "train_acc": "train accuracy", "train_loss": "train loss",
                "primary": "primary metric"}
CORRECTION_NAMES = {"holm": "Holm", "bh": "BH"}
_EXTRA = [("tab:purple", "v"), ("tab:brown", "P"), ("tab:pink", "h"), ("tab:olive", "<")]


KIND_COLORS = {kind: vocabulary.kind_color(kind) for kind in vocabulary.KINDS}


# one colour and marker per strategy of alvae.vocabulary (random and entropy have their own),
# in its order; a strategy added there takes the next pair
_BASE_COLORS = ["tab:blue", "tab:red", "tab:olive", "tab:pink", "black", "darkgoldenrod",
                "teal", "magenta", "navy", "darkred", "slategray", "yellowgreen"]
_BASE_MARKERS = ["o", "v", "P", "*", "h", "<", ">", "X", "d", "p", "H", "8"]


def _base_style(name: str) -> tuple[str, str]:
    """(colour, marker) of a strategy name of the vocabulary (not random or entropy)."""
    names = [n for n in vocabulary.STRATEGIES if n not in ("random", "entropy")]
    i = names.index(name) if name in names else len(names)
    return _BASE_COLORS[i % len(_BASE_COLORS)], _BASE_MARKERS[i % len(_BASE_MARKERS)]


def style(strategy: str, i: int = 0) -> dict:
    """Line style of a strategy label, one of its own for every label of the
    vocabulary, so that figures with many strategies (labels saved, one panel)
    tell them apart: random dashed grey crosses, entropy green diamonds; every
    other strategy its own colour and marker, solid (core-set blue circles,
    MedAL red triangles, loss prediction olive pluses, ...); a VAE variant
    ``<base>_<kind>`` its kind's colour (alvae.vocabulary's ``color``: vae
    orange, ...) with its base's marker, dash-dot when trained once, dotted
    when retrained per round (``+per_round``); anything else (α-sweep labels
    included) from a cycle of extra colours by ``i``."""
    parsed = parse_label(strategy)
    if strategy == "random":
        return dict(color="0.35", marker="x", linestyle="--")
    if strategy == "entropy":
        return dict(color="tab:green", marker="D", linestyle="-")
    kind = vocabulary.kind_of(parsed.name)
    if kind is not None and not parsed.scale_text:
        _, marker = _base_style(vocabulary.base_of(parsed.name))
        line = ":" if parsed.retrain == "per_round" else "-."
        return dict(color=KIND_COLORS[kind], marker=marker, linestyle=line)
    if strategy in vocabulary.STRATEGIES:
        color, marker = _base_style(strategy)
        return dict(color=color, marker=marker, linestyle="-")
    color, marker = _EXTRA[i % len(_EXTRA)]
    return dict(color=color, marker=marker, linestyle=":")


def _save(fig, out_png, out_pdf) -> tuple[str, str]:
    for path in (out_png, out_pdf):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=DPI, bbox_inches="tight")
    fig.savefig(out_pdf, bbox_inches="tight")
    plt.close(fig)
    return str(out_png), str(out_pdf)


def _vae_pair(strategies) -> tuple[str, str] | None:
    """The first (X, X_<kind>) pair among ``strategies`` (kind in stats.VAE_KINDS)."""
    from .stats import VAE_KINDS

    for x in strategies:
        for k in VAE_KINDS:
            if f"{x}_{k}" in strategies:
                return x, f"{x}_{k}"
    return None


def _significant_budgets(tests_df, dataset, strategies, metric, alpha) -> list[int]:
    """Budgets where the family's plain-vs-VAE-variant test has adjusted p_adj < alpha."""
    if tests_df is None or tests_df.empty:
        return []
    pair = _vae_pair(list(strategies))
    if pair is None:
        return []
    a, b = pair
    t = tests_df[(tests_df["dataset"] == dataset) & (tests_df["metric"] == metric)
                 & (((tests_df["strategy_a"] == a) & (tests_df["strategy_b"] == b))
                    | ((tests_df["strategy_a"] == b) & (tests_df["strategy_b"] == a)))]
    return sorted(int(n) for n in t.loc[t["p_adj"] < alpha, "n_labels"])


def curves_title(dataset: str, family_strategies: Sequence[str], with_reference: bool) -> str:
    """A title that fits any family: one strategy, a plain/VAE pair, random alone."""
    fam = [s for s in family_strategies if s != "random"]
    if not fam:
        return f"{dataset}: random sampling"
    base = fam[0] if _vae_pair(fam) is None else _vae_pair(fam)[0]
    name = FAMILY_NAMES.get(base, NAMES.get(base, base))
    parts = []
    if _vae_pair(fam) is not None:
        parts.append("its VAE variant" + ("s" if len(fam) > 2 else ""))
    if with_reference:
        parts.append("random sampling")
    return f"{dataset}: {name}" + (" vs " + " and ".join(parts) if parts else "")


def learning_curves(summary_df: pd.DataFrame, dataset: str, family_strategies: Sequence[str],
                    metrics: str | Sequence[str] = "test_acc", tests_df: pd.DataFrame | None = None,
                    baseline: float | Mapping[str, float] | None = None,
                    baseline_name: str = "all-negative", correction: str = "holm",
                    out_png: str | Path = "curves.png", out_pdf: str | Path = "curves.pdf",
                    reference: str | None = "random", alpha: float = 0.05,
                    title: str | None = None, primary: str | None = None,
                    ceiling: Mapping | None = None) -> tuple[str, str]:
    """Mean curve and shaded 95% CI per strategy, one panel per metric.

    ``reference`` (random) is added as a dashed line when the summary has it.
    Budgets where the family's plain vs VAE-variant test has adjusted p_adj <
    alpha get a star above the curves. ``baseline`` (a float for the accuracy
    panels, or a dict metric -> value) is drawn as a dotted horizontal line
    labelled ``baseline_name`` (majority-class or all-negative). A strategy
    with one budget is drawn as a point with its CI as an error bar. With
    ``primary`` (the dataset's primary metric) each panel title says whether
    its metric is the primary or a secondary one."""
    fig = curves_figure(summary_df, dataset, family_strategies, metrics, tests_df, baseline,
                        baseline_name, correction, reference, alpha, title, primary, ceiling)
    return _save(fig, out_png, out_pdf)


def curves_figure(summary_df: pd.DataFrame, dataset: str, family_strategies: Sequence[str],
                  metrics: str | Sequence[str] = "test_acc", tests_df: pd.DataFrame | None = None,
                  baseline: float | Mapping[str, float] | None = None,
                  baseline_name: str = "all-negative", correction: str = "holm",
                  reference: str | None = "random", alpha: float = 0.05,
                  title: str | None = None, primary: str | None = None,
                  ceiling: Mapping | None = None):
    """The figure of :func:`learning_curves` (not saved). ``ceiling``: metric -> (mean,
    seeds, labels) of the all-labels ceiling (alvae.training.ceiling.ceiling_means), drawn as a
    line on each panel."""
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
            if len(d) == 1 and ok.all():
                ax.errorbar(d["n_labels"], d["mean"], capsize=4, color=st["color"],
                            linestyle="none",
                            yerr=[d["mean"] - d["ci_low"], d["ci_high"] - d["mean"]])
            else:
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
                       label=f"{baseline_name} baseline ({base:.3f})")
        stars = _significant_budgets(tests_df, dataset, family_strategies, metric, alpha)
        if stars:
            lo, hi = ax.get_ylim()
            y = [top.get(n, hi) + 0.05 * (hi - lo) for n in stars]
            ax.plot(stars, y, linestyle="none", marker="*", markersize=11,
                    color="black", label=f"{CORRECTION_NAMES.get(correction, correction)}"
                    f"-adjusted p < {alpha:g} (plain vs VAE)")
            ax.set_ylim(lo, max(hi, max(y) + 0.04 * (hi - lo)))
        ax.set_xlabel("number of labels")
        ax.set_ylabel(METRIC_NAMES.get(metric, metric))
        role = "" if primary is None else (" (primary)" if metric == primary else " (secondary)")
        ax.set_title(METRIC_NAMES.get(metric, metric) + role)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    drawn_ref = bool(reference) and reference not in family_strategies and not data[
        data["strategy"] == reference].empty
    one_budget = data[data["strategy"].isin(strategies)]["n_labels"].nunique() == 1
    band = "error bar" if one_budget else "shaded"
    fig.suptitle(title or f"{curves_title(dataset, family_strategies, drawn_ref)}\n"
                 f"(mean over seeds, {band} 95% CI)")
    if ceiling:
        add_ceiling_lines(fig, metrics, ceiling)
    fig.tight_layout()
    return fig


def selection_points(selection: Mapping[str, np.ndarray], strategy: str):
    """(labeled, candidates, picked) of a t-SNE selection file for ``strategy``,
    in the space it measured distances in: features, or, for a _vae strategy,
    [features, alpha * latents]."""
    lab = np.asarray(selection["labeled_features"], dtype=float)
    cand = np.asarray(selection["candidate_features"], dtype=float)
    if vocabulary.kind_of(strategy) is not None:
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


def ppm_figure(matrix: pd.DataFrame, metric: str, n_cells: int, alpha: float,
               out_png, out_pdf, label: str | None = None) -> tuple[str, str]:
    """Heatmap of the pairwise penalty matrix (row A beats column B, share of
    cells), with each column's mean below it (how often that strategy is
    beaten: lower is better). ``label`` names the metric in the title (default:
    its readable name)."""
    names = [NAMES.get(s, s) for s in matrix.columns]
    k = max(len(names), 1)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.0 + 0.75 * k), max(3.8, 1.4 + 0.7 * k)))
    if matrix.empty or not np.isfinite(matrix.to_numpy(float)).any():
        ax.text(0.5, 0.5, f"no cell with two strategies for {metric}", ha="center", va="center")
        ax.axis("off")
    else:
        vals = matrix.to_numpy(float)
        col_mean = np.nanmean(np.where(np.eye(k, dtype=bool), np.nan, vals), axis=0) \
            if k > 1 else np.array([np.nan])
        full = np.vstack([vals, col_mean])
        im = ax.imshow(full, cmap="Reds", vmin=0, vmax=1, aspect="auto")
        for i in range(full.shape[0]):
            for j in range(k):
                if np.isfinite(full[i, j]):
                    ax.text(j, i, f"{full[i, j]:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if full[i, j] > 0.6 else "black")
        ax.axhline(k - 0.5, color="black", linewidth=1.2)
        ax.set_xticks(range(k), names, rotation=45, ha="right")
        ax.set_yticks(range(k + 1), names + ["column mean"])
        ax.set_xlabel("B (beaten)")
        ax.set_ylabel("A (wins)")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of cells A beats B")
    ax.set_title(f"Pairwise penalty matrix, {label or METRIC_NAMES.get(metric, metric)}\n"
                 f"{n_cells} (dataset, budget) cell(s) after the first query; paired t-test "
                 f"p < {alpha:g}, unadjusted", fontsize=9)
    fig.tight_layout()
    return _save(fig, out_png, out_pdf)


def cd_figure(mean_ranks: Mapping[str, float], groups: Sequence[Sequence[str]], metric: str,
              info: Mapping, alpha: float, out_png, out_pdf) -> tuple[str, str]:
    """Critical-difference diagram: strategies on an axis of mean rank (1 =
    best, left), a thick bar joining strategies whose pairwise Wilcoxon-Holm
    p is not below alpha; the Nemenyi CD is drawn as a scale for reference.
    Unless ``info["independent_blocks"]`` (one block per dataset) the p-values
    are labelled descriptive, not significant.
    When ``info["separable"]`` is false (too few blocks for any pair to reach
    alpha after Holm, alvae.analysis.ranking.smallest_p) the figure says so in place of
    the bars."""
    items = sorted(mean_ranks.items(), key=lambda kv: kv[1])
    k = len(items)
    fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.32 * max(k, 2)))
    ax.set_axis_off()
    separable = info.get("separable", True)  # not config (the ranking's record)
    if k < 2 or not info.get("n_blocks"):
        ax.text(0.5, 0.5, f"no ranking for {metric}: fewer than 2 strategies or no block with "
                "every strategy", ha="center", va="center", transform=ax.transAxes)
    else:
        lo, hi = 1, max(k, 2)
        ax.set_xlim(lo - 0.5, hi + 0.5)
        bottom = -((k + 1) // 2 + 0.6) * 0.55
        ax.set_ylim(bottom - (0 if separable else 0.9), 1.6)
        ax.plot([lo, hi], [0, 0], color="black", linewidth=1)
        for r in range(lo, hi + 1):
            ax.plot([r, r], [0, 0.12], color="black", linewidth=1)
            ax.text(r, 0.22, str(r), ha="center", va="bottom", fontsize=8)
        half = (k + 1) // 2
        for i, (s, r) in enumerate(items):
            left = i < half
            y = -(i + 1) * 0.55 if left else -(k - i) * 0.55
            xe = lo - 0.4 if left else hi + 0.4
            ax.plot([r, r, xe], [0, y, y], color="0.3", linewidth=0.9)
            ax.text(xe, y + 0.05, f"{NAMES.get(s, s)} ({r:.2f})", ha="left" if left else "right",
                    va="bottom", fontsize=8)
        if separable:
            for j, grp in enumerate(groups):
                rs = [mean_ranks[s] for s in grp]
                ax.plot([min(rs) - 0.03, max(rs) + 0.03], [-0.2 - 0.14 * j] * 2, color="black",
                        linewidth=3.5, solid_capstyle="butt")
        else:
            ax.text((lo + hi) / 2, bottom - 0.45, _unresolved(info, alpha), ha="center",
                    va="center",
                    fontsize=7.5, color="tab:red",
                    bbox=dict(facecolor="white", edgecolor="tab:red", linewidth=0.8))
        cd = info.get("nemenyi_cd", np.nan)
        if np.isfinite(cd):
            ax.plot([lo, lo + cd], [1.2, 1.2], color="tab:red", linewidth=1.5)
            ax.text(lo + cd / 2, 1.28, f"Nemenyi CD = {cd:.2f}", ha="center", va="bottom",
                    fontsize=7, color="tab:red")
    fp = info.get("friedman_p", np.nan)
    name = info.get("label") or METRIC_NAMES.get(metric, metric)
    tests = bool(info.get("independent_blocks"))
    bars = ((f"bars: no significant Wilcoxon-Holm difference at {alpha:g}" if tests else
             f"bars: no Wilcoxon-Holm p < {alpha:g} (descriptive: budgets of one dataset are "
             "not independent blocks)") if separable else
            "no bars: the blocks cannot separate any pair")
    ax.set_title(f"Mean rank, {name} (1 = best): "
                 f"{info.get('n_blocks', 0)} (dataset, budget) blocks, Friedman p = "  # not config
                 + ("n/a" if not np.isfinite(fp) else f"{fp:.3g}")
                 + ("" if tests or not np.isfinite(fp) else " (descriptive)")
                 + f"\n{bars}", fontsize=9)
    fig.tight_layout()
    return _save(fig, out_png, out_pdf)


def _unresolved(info: Mapping, alpha: float) -> str:
    """The CD figure's sentence when no pair can be separated."""
    n, m = info.get("n_blocks", 0), info.get("n_pairs", 0)  # not config
    return (f"No pair can be separated: with {n} block(s) the smallest attainable\n"
            f"Wilcoxon p is {info.get('min_p_wilcoxon', np.nan):.3g}; Holm over {m} pairs "
            f"gives at least {info.get('min_p_holm', np.nan):.3g} >= {alpha:g}")


def add_ceiling_lines(fig, metrics, means: Mapping) -> None:
    """Draw each panel's ceiling (``means`` from alvae.training.ceiling.ceiling_means) as a thin
    solid black line labelled with its value, and keep it in view."""
    for ax, metric in zip(fig.axes, metrics):
        if metric not in means:
            continue
        value, n, n_labels = means[metric]
        ax.axhline(value, color="black", linestyle="-", linewidth=1.0, alpha=0.75,
                   label=f"all {n_labels:,} labels, ceiling ({value:.3f}, n={n})")
        lo, hi = ax.get_ylim()
        pad = 0.04 * (hi - lo)
        ax.set_ylim(min(lo, value - pad), max(hi, value + pad))
        ax.legend(fontsize=8, loc="lower right")
