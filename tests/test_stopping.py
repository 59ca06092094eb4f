"""Issue 26: the stopping rule of every round (``task_model.train_until``) and the number
format (``task_model.precision``), in the library. Their workflow tests are in
tests/test_classifier_workflow.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.training import precision
from alvae.training.engine import DevicePool, StopRule, TrainConfig, build_model, infer, train_model

QUIET = lambda msg: None  # noqa: E731
TM = {"weights": None, "input_size": None, "grayscale": "repeat", "batch_size": 16,
      "eval_batch_size": 256}


@pytest.fixture(scope="module")
def digits():
    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    return DevicePool(sub.pool_images, sub.pool_labels, sub.task, "cpu"), sub


def _train(digits, tm, n=48, planned=1, log=QUIET):
    pool, sub = digits
    cfg = TrainConfig.from_config(dict(TM, **tm))
    model = build_model(sub.task, sub.n_classes, 1, dict(TM, **tm), 0, "cpu")
    return train_model(model, pool, np.arange(n), planned, cfg, 0, log=log)


# ------------------------------------------------------------------ the rule itself
def test_stop_rule_defaults_come_from_the_schema():
    rule = StopRule.from_config({})
    assert (rule.train_acc, rule.max_epochs, rule.patience, rule.min_delta) == (0.99, 100, 10, 0.001)
    assert StopRule.from_config(None) is None
    assert TrainConfig.from_config({}).train_until is None  # off by default: the thesis's epochs


def test_saturation_compares_the_last_patience_epochs_with_the_best_before():
    rule = StopRule(0.99, 100, patience=2, min_delta=0.01)
    assert not rule.saturated([0.5, 0.6])                    # not enough epochs yet
    assert not rule.saturated([0.5, 0.6, 0.65])              # +0.05 over the best before
    assert rule.saturated([0.5, 0.6, 0.605, 0.61])           # +0.01 at most: saturated
    assert rule.saturated([0.7, 0.6, 0.65])                  # a fall counts as no progress
    assert not StopRule(0.99, 100, None, 0.01).saturated([0.5] * 50)  # patience null: never


# -------------------------------------------------------------- training with it
def test_train_until_reaches_the_target_past_the_planned_epochs(digits):
    stats = _train(digits, {"lr": 0.05, "train_until": {"train_acc": 0.8, "max_epochs": 60,
                                                        "patience": None}}, n=32)
    assert 1 < stats["epochs"] < 60 and stats["train_acc"] >= 0.8
    assert stats["stopped"] == f"train_acc {stats['train_acc']:.4f} >= 0.8"


def test_train_until_stops_at_max_epochs_when_the_target_is_out_of_reach(digits):
    lines = []
    stats = _train(digits, {"lr": 1e-6, "train_until": {"train_acc": 1.0, "max_epochs": 3,
                                                        "patience": None}}, log=lines.append)
    assert stats["epochs"] == 3 and stats["train_acc"] < 1.0
    assert stats["stopped"] == "max_epochs 3 reached, train_acc below 1"
    assert any("stopped after 3 epochs: max_epochs 3 reached" in line for line in lines)
    assert any("epoch 3 (of at most 3)" in line for line in lines)


def test_train_until_stops_when_the_train_accuracy_saturates(digits):
    # lr 0: the weights never change, so the accuracy cannot rise by min_delta 0.5
    stats = _train(digits, {"lr": 1e-12, "train_until": {"train_acc": 1.0, "max_epochs": 50,
                                                         "patience": 2, "min_delta": 0.5}})
    assert stats["epochs"] == 3 and stats["stopped"].startswith("saturated")


def test_planned_epochs_are_the_minimum(digits):
    stats = _train(digits, {"lr": 0.05, "train_until": {"train_acc": 0.01, "max_epochs": 10}},
                   planned=4)
    assert stats["epochs"] == 4  # the target held after one epoch, the plan asks for four


def test_without_a_rule_training_is_the_planned_epochs(digits):
    stats = _train(digits, {"lr": 0.05}, planned=2)
    assert stats["epochs"] == 2 and stats["stopped"] == "planned epochs"


# ------------------------------------------------------------------------ precision
def test_auto_is_fp32_on_a_cpu_without_native_bf16(monkeypatch):
    monkeypatch.setenv("ALVAE_CPU_BF16", "0")
    lines = []
    assert precision.resolve("auto", "cpu", "imagenet", lines.append) == "fp32"
    assert precision.resolve("fp32", "cpu", "small") == "fp32"
    # the reason is the CPU; the stem is not named (it would not have mattered)
    assert lines == ["precision: fp32 on cpu (task_model.precision: auto; ALVAE_CPU_BF16=0)"]


def test_auto_takes_bf16_only_where_the_stem_makes_it_pay(monkeypatch):
    monkeypatch.setenv("ALVAE_CPU_BF16", "1")
    lines = []
    assert precision.resolve("auto", "cpu", "small", lines.append) == "bf16"
    assert precision.resolve("auto", "cpu", "small_pool") == "bf16"
    assert precision.resolve("auto", "cpu", "imagenet", lines.append) == "fp32"
    assert "imagenet stem gains nothing from bf16" in lines[-1]
    assert lines[0].startswith("precision: bf16 on cpu (task_model.precision: auto;")


def test_bf16_is_refused_in_one_line_where_the_cpu_has_no_native_bf16(monkeypatch, digits):
    monkeypatch.setenv("ALVAE_CPU_BF16", "0")
    with pytest.raises(precision.PrecisionError) as err:
        TrainConfig.from_config({"precision": "bf16"}).on("cpu")
    msg = str(err.value)
    assert "task_model.precision: bf16" in msg and "auto or fp32" in msg and "\n" not in msg


def test_the_cpu_probe_reads_the_bf16_flags(monkeypatch):
    monkeypatch.delenv("ALVAE_CPU_BF16", raising=False)
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"amx_bf16": True, "cpu_name": "X"})
    assert precision.cpu_bf16() == (True, "X has amx_bf16")
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx512_bf16": False, "cpu_name": "Y"})
    assert precision.cpu_bf16() == (False, "Y has neither amx_bf16 nor avx512_bf16")


def test_bf16_trains_under_autocast_on_the_cpu(monkeypatch, digits):
    """precision: bf16 runs the engine's autocast path on the CPU (here forced on with
    ALVAE_CPU_BF16=1, so it also runs on a CPU without native bf16, slowly): the logits
    are bf16 inside, the loss finite, the scores float32, the model channels-last."""
    monkeypatch.setenv("ALVAE_CPU_BF16", "1")
    pool, sub = digits
    tm = dict(TM, lr=0.05, precision="bf16", stem="small")
    cfg = TrainConfig.from_config(tm).on("cpu")
    assert cfg.precision == "bf16"
    model = build_model(sub.task, sub.n_classes, 1, tm, 0, "cpu", precision=cfg.precision)
    assert model.net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    with precision.autocast("cpu", "bf16"):
        logits, _, _ = model(model.prepare(pool.images[:4]))
    assert logits.dtype == torch.bfloat16
    stats = train_model(model, pool, np.arange(48), 2, cfg, 0, log=QUIET)
    assert stats["precision"] == "bf16" and np.isfinite(stats["train_loss"])
    probs = infer(model, pool, np.arange(20), cfg)["probs"]
    assert probs.dtype == torch.float32 and torch.allclose(probs.sum(1), torch.ones(20))


def test_fp32_on_the_cpu_keeps_the_default_memory_format(monkeypatch, digits):
    monkeypatch.setenv("ALVAE_CPU_BF16", "1")
    _, sub = digits
    model = build_model(sub.task, sub.n_classes, 1, dict(TM, precision="fp32"), 0, "cpu")
    assert not model.net.conv1.weight.is_contiguous(memory_format=torch.channels_last) or \
        model.net.conv1.weight.shape[-1] == 1


def test_tuning_trials_train_to_the_same_rule():
    """The tuning stage's cross-validation trains each fold through the same engine, so
    task_model.train_until holds in every trial as in every AL round."""
    from alvae.training.tune import cross_validate, cv_folds, labeled_set

    sub = draw_subset(load_digits_dataset(), 200, seed=0)
    data = labeled_set(sub, 40, 0)
    tm = dict(TM, lr=0.05, epochs_initial=1, train_until={"train_acc": 1.0, "max_epochs": 3,
                                                          "patience": None})
    lines = []
    cross_validate(data, tm, cv_folds(data.labels, data.task, 2, 0), "accuracy", 0,
                   log=lines.append)
    stops = [line for line in lines if "stopped after" in line]
    assert len(stops) == 2 and all("stopped after 3 epochs" in s or ">= 1" in s for s in stops)
