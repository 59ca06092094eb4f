"""Every CUDA-specific branch, on a real GPU (``pytest -m cuda``; ``make gpu-check``).

Without CUDA every test here is collected and skipped ("no CUDA device").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.strategies.coreset import k_center_greedy
from alvae.training.engine import DevicePool, TrainConfig, _prepare, build_model, infer, train_model
from conftest import REPO

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]

TM = {"weights": None, "grayscale": "repeat", "input_size": None}
LOOP_TM = dict(TM, lr=0.01, momentum=0.9, batch_size=32, epochs_initial=3, epochs_per_round=1,
               eval_batch_size=512, precision="auto", train_until=None,
               deterministic=True)
LLOSS = {"margin": 1.0, "weight": 1.0, "hidden": 16, "detach_after": 0.6}
QUIET = lambda msg: None  # noqa: E731


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.endswith("_time_s")} for r in rows]


@pytest.fixture(scope="module")
def digits():
    return draw_subset(load_digits_dataset(), 600, seed=0)


@pytest.fixture(scope="module")
def learnable():
    """28×28 images whose class is a bright square's position: learnable in a few steps."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 512)
    images = rng.integers(0, 40, (512, 1, 28, 28), dtype=np.uint8)
    for i, c in enumerate(labels):
        r, q = divmod(int(c), 2)
        images[i, 0, r * 14:r * 14 + 14, q * 14:q * 14 + 14] += 200
    return images, labels


def test_bf16_training_step_loss_falls(learnable):
    images, labels = learnable
    pool = DevicePool(images, labels, "multi-class", "cuda")
    model = build_model("multi-class", 4, 1, TM, 0, "cuda")
    cfg = TrainConfig.from_config({"lr": 0.01, "batch_size": 64, "precision": "bf16"})
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits, _, _ = model(_prepare(model, pool, torch.arange(8, device="cuda"), "bf16"))
    assert logits.dtype == torch.bfloat16  # autocast is on in the engine's path
    first = train_model(model, pool, np.arange(512), 1, cfg, 0, log=QUIET)
    later = train_model(model, pool, np.arange(512), 3, cfg, 1, log=QUIET)
    assert np.isfinite(first["train_loss"]) and later["train_loss"] < 0.5 * first["train_loss"]
    assert later["train_acc"] > 0.9


def test_channels_last_input_and_weights(learnable):
    images, labels = learnable
    pool = DevicePool(images, labels, "multi-class", "cuda")
    model = build_model("multi-class", 4, 1, TM, 0, "cuda")
    x = _prepare(model, pool, torch.arange(16, device="cuda"), "bf16")
    assert x.shape == (16, 3, 28, 28)
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert model.net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    cpu = build_model("multi-class", 4, 1, TM, 0, "cpu")  # same seed, same init
    torch.testing.assert_close(model.net.conv1.weight.cpu(), cpu.net.conv1.weight)


def test_feature_and_score_pass_bf16_close_to_float32(learnable):
    """bf16 autocast against float32 on the same trained model. Tolerance:
    features within 5 % relative L2 error overall, probabilities within 0.05
    absolute; float32 on CUDA against the CPU: 1 % / 0.01 (TF32 convolutions)."""
    images, labels = learnable
    pool = DevicePool(images, labels, "multi-class", "cuda")
    model = build_model("multi-class", 4, 1, TM, 0, "cuda")
    train_model(model, pool, np.arange(512), 2, TrainConfig.from_config({"lr": 0.01, "batch_size": 64}), 0, log=QUIET)
    idx = np.arange(512)
    bf = infer(model, pool, idx, TrainConfig.from_config({"precision": "bf16", "eval_batch_size": 128}))
    f32 = infer(model, pool, idx, TrainConfig.from_config({"precision": "fp32", "eval_batch_size": 128}))
    rel = (bf["features"] - f32["features"]).norm() / f32["features"].norm()
    assert rel < 0.05, float(rel)
    assert (bf["probs"] - f32["probs"]).abs().max() < 0.05
    assert (bf["probs"].argmax(1) == f32["probs"].argmax(1)).float().mean() > 0.97
    cpu_model = build_model("multi-class", 4, 1, TM, 0, "cpu")
    cpu_model.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})
    cpu = infer(cpu_model, DevicePool(images, labels, "multi-class", "cpu"), idx,
                TrainConfig.from_config({"precision": "fp32", "eval_batch_size": 128}))
    rel_cpu = (f32["features"].cpu() - cpu["features"]).norm() / cpu["features"].norm()
    assert rel_cpu < 0.01, float(rel_cpu)
    assert (f32["probs"].cpu() - cpu["probs"]).abs().max() < 0.01


