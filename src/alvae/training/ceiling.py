"""The all-labels ceiling: what the task model reaches with every label of the pool.

One training per dataset and AL seed (rule ``ceiling``, on or off with
``ceiling.enabled``) on the whole pool with all its labels, with the recipe the
AL runs use, so that each learning curve can be read against it:

* the same task model and training engine (:func:`alvae.training.engine.train_model`,
  the ``task_model`` settings: optimiser, batch, augmentation, schedule,
  ``min_steps``, ``val_fraction`` held out of the pool's labels);
* the training length of the AL run's last round: ``epochs_initial + R ·
  epochs_per_round``, then ``task_model.train_until`` when set (the same stopping rule
  as every AL round, so the ceiling is a converged model where the rounds are) with R the number of rounds from ``al.initial_labels`` to
  ``al.final_labels`` (capped at the pool) in steps of ``al.labels_per_round``;
  that round's seed fixes the initial weights and the batch order
  (:func:`alvae.seeds.round_seed`). So the ceiling is the last round's training
  with all the pool's labels instead of ``final_labels`` of them.

It reads the pool's images and labels, and the test (and val) split only to
evaluate the trained model (tested: the trained weights do not change when the
test labels or images do).

With ``task_model.recipe: tuned`` the ceiling trains with the recipe.yaml of the tuning
stage that the AL runs of its seed use (laid over ``task_model`` by
:func:`alvae.training.tune.apply_recipe`, in the rule's script).

The report's section on each strategy's share of the ceiling is written by
alvae.analysis.pages.ceiling from :func:`ceiling_means` (training imports no analysis).
"""

from __future__ import annotations

import csv
import math
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from ..schema import with_defaults

COLUMNS = ["dataset", "seed", "n_labels", "n_pool", "round_equivalent", "test_acc", "test_auc",
           "test_ap", "val_acc", "val_auc", "val_ap", "train_acc", "train_loss", "epochs",
           "train_time_s"]
METRICS = ("test_acc", "test_auc", "test_ap")


def final_round(n_pool: int, initial_labels: int, labels_per_round: int, final_labels: int) -> int:
    """The number of the AL run's last round: rounds from ``initial_labels`` to
    ``min(final_labels, n_pool)`` in steps of ``labels_per_round`` (the last
    step may be smaller), as :func:`alvae.al.loop.run_loop` runs them."""
    final = min(int(final_labels), int(n_pool))
    if final <= initial_labels:
        return 0
    return math.ceil((final - int(initial_labels)) / int(labels_per_round))


def ceiling_epochs(task_model: Mapping, rnd: int) -> int:
    """Epochs of round ``rnd`` in the AL runs (before ``min_steps`` raises them)."""
    return int(task_model["epochs_initial"]) + int(rnd) * int(task_model["epochs_per_round"])


def train_ceiling(subset, seed: int, al: Mapping, task_model: Mapping, device="cpu",
                  log: Callable[[str], None] = print, task_features: Mapping | None = None):
    """Train the task model on every pool point with its label and evaluate it.

    ``al``: ``initial_labels``, ``labels_per_round``, ``final_labels`` (they fix the
    training length and the seed, see the module docstring). ``task_features``: for a
    frozen-feature head (``task_model.arch`` linear or mlp), the features of the pool,
    test and val images, as the AL runs get them (:mod:`alvae.training.head`). Returns
    ``(row, model)``: ``row`` with the columns of :data:`COLUMNS` but ``dataset``."""
    import torch

    from ..seeds import round_seed
    from . import determinism
    from .engine import DevicePool, TrainConfig, build_model, evaluate, train_model
    from .head import check_features, is_head, standardize
    from .recipe import split_validation

    tm = with_defaults("task_model", task_model)  # the config's section, or partial in library use
    n_pool = len(subset.pool_labels)
    rnd = final_round(n_pool, al["initial_labels"], al["labels_per_round"], al["final_labels"])
    epochs = ceiling_epochs(task_model, rnd)
    rs = round_seed(int(seed), rnd)
    determinism.configure(tm["deterministic"], log)
    dev = torch.device(device)
    cfg = TrainConfig.from_config(dict(task_model), {}).on(dev, log)
    n_val = None if subset.val_images is None else len(subset.val_images)
    if is_head(task_model):
        check_features(task_features, n_pool, len(subset.test_images), n_val)
        pool_x, test_x, val_x = standardize(task_features["pool"], task_features["test"],
                                            task_features.get("val"))
    else:
        pool_x, test_x, val_x = subset.pool_images, subset.test_images, subset.val_images
    in_ch = pool_x.shape[1]
    pool = DevicePool(pool_x, subset.pool_labels, subset.task, dev)
    everything = np.arange(n_pool, dtype=np.int64)
    train, holdout = split_validation(everything, tm["val_fraction"], rs)
    tag = f"[{subset.name}/ceiling/seed{seed}] "
    log(f"{tag}all {n_pool} pool labels; the recipe of AL round {rnd} ({epochs} epochs, seed "
        f"{rs}){'' if holdout is None else f'; {len(holdout)} of them held out for validation'}")
    model = build_model(subset.task, subset.n_classes, in_ch, dict(task_model), rs, dev,
                        precision=cfg.precision)
    stats = train_model(model, pool, train, epochs, cfg, rs, None, None, log,
                        f"{tag}labels {n_pool} ", holdout)
    del pool  # training is over: from here on only evaluation
    test = DevicePool(test_x, subset.test_labels, subset.task, dev)
    m = evaluate(model, test, cfg)
    if subset.val_images is not None:
        mv = evaluate(model, DevicePool(val_x, subset.val_labels, subset.task, dev), cfg)
    else:
        mv = {"acc": math.nan, "auc": math.nan, "ap": math.nan}
    row = {"seed": int(seed), "n_labels": n_pool, "n_pool": n_pool, "round_equivalent": rnd,
           "test_acc": m["acc"], "test_auc": m["auc"], "test_ap": m["ap"],
           "val_acc": mv["acc"], "val_auc": mv["auc"], "val_ap": mv["ap"],
           **{k: stats[k] for k in ("train_acc", "train_loss", "epochs", "train_time_s")}}
    log(f"{tag}labels {n_pool} | epochs {stats['epochs']} | train_acc {stats['train_acc']:.4f} | "
        f"test_acc {m['acc']:.4f} | test_auc {m['auc']:.4f} | train {stats['train_time_s']:.1f}s")
    return row, model


def write_row(row: Mapping, path) -> None:
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerow({k: row.get(k) for k in COLUMNS})


def ceiling_table(records) -> pd.DataFrame:
    """``(dataset, seed, path)`` records of the ceiling jobs -> one table (COLUMNS)."""
    frames = []
    for dataset, seed, path in records:
        df = pd.read_csv(path)
        df["dataset"], df["seed"] = str(dataset), int(seed)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS].sort_values(["dataset", "seed"],
                                                                      kind="stable")


def ceiling_means(table: pd.DataFrame, dataset: str) -> dict:
    """metric -> (mean over seeds, n seeds, pool size) of one dataset's ceiling."""
    d = table[table["dataset"] == dataset]
    out = {}
    for metric in METRICS:
        if metric in d and d[metric].notna().any():
            v = d[metric].dropna()
            out[metric] = (float(v.mean()), int(len(v)), int(d["n_labels"].max()))
    return out
