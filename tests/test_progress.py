"""Progress lines of the trainers inside a job (alvae.logs.Progress): their cadence, that
every trainer writes them, and that writing them never changes a result."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.logs import Progress, format_duration

LINE = re.compile(r"^(?P<name>.+) (?P<unit>\w+) (?P<i>\d+)/(?P<n>\d+) \((?P<pct>[\d.]+) %\)"
                  r"(?P<losses>( \w+ -?\d+\.\d{4})*) \| (?P<el>\S+) elapsed, ~(?P<left>\S+) left$")


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_format_duration():
    assert [format_duration(s) for s in (0, 44.6, 65, 3599, 7620)] == [
        "0s", "45s", "1m05s", "59m59s", "2h07m"]


def test_a_line_every_percent_or_30_seconds_whichever_first():
    clock, lines = Clock(), []
    meter = Progress("vaal", 1000, lines.append, clock=clock)
    asked = []

    def losses():
        asked.append(meter.done)
        return {"vae_loss": 1.5, "disc_loss": torch.tensor(0.25, requires_grad=True)}

    for _ in range(1000):
        clock.t += 0.5  # 0.5 s a step: 1 % (10 steps) = 5 s < 30 s
        meter.step(losses)
    done = [int(LINE.match(ln)["i"]) for ln in lines]
    assert done == [1] + list(range(10, 1001, 10))  # the first step, then every 1 %
    assert asked == done  # the losses are read only for a line
    m = LINE.match(lines[1])
    assert m["name"] == "vaal" and m["unit"] == "iteration" and m["pct"] == "1.0"
    assert m["losses"] == " vae_loss 1.5000 disc_loss 0.2500"
    assert (m["el"], m["left"]) == ("5s", "8m15s")  # 10 steps in 5 s, 990 to go

    clock, lines = Clock(), []
    slow = Progress("vae", 20_000, lines.append, unit="batch", clock=clock)
    for _ in range(300):
        clock.t += 0.25  # 1 % = 200 steps = 50 s: the 30-s rule comes first
        slow.step()
    assert [int(LINE.match(ln)["i"]) for ln in lines] == [1, 121, 200]  # 30 s, then 1 %
    assert LINE.match(lines[1])["losses"] == ""

    clock, lines = Clock(), []
    fast = Progress("task model", 50, lines.append, clock=clock)
    for _ in range(50):
        clock.t += 0.3  # 1 % is under a step; lines at least 1 s apart
        fast.step()
    done = [int(LINE.match(ln)["i"]) for ln in lines]
    assert done[0] == 1 and done[-1] == 50 and np.all(np.diff(done)[:-1] == 4)


def test_extend_counts_extra_steps():
    clock, lines = Clock(), []
    meter = Progress("x", 10, lines.append, clock=clock)
    for _ in range(10):
        meter.step()
    meter.extend(5)
    for _ in range(5):
        clock.t += 2
        meter.step()
    assert lines[-1].startswith("x iteration 15/15 (100.0 %)")


@pytest.fixture(scope="module")
def sub():
    return draw_subset(load_digits_dataset(), 120, seed=0)


def _train_all(sub, log):
    """One small run of every trainer; returns what each produced."""
    from alvae.representations import train_representation
    from alvae.schema import defaults
    from alvae.strategies.vaal import train_vaal
    from alvae.training.engine import DevicePool, TrainConfig, build_model, train_model

    out = {}
    cfg = {"latent_dim": 4, "epochs": 2, "lr": 1e-3, "weight_decay": 5e-3, "batch_size": 32,
           "gmvae": {"pretrain_epochs": 1}}
    for kind in ("vae", "cvae", "gmvae"):
        res = train_representation(kind, sub.pool_images, sub.pool_labels, np.arange(20),
                                   task=sub.task, n_classes=sub.n_classes, rep_cfg=cfg, seed=1,
                                   log=log)
        out[kind] = res.latents
    vae, disc, _ = train_vaal(torch.from_numpy(sub.pool_images), np.arange(20), np.arange(20, 120),
                              {**defaults("vaal"), "width": 4, "latent_dim": 4, "epochs": 1,
                               "batch_size": 30}, 0, log=log)
    out["vaal"] = torch.cat([p.detach().flatten() for p in disc.parameters()]).numpy()
    tm = {"weights": None, "input_size": None, "lr": 0.01, "momentum": 0.9, "batch_size": 16,
          "epochs_initial": 2, "epochs_per_round": 0, "eval_batch_size": 256,
          "grayscale": "repeat", "train_until": None}
    model = build_model(sub.task, sub.n_classes, 1, tm, 0, "cpu")
    pool = DevicePool(sub.pool_images, sub.pool_labels, sub.task, "cpu")
    train_model(model, pool, np.arange(50), 2, TrainConfig.from_config(tm), 0, log=log)
    out["task model"] = torch.cat([p.detach().flatten() for p in model.parameters()]).numpy()
    return out


@pytest.mark.slow
def test_every_trainer_logs_progress_and_lines_change_nothing(sub, monkeypatch):
    lines = []
    monkeypatch.setattr(Progress, "due", lambda self, now: True)  # a line after every step
    loud = _train_all(sub, lines.append)
    names = {LINE.match(ln)["name"] for ln in lines if LINE.match(ln)}
    assert names == {"vae", "cvae", "gmvae", "vaal", "task model"}
    monkeypatch.setattr(Progress, "due", lambda self, now: False)  # never a line
    silent = _train_all(sub, lambda msg: None)
    for key in loud:
        np.testing.assert_array_equal(loud[key], silent[key], err_msg=key)


def test_per_round_retraining_logs_progress(sub):
    from alvae.representations import train_representation
    from alvae.representations.retrain import RoundRetrainer

    cfg = {"latent_dim": 4, "epochs": 1, "lr": 1e-3, "weight_decay": 5e-3, "batch_size": 32}
    first = train_representation("vae", sub.pool_images, None, None, task=sub.task,
                                 n_classes=sub.n_classes, rep_cfg=cfg, seed=0, log=lambda m: None)
    lines = []
    rt = RoundRetrainer("vae", cfg, 3, first.state, first.latents, seed=0, log=lines.append)
    rt.retrain(1, np.arange(30), sub.pool_images, sub.pool_labels, sub.task, sub.n_classes)
    progress = [LINE.match(ln) for ln in lines if LINE.match(ln)]
    assert progress[0]["i"] == "1" and progress[-1]["i"] == progress[-1]["n"] == str(3 * 4)
    assert all(m["name"] == "vae" and m["unit"] == "batch" and "loss" in m["losses"]
               for m in progress)
