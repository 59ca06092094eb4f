"""Test metrics as MedMNIST computes them.

Averaging over labels (multi-label) and classes (multi-class) is over those
that can be scored in the split: AUC over the labels with both a positive and
a negative, AP over the labels with at least one positive. This is *not*
scikit-learn's ``average="macro"``, which scores a label without a positive 0
for AP (with a warning) and returns NaN for AUC; :func:`left_out` counts the
labels our average leaves out (``results/datasets.csv``)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def accuracy(probs: np.ndarray, labels: np.ndarray, task: str, threshold: float = 0.5) -> float:
    """Multi-class/binary: argmax accuracy. Multi-label: MedMNIST's accuracy,
    i.e. per-label accuracy at ``threshold`` averaged over the labels."""
    if task == "multi-label":
        return float(((probs > threshold) == (labels > 0.5)).mean(axis=0).mean())
    return float((probs.argmax(axis=1) == labels).mean())


def auc(probs: np.ndarray, labels: np.ndarray, task: str) -> float:
    """Multi-label: mean of per-label ROC-AUCs (labels with one class only are
    left out); binary: AUC of the positive class; multi-class: one-vs-rest
    macro AUC over the classes present. NaN when undefined."""
    if task == "multi-label":
        aucs = [roc_auc_score(labels[:, j], probs[:, j])
                for j in range(labels.shape[1]) if 0 < labels[:, j].sum() < len(labels)]
        return float(np.mean(aucs)) if aucs else float("nan")
    present = np.unique(labels)
    if present.size < 2:
        return float("nan")
    if task == "binary" or probs.shape[1] == 2:
        return float(roc_auc_score(labels, probs[:, 1]))
    aucs = [roc_auc_score(labels == c, probs[:, c]) for c in present]
    return float(np.mean(aucs))


def average_precision(probs: np.ndarray, labels: np.ndarray, task: str) -> float:
    """Mean per-label average precision (area under the precision-recall
    curve, scikit-learn's step-wise definition). Multi-label: mean over the
    labels with at least one positive; binary: AP of the positive class;
    multi-class: one-vs-rest macro AP over the classes present. NaN when
    undefined (no positive at all)."""
    if task == "multi-label":
        aps = [average_precision_score(labels[:, j], probs[:, j])
               for j in range(labels.shape[1]) if labels[:, j].sum() > 0]
        return float(np.mean(aps)) if aps else float("nan")
    if task == "binary" or probs.shape[1] == 2:
        if not np.any(labels == 1):
            return float("nan")
        return float(average_precision_score(labels == 1, probs[:, 1]))
    aps = [average_precision_score(labels == c, probs[:, c]) for c in np.unique(labels)]
    return float(np.mean(aps)) if aps else float("nan")


def scores(probs: np.ndarray, labels: np.ndarray, task: str) -> dict:
    return {"acc": accuracy(probs, labels, task), "auc": auc(probs, labels, task),
            "ap": average_precision(probs, labels, task)}


def left_out(labels: np.ndarray, task: str, n_outputs: int | None = None) -> dict:
    """How many labels (multi-label) or classes (multi-class) of a split the
    AUC and AP averages leave out: {"n_outputs", "auc_left_out", "ap_left_out"}.
    Multi-label: AUC drops labels without a positive or without a negative, AP
    labels without a positive. Multi-class: both drop the classes absent from
    the split (of ``n_outputs``). Binary: one score, nothing is averaged (0)."""
    y = np.asarray(labels)
    if task == "multi-label":
        y = y.reshape(len(y), -1)
        pos = (y > 0.5).sum(axis=0)
        return {"n_outputs": int(y.shape[1]),
                "auc_left_out": int(np.sum((pos == 0) | (pos == len(y)))),
                "ap_left_out": int(np.sum(pos == 0))}
    y = y.reshape(-1)
    k = int(n_outputs) if n_outputs is not None else int(y.max()) + 1 if y.size else 0
    if task == "binary":
        return {"n_outputs": k, "auc_left_out": 0, "ap_left_out": 0}
    absent = k - len(np.unique(y))
    return {"n_outputs": k, "auc_left_out": int(absent), "ap_left_out": int(absent)}
