"""The all-labels ceiling (alvae.training.ceiling): what it reads, how long it trains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_digits

from alvae.analysis.pages.ceiling import share_rst
from alvae.data.loaders import Subset
from alvae.training import ceiling, engine

AL = {"initial_labels": 40, "labels_per_round": 40, "final_labels": 120}
TASK_MODEL = {"weights": None, "input_size": None, "batch_size": 32, "epochs_initial": 1,
              "epochs_per_round": 1, "eval_batch_size": 512, "lr": 0.01, "momentum": 0.9,
              "weight_decay": 0.0, "precision": "fp32", "deterministic": True}
quiet = dict(log=lambda s: None)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread, as the workflow's jobs use (on a shared, loaded CPU two
    threads spin against each other: ten times slower here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def subset():
    d = load_digits()
    images = np.round(d.images * (255 / 16)).astype(np.uint8)[:, None]
    labels = d.target.astype(np.int64)
    return Subset("digits", "multi-class", [str(i) for i in range(10)], np.arange(160),
                  images[:160], labels[:160], images[1500:1600], labels[1500:1600])


def _replace(sub, **kw):
    return Subset(**{**sub.__dict__, **kw})


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa)


def test_training_length_is_the_last_al_round():
    assert ceiling.final_round(600, 40, 40, 120) == 2
    assert ceiling.final_round(100, 40, 40, 1000) == 2  # capped at the pool: 40 -> 80 -> 100
    assert ceiling.final_round(100, 40, 25, 110) == 3
    assert ceiling.final_round(100, 100, 10, 300) == 0
    assert ceiling.ceiling_epochs({"epochs_initial": 10, "epochs_per_round": 5}, 6) == 40


def test_ceiling_trains_on_every_pool_label_and_evaluates_the_test_split_after(subset, monkeypatch):
    events = []
    real_pool, real_train, real_eval = engine.DevicePool, engine.train_model, engine.evaluate

    class SpyPool(real_pool):
        def __init__(self, images, labels, task, device):
            which = next(name for name, arr in (("pool", subset.pool_images),
                                                ("test", subset.test_images)) if arr is images)
            events.append(("split", which))
            super().__init__(images, labels, task, device)

    def spy_train(model, pool, labeled, *args, **kw):
        events.append(("train", np.sort(np.asarray(labeled))))
        return real_train(model, pool, labeled, *args, **kw)

    def spy_eval(model, pool, cfg):
        events.append(("evaluate", len(pool)))
        return real_eval(model, pool, cfg)

    monkeypatch.setattr(engine, "DevicePool", SpyPool)
    monkeypatch.setattr(engine, "train_model", spy_train)
    monkeypatch.setattr(engine, "evaluate", spy_eval)
    row, _ = ceiling.train_ceiling(subset, 0, AL, TASK_MODEL, **quiet)
    kinds = [e[0] for e in events]
    assert kinds == ["split", "train", "split", "evaluate"]
    assert events[0] == ("split", "pool") and events[2] == ("split", "test")
    assert np.array_equal(events[1][1], np.arange(160))  # every pool point, with its label
    assert row["n_labels"] == 160 and row["round_equivalent"] == 2 and row["epochs"] == 3
    assert 0.0 <= row["test_acc"] <= 1.0 and np.isnan(row["val_acc"])


def test_test_split_never_changes_the_trained_model(subset):
    row, model = ceiling.train_ceiling(subset, 0, AL, TASK_MODEL, **quiet)
    rng = np.random.default_rng(1)
    shuffled = _replace(subset, test_labels=rng.permutation(subset.test_labels),
                        test_images=subset.test_images[rng.permutation(len(subset.test_images))])
    row2, model2 = ceiling.train_ceiling(shuffled, 0, AL, TASK_MODEL, **quiet)
    assert _same_weights(model, model2)
    # the rows are evaluated on what they were given: the scores of the shuffled split differ
    # (AUC, not accuracy: a short run near chance may predict one class for every image,
    # whose accuracy a shuffle keeps)
    assert row2["train_loss"] == row["train_loss"] and row2["test_auc"] != row["test_auc"]
    # ... while the pool's labels do
    relabeled = _replace(subset, pool_labels=rng.permutation(subset.pool_labels))
    _, model3 = ceiling.train_ceiling(relabeled, 0, AL, TASK_MODEL, **quiet)
    assert not _same_weights(model, model3)


def test_validation_hold_out_comes_from_the_pool(subset, monkeypatch):
    seen = {}
    real_train = engine.train_model

    def spy(model, pool, labeled, epochs, cfg, seed, module, extra, log, prefix, val=None):
        seen["train"], seen["val"] = np.asarray(labeled), np.asarray(val)
        return real_train(model, pool, labeled, epochs, cfg, seed, module, extra, log, prefix, val)

    monkeypatch.setattr(engine, "train_model", spy)
    ceiling.train_ceiling(subset, 0, AL, {**TASK_MODEL, "val_fraction": 0.1}, **quiet)
    assert len(seen["val"]) == 16
    assert np.array_equal(np.sort(np.concatenate([seen["train"], seen["val"]])), np.arange(160))


def test_table_lines_and_shares(tmp_path, subset):
    paths = []
    for seed, acc in ((0, 0.9), (1, 0.8)):
        p = tmp_path / f"seed{seed}.csv"
        ceiling.write_row({"seed": seed, "n_labels": 160, "test_acc": acc, "test_auc": 0.99}, p)
        paths.append(("digits", seed, p))
    table = ceiling.ceiling_table(paths)
    assert list(table.columns) == ceiling.COLUMNS and len(table) == 2
    means = ceiling.ceiling_means(table, "digits")
    assert means["test_acc"] == (pytest.approx(0.85), 2, 160)
    summary = pd.DataFrame([
        {"dataset": "digits", "strategy": s, "n_labels": n, "metric": "test_acc", "mean": m}
        for s, pts in (("random", ((40, 0.5), (120, 0.68))), ("coreset", ((40, 0.5), (120, 0.765))))
        for n, m in pts])
    text = share_rst(summary, table, {"digits": "test_acc"})
    assert "reaches 0.8500 (mean of 2 seeds)" in text
    assert "coreset: 0.7650 at 120 labels, 90.0% of the ceiling." in text
    assert "random: 0.6800 at 120 labels, 80.0% of the ceiling." in text
    assert "not trained" in share_rst(summary, ceiling.ceiling_table([]), {})
