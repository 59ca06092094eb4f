"""Classifier recipe options (alvae.training.recipe): off by default and then bit-for-bit
the old training; each option checked on its own."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from alvae.al.loop import RunSpec, run_loop
from alvae.checks import validate_config
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.training.engine import DevicePool, TrainConfig, build_model, train_model
from alvae.training.recipe import (
    augment_uint8,
    make_scheduler,
    planned_epochs,
    split_validation,
    validation_size,
)

QUIET = lambda msg: None  # noqa: E731
TASK_MODEL = {"weights": None, "input_size": None, "lr": 0.001, "momentum": 0.9, "batch_size": 10,
              "epochs_initial": 2, "epochs_per_round": 1, "eval_batch_size": 512,
              "grayscale": "repeat", "train_until": None}
NEW_KEYS = ("stem", "augment", "crop_padding", "hflip", "lr_schedule", "min_steps", "val_fraction")


@pytest.fixture(scope="module")
def digits():
    return draw_subset(load_digits_dataset(), 300, seed=0)


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.endswith("_time_s")} for r in rows]


def test_defaults_reproduce_the_run_without_the_keys(digits):
    defaults = validate_config({"datasets": {"d": {"source": "digits", "subset_size": 1000}},
                               "al": {"initial_labels": 100, "labels_per_round": 100,
                                      "final_labels": 300}})
    tm_defaults = {k: defaults["task_model"][k] for k in NEW_KEYS}
    assert tm_defaults == {"stem": "imagenet", "augment": False, "crop_padding": 4,
                           "hflip": False, "lr_schedule": "none", "min_steps": 0,
                           "val_fraction": 0.0}
    al = {"initial_labels": 30, "labels_per_round": 20, "final_labels": 50}
    a = run_loop(digits, RunSpec("entropy", 0, al, TASK_MODEL, {}), log=QUIET)
    b = run_loop(digits, RunSpec("entropy", 0, al, dict(TASK_MODEL, **tm_defaults), {}), log=QUIET)
    assert _strip(a[0]) == _strip(b[0])
    for k in a[1]:
        np.testing.assert_array_equal(a[1][k], b[1][k])


def test_augment_is_a_seeded_crop_of_the_padded_batch():
    rng = np.random.default_rng(0)
    imgs = torch.as_tensor(rng.integers(1, 256, (6, 2, 5, 7), dtype=np.uint8))
    out = augment_uint8(imgs, torch.Generator().manual_seed(3), padding=2, flip=True)
    again = augment_uint8(imgs, torch.Generator().manual_seed(3), padding=2, flip=True)
    assert out.shape == imgs.shape and out.dtype == torch.uint8
    assert torch.equal(out, again)
    padded = np.pad(imgs.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)))
    for i in range(6):  # brute force: some crop (maybe flipped) of the padded image
        crops = [padded[i, :, y:y + 5, x:x + 7] for y in range(5) for x in range(5)]
        crops += [c[..., ::-1] for c in crops]
        assert any(np.array_equal(out[i].numpy(), c) for c in crops)
    flat = augment_uint8(imgs, torch.Generator().manual_seed(3), padding=0, flip=False)
    assert torch.equal(flat, imgs)


def test_planned_epochs_and_cosine_schedule():
    assert planned_epochs(10, 1000, 128, 0) == 10
    assert planned_epochs(10, 1000, 128, 800) == 100  # 8 steps per epoch
    assert planned_epochs(10, 100, 10, 50) == 10  # already enough steps
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = make_scheduler(opt, "cosine", 10)
    lrs = []
    for _ in range(10):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[4] == pytest.approx(0.05) and lrs[-1] == pytest.approx(0.0, abs=1e-12)
    assert make_scheduler(opt, "none", 10) is None
    with pytest.raises(ValueError, match="lr_schedule"):
        make_scheduler(opt, "step", 10)


def test_validation_split_is_seeded_and_disjoint():
    lab = np.arange(0, 200, 2)
    assert validation_size(100, 0.0) == 0 and validation_size(100, 0.1) == 10
    assert validation_size(3, 0.5) == 1  # at least 2 left to train on
    train, val = split_validation(lab, 0.1, seed=5)
    assert len(val) == 10 and len(train) == 90
    assert set(train) | set(val) == set(lab) and not set(train) & set(val)
    np.testing.assert_array_equal(val, split_validation(lab, 0.1, seed=5)[1])
    same, none = split_validation(lab, 0.0, seed=5)
    assert none is None and np.array_equal(same, lab)


def test_holdout_keeps_the_best_epoch(digits):
    pool = DevicePool(digits.pool_images, digits.pool_labels, digits.task, "cpu")
    cfg = TrainConfig.from_config(dict(TASK_MODEL, lr=0.01))
    model = build_model(digits.task, 10, 1, TASK_MODEL, 0, "cpu")
    train, val = split_validation(np.arange(120), 0.25, seed=0)
    logs = []
    train_model(model, pool, train, 5, cfg, 0, log=logs.append, val=val)
    accs = [float(m) for m in re.findall(r"holdout_acc ([0-9.]+)", " ".join(logs[:-1]))]
    assert len(accs) == 5
    best = int(np.argmax(accs)) + 1
    assert logs[-1].endswith(f"kept epoch {best} (holdout_acc {max(accs):.4f})")
    from alvae.training.engine import _holdout_accuracy
    assert _holdout_accuracy(model, pool, val, cfg) == pytest.approx(max(accs), abs=1e-4)


def test_small_stem_keeps_resolution():
    m = build_model("multi-class", 10, 1, dict(TASK_MODEL, stem="small"), 0, "cpu")
    assert m.net.conv1.kernel_size == (3, 3) and m.net.conv1.stride == (1, 1)
    assert isinstance(m.net.maxpool, torch.nn.Identity)
    _, _, blocks = m(torch.zeros(2, 3, 28, 28))
    assert blocks[-1].shape[-1] == 4  # 28 -> 28 -> 14 -> 7 -> 4 (imagenet stem: 1)
    _, _, blocks = build_model("multi-class", 10, 1, TASK_MODEL, 0, "cpu")(torch.zeros(2, 3, 28, 28))
    assert blocks[-1].shape[-1] == 1
    with pytest.raises(ValueError, match="task_model.stem"):
        build_model("multi-class", 10, 1, dict(TASK_MODEL, stem="big"), 0, "cpu")


def test_batch_bounds_merge_a_tiny_last_batch():
    from alvae.training.recipe import batch_bounds, steps_per_epoch

    assert batch_bounds(64, 32) == [(0, 32), (32, 64)]
    assert batch_bounds(33, 32) == [(0, 33)]          # a last batch of 1: merged
    assert batch_bounds(34, 32) == [(0, 34)]          # of 2: merged
    assert batch_bounds(47, 32) == [(0, 47)]          # of 15 (< half a batch): merged
    assert batch_bounds(48, 32) == [(0, 32), (32, 48)]  # of 16 (half a batch): kept
    assert batch_bounds(10, 32) == [(0, 10)]          # fewer points than a batch
    assert batch_bounds(5, 2) == [(0, 2), (2, 5)]     # batch 2: a last point joins the one before
    assert batch_bounds(0, 8) == []
    for n in range(1, 200):
        for b in (2, 3, 10, 32):
            bounds = batch_bounds(n, b)
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(s2 == e1 for (_, e1), (s2, _) in zip(bounds, bounds[1:]))
            sizes = [e - s for s, e in bounds]
            assert max(sizes) < 1.5 * b + 1 and (n < b or min(sizes) * 2 >= b)
            assert min(sizes) >= min(n, 2)
            assert steps_per_epoch(n, b) == len(bounds)


@pytest.mark.parametrize("n", [33, 34])  # last batches of 1 and 2 at batch size 32
def test_tiny_last_batch_trains_to_a_finite_loss(digits, n):
    """Digits at 8x8: ResNet's last stages see 1x1 maps. A last batch of 2 points used
    to blow BatchNorm's running variance up (final train loss 3,440 at n = 34, lr 0.1;
    a batch of 1 was skipped); merged into the batch before, training fits and the
    evaluation is finite."""
    from alvae.training.engine import infer

    pool = DevicePool(digits.pool_images, digits.pool_labels, digits.task, "cpu")
    tm = dict(TASK_MODEL, batch_size=32, lr=0.1)
    cfg = TrainConfig.from_config(tm)
    model = build_model(digits.task, 10, 1, tm, 0, "cpu")
    stats = train_model(model, pool, np.arange(n), 10, cfg, 0, log=QUIET)
    assert np.isfinite(stats["train_loss"]) and stats["train_loss"] < np.log(10)  # below chance
    probs = infer(model, pool, np.arange(len(pool)), cfg)["probs"]
    assert torch.isfinite(probs).all()
    running_var = max(float(m.running_var.max()) for m in model.modules()
                      if isinstance(m, torch.nn.BatchNorm2d))
    assert running_var < 1e4
