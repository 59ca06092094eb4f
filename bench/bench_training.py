"""Training and feature-pass throughput: our engine against the way peers do it.

Three ways on the same ResNet-18, the same 28×28 images and batch size, in one run:

* ``engine``: alvae's engine (pool on the device as uint8, index batches,
  per-batch normalisation on the device; bf16 + channels-last on CUDA);
* ``dataloader``: a torchvision-style ``Dataset`` of PIL images with
  ``transforms.Compose([Grayscale(3), ToTensor(), Normalize])`` behind a
  ``DataLoader`` (``--workers`` workers, pinned memory on CUDA), float32;
* ``compute_bound``: the model's forward and backward on one batch that is
  already made and on the device: no data handling at all.

Writes JSON (default ``bench/results/training.json``) with images per second
for training and for the feature pass, and the ratios engine/dataloader and
engine/compute_bound.

Optional parts (``make gpu-check`` asks for all three on a GPU):

* ``--compile-modes none default cudagraphs``: the engine with
  ``task_model.compile`` in each mode (:mod:`alvae.training.accel`): the first round's
  seconds (compilation included), then a second round on the same compiled
  module (a fresh seeded model adopted into it, as the AL loop does), timed:
  images/s and the speed-up over ``none``;
* ``--jobs-per-gpu 1 2 4``: that many engine processes training at once on the
  one device (as ``gpu.jobs_per_gpu`` packs AL jobs); their summed images/s;
* ``--deterministic-cost``: the engine with ``task_model.deterministic`` off and
  on (:mod:`alvae.training.determinism`), images/s of each.

    python bench/bench_training.py                 # CPU here
    python bench/bench_training.py --device cuda   # on a GPU machine
    python bench/bench_training.py --compile-modes none default   # compile speed-up on the CPU
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from alvae.training import accel, determinism
from alvae.training.engine import DevicePool, TrainConfig, build_model, infer, train_model


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


class PILDataset(torch.utils.data.Dataset):
    """What a torchvision MNIST dataset does: a PIL image and transforms per sample."""

    def __init__(self, images, labels):
        from torchvision import transforms

        self.images, self.labels = images, labels
        self.tf = transforms.Compose([transforms.Grayscale(3), transforms.ToTensor(),
                                      transforms.Normalize((0.5,) * 3, (0.5,) * 3)])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        return self.tf(Image.fromarray(self.images[i, 0])), int(self.labels[i])


def bench_engine(images, labels, device, batch, epochs, amp):
    cfg = TrainConfig.from_config({"batch_size": batch, "eval_batch_size": 1024,
                                 "precision": "auto" if amp else "fp32"})
    tm = {"weights": None, "grayscale": "repeat", "input_size": None}
    pool = DevicePool(images, labels, "multi-class", device)
    model = build_model("multi-class", 10, 1, tm, 0, device)
    idx = np.arange(len(images))
    quiet = lambda m: None  # noqa: E731
    train_model(model, pool, idx[: batch * 4], 1, cfg, 0, log=quiet)  # warm-up
    sync(device)
    t0 = time.perf_counter()
    train_model(model, pool, idx, epochs, cfg, 1, log=quiet)
    sync(device)
    train = len(idx) * epochs / (time.perf_counter() - t0)
    infer(model, pool, idx[:1024], cfg)
    sync(device)
    t0 = time.perf_counter()
    infer(model, pool, idx, cfg)
    sync(device)
    return train, len(idx) / (time.perf_counter() - t0)


def bench_dataloader(images, labels, device, batch, epochs, workers):
    tm = {"weights": None, "grayscale": "repeat", "input_size": None}
    model = build_model("multi-class", 10, 1, tm, 0, device)
    model.repeat = 1  # the transform already made 3 normalised channels
    ds = PILDataset(images, labels)
    pin = device.type == "cuda"
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers,
                                         pin_memory=pin, drop_last=False,
                                         persistent_workers=workers > 0)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

    def epoch(n_batches=None):
        model.train()
        for i, (x, y) in enumerate(loader):
            if n_batches is not None and i >= n_batches:
                break
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits, _, _ = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    epoch(4)  # warm-up (starts the workers)
    sync(device)
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    sync(device)
    train = len(ds) * epochs / (time.perf_counter() - t0)
    eval_loader = torch.utils.data.DataLoader(ds, batch_size=1024, num_workers=workers,
                                              pin_memory=pin)
    model.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for x, _ in eval_loader:
            model(x.to(device, non_blocking=True))
    sync(device)
    return train, len(ds) / (time.perf_counter() - t0)


def bench_compute_bound(device, batch, n_images, amp):
    tm = {"weights": None, "grayscale": "repeat", "input_size": None}
    model = build_model("multi-class", 10, 1, tm, 0, device)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    x = torch.randn(batch, 3, 28, 28, device=device)
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device)
    use_amp = amp and device.type == "cuda"
    steps = max(1, n_images // batch)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            logits, _, _ = model(x)
            loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    train = steps * batch / (time.perf_counter() - t0)
    model.eval()
    xb = torch.randn(1024, 3, 28, 28, device=device)
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
        model(xb)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(max(1, n_images // 1024)):
            model(xb)
        sync(device)
    return train, max(1, n_images // 1024) * 1024 / (time.perf_counter() - t0)


def bench_compile(images, labels, device, batch, epochs, amp, mode):
    """Engine images/s with ``task_model.compile = mode``: round 0 pays the
    compilation, round 1 (same compiled module, fresh seeded weights) is timed."""
    tm = {"weights": None, "grayscale": "repeat", "input_size": None}
    cfg = TrainConfig.from_config({"batch_size": batch, "eval_batch_size": 1024,
                                 "precision": "auto" if amp else "fp32"})
    pool = DevicePool(images, labels, "multi-class", device)
    idx = np.arange(len(images))
    quiet = lambda m: None  # noqa: E731
    holder = accel.Compiled(mode, device, {batch, 1024}, quiet)
    t0 = time.perf_counter()
    model = holder.adopt(build_model("multi-class", 10, 1, tm, 0, device))
    train_model(model, pool, idx[: batch * 4], 1, cfg, 0, log=quiet)
    infer(model, pool, idx[:2048], cfg)
    sync(device)
    first = time.perf_counter() - t0
    model = holder.adopt(build_model("multi-class", 10, 1, tm, 1, device))
    sync(device)
    t0 = time.perf_counter()
    stats = train_model(model, pool, idx, epochs, cfg, 1, log=quiet)
    sync(device)
    train = len(idx) * epochs / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    probs = infer(model, pool, idx, cfg)["probs"]
    sync(device)
    feats = len(idx) / (time.perf_counter() - t0)
    accel.release(holder)
    return {"mode": accel.effective_mode(mode, device, quiet), "first_round_s": first,
            "train_images_per_s": train, "feature_pass_images_per_s": feats,
            "train_loss": stats["train_loss"], "_probs": probs.float().cpu()}


def job_worker(args) -> None:
    """One packed job: warm up, wait for the start signal, train, report times."""
    device = torch.device(args.device)
    rng = np.random.default_rng(args.job_seed)
    images = rng.integers(0, 256, (args.images, 1, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, args.images)
    cfg = TrainConfig.from_config({"batch_size": args.batch,
                                 "precision": "fp32" if args.no_amp else "auto"})
    tm = {"weights": None, "grayscale": "repeat", "input_size": None}
    pool = DevicePool(images, labels, "multi-class", device)
    model = build_model("multi-class", 10, 1, tm, args.job_seed, device)
    quiet = lambda m: None  # noqa: E731
    train_model(model, pool, np.arange(min(args.batch * 4, args.images)), 1, cfg, 0, log=quiet)
    sync(device)
    Path(args.job_ready).touch()
    while not Path(args.job_go).exists():
        time.sleep(0.005)
    t0 = time.time()
    train_model(model, pool, np.arange(args.images), args.epochs, cfg, 1, log=quiet)
    sync(device)
    print("RESULT " + json.dumps({"start": t0, "end": time.time(),
                                  "images": args.images * args.epochs}), flush=True)


def bench_jobs(k, args, tmp: Path) -> dict:
    """``k`` engine processes training at once on one device: summed images/s."""
    go = tmp / f"go{k}"
    readies = [tmp / f"ready{k}_{j}" for j in range(k)]
    procs = []
    for j in range(k):
        cmd = [sys.executable, __file__, "--device", args.device, "--images", str(args.job_images),
               "--batch", str(args.batch), "--epochs", str(args.epochs), "--job-seed", str(j),
               "--job-ready", str(readies[j]), "--job-go", str(go)]
        if args.no_amp:
            cmd.append("--no-amp")
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=dict(os.environ, OMP_NUM_THREADS="1")))
    deadline = time.time() + 600
    while not all(r.exists() for r in readies):
        if any(p.poll() not in (None, 0) for p in procs) or time.time() > deadline:
            errs = [p.communicate()[1][-2000:] for p in procs if p.poll() not in (None, 0)]
            raise RuntimeError(f"a packed job failed to start: {errs}")
        time.sleep(0.02)
    go.touch()
    res = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"a packed job failed: {err[-2000:]}")
        line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1]
        res.append(json.loads(line[len("RESULT "):]))
    wall = max(r["end"] for r in res) - min(r["start"] for r in res)
    total = sum(r["images"] for r in res)
    return {"jobs": k, "images_per_job": args.job_images * args.epochs, "wall_s": wall,
            "total_train_images_per_s": total / wall,
            "per_job_train_images_per_s": [r["images"] / (r["end"] - r["start"]) for r in res]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--images", type=int, default=None, help="pool size (default 2048 CPU, 50000 GPU)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default 4 GPU, 2 CPU)")
    ap.add_argument("--no-amp", action="store_true")
    ap.add_argument("--out", default="bench/results/training.json")
    ap.add_argument("--compile-modes", nargs="*", default=[], choices=accel.COMPILE_MODES,
                    help="also time the engine under task_model.compile in these modes")
    ap.add_argument("--jobs-per-gpu", nargs="*", type=int, default=[],
                    help="also time this many concurrent engine processes on the device")
    ap.add_argument("--job-images", type=int, default=None,
                    help="pool size of each packed job (default: --images)")
    ap.add_argument("--deterministic-cost", action="store_true",
                    help="also time the engine with task_model.deterministic off and on")
    ap.add_argument("--job-seed", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--job-ready", help=argparse.SUPPRESS)
    ap.add_argument("--job-go", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.job_go:
        job_worker(args)
        return None
    device = torch.device(args.device)
    n = args.images or (50000 if device.type == "cuda" else 2048)
    workers = args.workers if args.workers is not None else (4 if device.type == "cuda" else 2)
    amp = not args.no_amp
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    torch.manual_seed(0)
    eng = bench_engine(images, labels, device, args.batch, args.epochs, amp)
    dl = bench_dataloader(images, labels, device, args.batch, args.epochs, workers)
    cb = bench_compute_bound(device, args.batch, n * args.epochs, amp)
    result = {
        "benchmark": "training throughput, ResNet-18, 28x28, images/s",
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "device_type": device.type, "torch": torch.__version__, "threads": torch.get_num_threads(),
        "images": n, "batch_size": args.batch, "epochs": args.epochs, "dataloader_workers": workers,
        "amp_bf16": amp and device.type == "cuda",
        "train_images_per_s": {"engine": eng[0], "dataloader": dl[0], "compute_bound": cb[0]},
        "feature_pass_images_per_s": {"engine": eng[1], "dataloader": dl[1], "compute_bound": cb[1]},
        "ratios": {
            "train_engine_over_dataloader": eng[0] / dl[0],
            "train_engine_over_compute_bound": eng[0] / cb[0],
            "features_engine_over_dataloader": eng[1] / dl[1],
            "features_engine_over_compute_bound": eng[1] / cb[1],
        },
    }
    print(f"engine {eng[0]:.0f} / dataloader {dl[0]:.0f} / compute bound {cb[0]:.0f} train img/s; "
          f"feature pass {eng[1]:.0f} / {dl[1]:.0f} / {cb[1]:.0f}", flush=True)

    def save():  # after each part: a run cut short keeps what it measured
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")

    save()
    if args.deterministic_cost:
        cost = {}
        for flag in (False, True):
            determinism.configure(flag)
            cost["on" if flag else "off"] = bench_engine(images, labels, device, args.batch,
                                                         args.epochs, amp)[0]
        determinism.configure(False)
        result["deterministic_train_images_per_s"] = cost
        result["deterministic_slowdown"] = cost["off"] / cost["on"]
        print(f"deterministic: off {cost['off']:.0f} on {cost['on']:.0f} img/s")
        save()
    if args.compile_modes:
        modes = {}
        for mode in sorted(set(args.compile_modes), key=accel.COMPILE_MODES.index):
            modes[mode] = bench_compile(images, labels, device, args.batch, args.epochs, amp, mode)
            print(f"compile {mode}: " + json.dumps({k: v for k, v in modes[mode].items()
                                                    if k != "_probs"}), flush=True)
        base = modes.get("none")
        base_probs = base.pop("_probs") if base else None
        for mode, r in modes.items():
            probs = r.pop("_probs", None)
            if base and mode != "none":
                r["train_speedup_over_none"] = r["train_images_per_s"] / base["train_images_per_s"]
                r["features_speedup_over_none"] = (r["feature_pass_images_per_s"]
                                                   / base["feature_pass_images_per_s"])
                # the same seeded round as eager: how far apart are the results?
                r["train_loss_rel_diff_vs_none"] = (abs(r["train_loss"] - base["train_loss"])
                                                    / abs(base["train_loss"]))
                r["probs_max_abs_diff_vs_none"] = float((probs - base_probs).abs().max())
        result["compile"] = modes
        # a whole epoch of SGD on random labels amplifies rounding differences: these
        # are reported, not checked (tests/test_accel.py checks a short run)
        save()
    if args.jobs_per_gpu:
        import tempfile

        args.job_images = args.job_images or n
        result["jobs_per_gpu"] = []
        with tempfile.TemporaryDirectory() as tmp:
            for k in args.jobs_per_gpu:
                r = bench_jobs(k, args, Path(tmp))
                result["jobs_per_gpu"].append(r)
                save()
                print(f"jobs_per_gpu {k}: {r['total_train_images_per_s']:.0f} img/s in total",
                      flush=True)
    save()
    print(f"{'way':<15}{'train img/s':>14}{'features img/s':>16}")
    for way in ("engine", "dataloader", "compute_bound"):
        print(f"{way:<15}{result['train_images_per_s'][way]:>14.0f}"
              f"{result['feature_pass_images_per_s'][way]:>16.0f}")
    for k, v in result["ratios"].items():
        print(f"{k}: {v:.2f}")
    print(f"-> {args.out}")
    return result


if __name__ == "__main__":
    main()
