"""What the train_representation job records for every representation kind: the loss
table, kNN accuracy of the latent means, a reconstruction figure and a t-SNE
of the latents, plus the table over kinds × datasets (results/latent_knn.csv)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch

from .vae import check_images, encode_means, reconstruct

KNN_K = 5
TSNE_POINTS = 2000
KNN_COLUMNS = ["dataset", "kind", "scope", "seed", "task", "n_pool", "n_test", "n_labeled",
               "latent_dim", "epochs", "final_loss", "knn_metric", "knn_acc", "knn_acc_pixels",
               "knn_acc_soft_labels", "classifier_acc"]


def knn_accuracy(train_x, train_y, test_x, test_y, task: str, k: int = KNN_K) -> float:
    """Accuracy of a k-nearest-neighbour classifier (Euclidean, k = 5) fit on
    ``train_x``. Multi-label: the mean over labels of the per-label accuracy
    (each label predicted by the neighbours' majority)."""
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=min(k, len(train_x))).fit(train_x, train_y)
    pred = clf.predict(test_x)
    return float(np.mean(pred == np.asarray(test_y)))


def knn_metric(task: str) -> str:
    return "mean per-label accuracy" if task == "multi-label" else "accuracy"


def reconstructions(model, images_uint8, device="cpu") -> np.ndarray:
    """[0, 1] reconstructions: ``model.reconstruct01`` when the kind has one
    (a kind with a classifier head decodes with its soft label), else decode(μ)."""
    if not hasattr(model, "reconstruct01"):
        return reconstruct(model, images_uint8, device)
    from ._train import batched

    return batched(model, check_images(images_uint8), model.reconstruct01, torch.device(device))


def figure_rows(model, images_uint8, device="cpu") -> list:
    """``(title, [0, 1] images)`` rows of the train_representation job's figure: the inputs and
    their reconstructions, or, for a kind without a decoder, the rows its
    ``preview_rows(x01)`` gives (a contrastive kind shows its augmented views)."""
    images = check_images(images_uint8)
    if hasattr(model, "preview_rows"):
        from .vae import to01

        was_training = model.training
        model.eval()
        with torch.no_grad():
            x = to01(torch.from_numpy(np.ascontiguousarray(images)).to(torch.device(device)))
            rows = [(t, r.float().cpu().numpy()) for t, r in model.preview_rows(x)]
        model.train(was_training)
        return rows
    return [("input", images / 255.0), ("reconstruction", reconstructions(model, images, device))]


def save_reconstruction_figure(model, images_uint8, path, device="cpu", n: int = 10,
                               title: str | None = None) -> None:
    """Top row: ``n`` images; bottom row: their reconstructions (or the kind's
    ``preview_rows``, see :func:`figure_rows`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = check_images(images_uint8)[:n]
    rows = figure_rows(model, images, device)
    k = max(len(images), 1)
    fig, axes = plt.subplots(len(rows), k, figsize=(1.2 * k, 1.3 * len(rows) + (0.3 if title else 0)),
                             squeeze=False)
    for r, (_, imgs) in enumerate(rows):
        for i in range(len(images)):
            img = np.transpose(imgs[i], (1, 2, 0))
            axes[r, i].imshow(img[..., 0] if img.shape[2] == 1 else img, cmap="gray", vmin=0, vmax=1)
    for ax in axes.ravel():
        ax.axis("off")
    for r, (name, _) in enumerate(rows):
        axes[r, 0].set_title(name, fontsize=8, loc="left")
    if title:
        fig.suptitle(title, fontsize=9)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def class_colour_index(labels: np.ndarray) -> np.ndarray:
    """One colour per point: the class (multi-label: the first positive label, −1 for none)."""
    labels = np.asarray(labels)
    if labels.ndim == 1:
        return labels.astype(np.int64)
    first = labels.argmax(1).astype(np.int64)
    return np.where(labels.max(1) > 0, first, -1)


def _tsne_panel(ax, latents: np.ndarray, labels: np.ndarray, seed: int, title: str, n: int,
                legend: bool = True) -> None:
    """One t-SNE (sklearn, seeded, PCA init) of up to ``n`` randomly drawn points on ``ax``."""
    import matplotlib.pyplot as plt
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(len(latents), size=min(n, len(latents)), replace=False))
    x = np.asarray(latents, dtype=np.float64)[keep]
    emb = TSNE(n_components=2, init="pca", random_state=seed,
               perplexity=min(30.0, max(2.0, (len(x) - 1) / 3))).fit_transform(x)
    colour = class_colour_index(labels)[keep]
    classes = np.unique(colour)
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for i, c in enumerate(classes):
        m = colour == c
        ax.scatter(emb[m, 0], emb[m, 1], s=4, color="0.6" if c < 0 else cmap(i % cmap.N),
                   label="none" if c < 0 else str(c))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    if legend and len(classes) <= 20:
        ax.legend(fontsize=6, markerscale=2, loc="best", frameon=False, ncol=2)


def save_tsne_figure(latents: np.ndarray, labels: np.ndarray, path, seed: int, title: str,
                     n: int = TSNE_POINTS) -> None:
    """t-SNE (sklearn, seeded, PCA init) of up to ``n`` randomly drawn points."""
    save_tsne_grid([[(latents, title)]], labels, path, seed, n, panel_size=(5, 4.6))


def save_tsne_grid(panels: list, labels: np.ndarray, path, seed: int, n: int = TSNE_POINTS,
                   panel_size=(3.6, 3.4)) -> None:
    """Rows × columns of t-SNE panels, ``panels[i][j] = (latents, title)`` (all of the
    same points, coloured by class; the legend on the first panel only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(panels), max(len(r) for r in panels)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows),
                             squeeze=False)
    for i, row in enumerate(panels):
        for j in range(cols):
            if j < len(row):
                _tsne_panel(axes[i][j], row[j][0], labels, seed, row[j][1], n,
                            legend=(i, j) == (0, 0))
            else:
                axes[i][j].axis("off")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def save_loss_table(history: list, path) -> None:
    """The per-epoch history as CSV (the union of the kinds' columns)."""
    fields = []
    for row in history:
        fields += [k for k in row if k not in fields]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields or ["epoch", "loss"])
        writer.writeheader()
        writer.writerows(history)