def test_k_center_greedy_same_picks_on_cuda_as_on_cpu():
    """Continuous random features: no near-ties at this size (checked in float64:
    the CPU float64 picks are the same too)."""
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((4100, 64)).astype(np.float32)
    cand, lab = torch.from_numpy(feats[100:]), torch.from_numpy(feats[:100])
    cpu = k_center_greedy(cand, lab, 300)
    gpu = k_center_greedy(cand.cuda(), lab.cuda(), 300)
    exact = k_center_greedy(cand.double(), lab.double(), 300)
    np.testing.assert_array_equal(cpu, exact)
    np.testing.assert_array_equal(gpu, cpu)


@pytest.mark.parametrize("strategy", ["lloss", "lloss_vae"])
def test_lloss_trains_on_cuda(digits, strategy):
    latents = np.random.default_rng(0).normal(size=(len(digits), 8)).astype(np.float32)
    al = {"initial_labels": 100, "labels_per_round": 50, "final_labels": 200}
    lines = []
    rows, picks = run_loop(digits, RunSpec(strategy, 0, al, LOOP_TM, LLOSS, alpha="auto"), latents=latents,
                           device="cuda", log=lines.append)
    assert [r["n_labels"] for r in rows] == [100, 150, 200]
    assert all(np.isfinite(r["train_loss"]) and 0 <= r["test_acc"] <= 1 for r in rows)
    chosen = np.concatenate(list(picks.values()))
    assert len(np.unique(chosen)) == 200
    assert not any("nan" in ln.lower() for ln in lines if "train_loss" in ln)


def test_vae_on_cuda(digits):
    from alvae.representations.vae import encode_means, train_vae

    model, hist = train_vae(digits.pool_images, latent_dim=8, epochs=4, batch_size=64, seed=0,
                            device="cuda", log=QUIET)
    assert next(model.parameters()).is_cuda
    assert hist[-1]["loss"] < hist[0]["loss"]
    z = encode_means(model, digits.pool_images, device="cuda")
    assert z.shape == (len(digits), 8) and np.isfinite(z).all()
    cpu_model, cpu_hist = train_vae(digits.pool_images, latent_dim=8, epochs=4, batch_size=64,
                                    seed=0, device="cpu", log=QUIET)
    assert hist[-1]["loss"] == pytest.approx(cpu_hist[-1]["loss"], rel=0.2)


LEASE = r"""
import json, os, sys
import torch
from alvae.training.devices import lease_device, visible_gpus
gpus = visible_gpus()
with lease_device(True, 2, sys.argv[1], log=lambda m: None) as dev:
    x = torch.ones(1000, device=dev)
    print(json.dumps({"gpus": gpus, "device": dev, "visible": os.environ["CUDA_VISIBLE_DEVICES"],
                      "count": torch.cuda.device_count(), "sum": float(x.sum()),
                      "name": torch.cuda.get_device_name(0)}))
"""


