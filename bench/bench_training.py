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

    python bench/bench_training.py                 # CPU here
    python bench/bench_training.py --device cuda   # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from alvae.engine import DevicePool, TrainConfig, build_model, infer, train_model  # noqa: E402


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
    cfg = TrainConfig(batch_size=batch, eval_batch_size=1024, amp=amp)
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--images", type=int, default=None, help="pool size (default 2048 CPU, 50000 GPU)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="DataLoader workers (default 4 GPU, 2 CPU)")
    ap.add_argument("--no-amp", action="store_true")
    ap.add_argument("--out", default="bench/results/training.json")
    args = ap.parse_args(argv)
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
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
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
