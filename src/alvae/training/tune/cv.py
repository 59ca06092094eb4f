"""Cross-validation of a recipe on the round-0 labeled set: the labeled set itself (all a
search may read), the folds (stratified k-fold for single-label tasks, plain k-fold as
the fallback), a fold's score, and the score of each fold of a recipe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import numpy as np

from ...runkey import array_digest, config_hash
from ...schema import with_defaults


@dataclass
class LabeledSet:
    """The round-0 labeled points of one AL seed: all a search may read."""

    images: np.ndarray   # uint8 N x C x H x W
    labels: np.ndarray
    task: str
    n_classes: int
    indices: np.ndarray  # their positions in the pool (recorded, never used to read)
    seed: int

    def digest(self) -> str:
        return config_hash({"images": array_digest(self.images),
                            "labels": array_digest(self.labels), "task": self.task,
                            "n_classes": self.n_classes, "indices": array_digest(self.indices)})


def labeled_set(subset, n_initial: int, seed: int) -> LabeledSet:
    """The labeled set of round 0 of AL seed ``seed`` (the same points every strategy
    of the seed starts from), copied out of the pool."""
    from ...seeds import initial_labeled

    idx = initial_labeled(len(subset), n_initial, seed)
    return LabeledSet(images=np.ascontiguousarray(subset.pool_images[idx]),
                      labels=np.ascontiguousarray(subset.pool_labels[idx]), task=subset.task,
                      n_classes=subset.n_classes, indices=idx, seed=int(seed))


def derived_seed(*parts: int) -> int:
    return int(np.random.default_rng([int(p) for p in parts]).integers(2**31 - 1))


def cv_folds(labels: np.ndarray, task: str, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, val)`` positions in the labeled set for each fold. Single-label
    tasks: stratified by class (scikit-learn's ``StratifiedKFold``, shuffled)
    whenever at least one class has ``folds`` members; a class with fewer lands
    in fewer folds than ``folds`` (as many as it has members), the others are
    still spread evenly. Only when no class has ``folds`` members (scikit-learn
    cannot stratify then), and for multi-label tasks, plain shuffled k-fold."""
    import warnings

    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(labels)
    if folds < 2 or folds > n // 2:
        raise ValueError(f"tune.folds ({folds}) must be in 2..{n // 2} for {n} labeled points")
    rs = derived_seed(seed, 31)
    pos = np.arange(n)
    if task != "multi-label":
        counts = np.bincount(np.asarray(labels, dtype=np.int64))
        if counts.max() >= folds:
            split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=rs)
            with warnings.catch_warnings():  # "the least populated class has only k members"
                warnings.simplefilter("ignore", UserWarning)
                return [(np.sort(a), np.sort(b)) for a, b in split.split(pos, labels)]
    split = KFold(n_splits=folds, shuffle=True, random_state=rs)
    return [(np.sort(a), np.sort(b)) for a, b in split.split(pos)]


def score(probs: np.ndarray, labels: np.ndarray, task: str, metric: str) -> float:
    """The fold score in ``metric``; predictions that are not finite (a diverged
    model) score 0."""
    from ..metrics import accuracy, auc

    if not np.isfinite(probs).all():
        return 0.0
    value = accuracy(probs, labels, task) if metric == "accuracy" else auc(probs, labels, task)
    return 0.0 if not np.isfinite(value) else float(value)


def cross_validate(data: LabeledSet, task_model: Mapping[str, Any], folds, metric: str,
                   seed: int, device="cpu", pool=None,
                   on_epoch: Optional[Callable[[int, int, Callable[[], float]], None]] = None,
                   log: Callable[[str], None] = print, prefix: str = "") -> list[float]:
    """The score of each fold: a fresh model (seeded by the fold) trained on the
    other folds with the recipe ``task_model`` (its round-0 epochs, its hold-out if
    any), scored on the fold. ``folds``: :func:`cv_folds` output. ``on_epoch(fold,
    epoch, score)`` is called after every epoch; ``score()`` computes the fold's
    validation score of the model at that epoch (for pruning)."""
    from ..engine import DevicePool, TrainConfig, build_model, infer, train_model
    from ..recipe import split_validation

    pool = pool if pool is not None else DevicePool(data.images, data.labels, data.task, device)
    cfg = TrainConfig.from_config(task_model).on(pool.device)
    in_ch = data.images.shape[1]
    labels = np.asarray(data.labels)
    val_fraction = with_defaults("task_model", task_model)["val_fraction"]
    out = []
    for f, (train, val) in enumerate(folds):
        fs = derived_seed(seed, f, 41)
        model = build_model(data.task, data.n_classes, in_ch, task_model, fs, pool.device,
                            precision=cfg.precision)
        fit, holdout = split_validation(train, val_fraction, fs)

        def fold_score(m) -> float:
            probs = infer(m, pool, val, cfg)["probs"].float().cpu().numpy()
            return score(probs, labels[val], data.task, metric)

        hook = None
        if on_epoch is not None:
            hook = lambda epoch, m, _f=f: on_epoch(_f, epoch, lambda: fold_score(m))  # noqa: E731
        train_model(model, pool, fit, task_model["epochs_initial"], cfg, fs, log=log,
                    log_prefix=f"{prefix}fold {f + 1}/{len(folds)} ", val=holdout, on_epoch=hook)
        out.append(fold_score(model))
        log(f"{prefix}fold {f + 1}/{len(folds)} {metric} {out[-1]:.4f}")
    return out