def latent_diagnostics(res, *, kind, dataset, scope, seed, task, pool_images, pool_labels,
                       test_images, test_labels, n_labeled, device="cpu") -> dict:
    """The kNN row of one trained representation (see :data:`KNN_COLUMNS`)."""
    dim = res.model.config["latent_dim"]
    pool_mu = np.asarray(res.latents[:, :dim], dtype=np.float32)
    test_mu = encode_means(res.model, test_images, device=device)
    flat = lambda a: np.asarray(a, dtype=np.float32).reshape(len(a), -1) / 255.0  # noqa: E731
    gmm = [h for h in res.losses if h.get("phase", "gmm") == "gmm"]  # not config
    soft_knn, head_acc = class_head_diagnostics(res.model, pool_mu, pool_images, pool_labels,
                                                test_mu, test_images, test_labels, task, device)
    return {
        "dataset": dataset, "kind": kind, "scope": scope, "seed": int(seed), "task": task,
        "n_pool": len(pool_images), "n_test": len(test_images), "n_labeled": int(n_labeled),
        "latent_dim": dim, "epochs": len(res.losses),
        "final_loss": float(gmm[-1]["loss"]) if gmm else float("nan"),
        "knn_metric": knn_metric(task),
        "knn_acc": knn_accuracy(pool_mu, pool_labels, test_mu, test_labels, task),
        "knn_acc_pixels": knn_accuracy(flat(pool_images), pool_labels, flat(test_images),
                                       test_labels, task),
        "knn_acc_soft_labels": soft_knn,
        "classifier_acc": head_acc,
    }


def class_head_diagnostics(model, pool_mu, pool_images, pool_labels, test_mu, test_images,
                           test_labels, task: str, device="cpu") -> tuple[float, float]:
    """Where a kind with a classifier head (M2: ``encode_all`` gives its logits,
    ``soft_labels`` turns them into q(y|x)) keeps its class information: kNN(5) accuracy on
    the latent means with the head's soft labels appended (what such a kind can feed a
    strategy), and the head's own test accuracy (argmax; multi-label: mean per-label
    accuracy at 0.5). NaN for the kinds without a classifier head."""
    if not hasattr(model, "soft_labels"):
        return float("nan"), float("nan")
    from ._train import batched

    def soft(images):
        return batched(model, images, lambda x: model.soft_labels(model.encode_all(x)[2]), device)

    pool_soft, test_soft = soft(pool_images), soft(test_images)
    knn = knn_accuracy(np.concatenate([pool_mu, pool_soft], 1), pool_labels,
                       np.concatenate([test_mu, test_soft], 1), test_labels, task)
    y = np.asarray(test_labels)
    pred = (test_soft >= 0.5).astype(y.dtype) if task == "multi-label" else test_soft.argmax(1)
    return knn, float(np.mean(pred == y))


def write_json(row: dict, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(row, indent=1) + "\n")


def knn_table(json_paths, out_csv) -> list:
    """Collect the per-job diagnostics into one CSV, sorted by dataset, kind, seed."""
    rows = [json.loads(Path(p).read_text()) for p in json_paths]
    rows.sort(key=lambda r: (r["dataset"], r["kind"], r["scope"], r["seed"]))
    Path(out_csv).parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=KNN_COLUMNS)
        writer.writeheader()
        writer.writerows({k: r.get(k) for k in KNN_COLUMNS} for r in rows)
    return rows


def load_model(state: dict, device="cpu"):
    """Rebuild a trained representation's module from its saved ``state`` (eval mode)."""
    from . import kind_module

    model = kind_module(state["kind"]).MODEL(**state["config"])
    model.load_state_dict(state["state_dict"])
    return model.to(device).eval()


def read_loss_table(path) -> list:
    """The rows :func:`save_loss_table` wrote, numbers as floats where they parse."""
    def num(v):
        try:
            return float(v)
        except (TypeError, ValueError):
            return v

    with open(path, newline="") as fh:
        return [{k: num(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def stored_diagnostics(model_path, latents_path, losses_path, **kwargs) -> dict:
    """:func:`latent_diagnostics` of a representation the train_representation job saved."""
    from .base import RepresentationResult

    state = torch.load(model_path, map_location="cpu", weights_only=False)
    res = RepresentationResult(state, np.load(latents_path), read_loss_table(losses_path),
                               load_model(state))
    return latent_diagnostics(res, **kwargs)