def test_leases_over_real_cuda_visible_devices(tmp_path):
    """Two jobs (jobs_per_gpu 2) lease slots of the real GPUs; each sees one GPU."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO / "src")] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    env.pop("ALVAE_FAKE_GPUS", None)
    procs = [subprocess.Popen([sys.executable, "-c", LEASE, str(tmp_path)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    for o in outs:
        assert o["gpus"], "no GPU listed by CUDA_VISIBLE_DEVICES or nvidia-smi"
        assert o["device"] == "cuda:0" and o["count"] == 1 and o["sum"] == 1000.0
        assert o["visible"] in o["gpus"]


def test_deterministic_runs_repeat_exactly_on_cuda(digits):
    al = {"initial_labels": 60, "labels_per_round": 60, "final_labels": 180}
    a = run_loop(digits, RunSpec("coreset", 3, al, LOOP_TM, {}), device="cuda", log=QUIET)
    b = run_loop(digits, RunSpec("coreset", 3, al, LOOP_TM, {}), device="cuda", log=QUIET)
    assert _strip(a[0]) == _strip(b[0])
    for key in a[1]:
        np.testing.assert_array_equal(a[1][key], b[1][key])
    # paired design: another strategy of the seed starts from the same round-0 model
    c = run_loop(digits, RunSpec("entropy", 3, dict(al, final_labels=60), LOOP_TM, {}), device="cuda",
                 log=QUIET)
    assert _strip(c[0])[0] == _strip(a[0])[0]


@pytest.mark.parametrize("kind", ["vae", "cvae", "gmvae"])
def test_representation_kinds_train_on_cuda(digits, kind):
    from alvae.representations import train_representation

    cfg = {"latent_dim": 8, "epochs": 3, "lr": 1e-3, "weight_decay": 0.0, "batch_size": 64,
           "gmvae": {"components": 4, "pretrain_epochs": 1}}
    labeled = np.arange(0, len(digits), 5) if kind == "cvae" else None
    res = train_representation(kind, digits.pool_images, digits.pool_labels, labeled,
                               task=digits.task, n_classes=digits.n_classes, rep_cfg=cfg, seed=0,
                               device="cuda")
    assert res.latents.shape[0] == len(digits) and np.isfinite(res.latents).all()
    losses = [h["loss"] for h in res.losses if h.get("phase", "gmm") == "gmm"]
    assert losses[-1] < losses[0]
    warm = train_representation(kind, digits.pool_images, digits.pool_labels, labeled,
                                task=digits.task, n_classes=digits.n_classes, rep_cfg=cfg, seed=1,
                                device="cuda", init_state=res.state, epochs=1)
    assert np.isfinite(warm.latents).all() and not np.array_equal(warm.latents, res.latents)


def test_vaal_and_per_round_retraining_on_cuda(digits):
    from alvae.representations import train_representation
    from alvae.representations.retrain import RoundRetrainer

    al = {"initial_labels": 60, "labels_per_round": 40, "final_labels": 140}
    rows, picks = run_loop(digits,
                           RunSpec("vaal", 0, al, LOOP_TM, {},
                                   strategy_options={"epochs": 2, "batch_size": 32, "width": 8,
                                         "latent_dim": 8, "image_size": 16}),
                           device="cuda", log=QUIET)
    assert [r["n_labels"] for r in rows] == [60, 100, 140]
    assert len(np.unique(np.concatenate(list(picks.values())))) == 140
    cfg = {"latent_dim": 8, "epochs": 2, "lr": 1e-3, "weight_decay": 0.0, "batch_size": 64}
    res = train_representation("vae", digits.pool_images, digits.pool_labels, None,
                               task=digits.task, n_classes=digits.n_classes, rep_cfg=cfg, seed=0,
                               device="cuda")
    retrainer = RoundRetrainer("vae", cfg, 1, res.state, res.latents, 0, torch.device("cuda"),
                               QUIET)
    rows, _ = run_loop(digits, RunSpec("coreset_vae", 0, al, LOOP_TM, {}), latents=res.latents, device="cuda",
                       log=QUIET, retrainer=retrainer)
    assert len(rows) == 3 and all(np.isfinite(r["test_acc"]) for r in rows)
    assert not np.array_equal(retrainer.history["round_0"], retrainer.history["round_2"])
