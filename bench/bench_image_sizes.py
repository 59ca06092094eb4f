"""What an image size costs: MedMNIST+ at 28, 64, 128 and 224 px (docs/data.md).

For each size, on random uint8 images (the cost does not depend on the pixels):

* the task model (ResNet-18 as ``alvae.training.engine.build_model`` makes it, ``input_size``
  null so that it sees the images at their size) with ``stem: imagenet`` and
  ``stem: small``: seconds per image of one SGD training step (forward, backward,
  update) and of the feature pass (forward, no gradient);
* the VAE (``alvae.representations.vae.VAE``): seconds per image of one Adam training step;
* the bytes one image takes in the pool (uint8, C×S×S).

Each measurement takes the CPU seconds of this process (``time.process_time``, so that
other work on a shared machine inflates it little) over ``--steps`` batches after one
warm-up batch, on ``--threads`` threads (1: what one AL job gets with ``threads: 1``),
in this one process, so that the ratios between sizes and stems are comparable. Writes JSON (default
``bench/results/image_sizes.json``).

    python bench/bench_image_sizes.py                       # CPU, 1 thread
    python bench/bench_image_sizes.py --channels 3 --batch 16
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from alvae.representations.vae import VAE
from alvae.training.engine import build_model

SIZES = (28, 64, 128, 224)


def per_image(fn, batch: int, steps: int) -> float:
    fn()  # warm-up
    start = time.process_time()  # CPU seconds of this process: robust to a shared machine
    for _ in range(steps):
        fn()
    return (time.process_time() - start) / (steps * batch)


def task_model_costs(size: int, stem: str, channels: int, batch: int, steps: int) -> dict:
    model = build_model("multi-class", 10, channels, {"weights": None, "input_size": None,
                                                      "stem": stem}, 0, "cpu")
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    x8 = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (batch, channels, size, size),
                                                            dtype=np.uint8))
    y = torch.arange(batch) % 10

    def train():
        model.train()
        opt.zero_grad()
        logits, _, _ = model(model.prepare(x8))
        F.cross_entropy(logits, y).backward()
        opt.step()

    def features():
        model.eval()
        with torch.no_grad():
            model(model.prepare(x8))

    return {"train_s_per_image": per_image(train, batch, steps),
            "feature_pass_s_per_image": per_image(features, batch, steps)}


def vae_cost(size: int, channels: int, batch: int, steps: int) -> float:
    vae = VAE(channels, size, size, latent_dim=32)
    opt = torch.optim.Adam(vae.parameters(), lr=0.001)
    x = torch.rand(batch, channels, size, size)

    def train():
        opt.zero_grad()
        mu, logvar = vae.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        rec = F.binary_cross_entropy_with_logits(vae.decode(z), x, reduction="sum") / batch
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / batch
        (rec + kl).backward()
        opt.step()

    return per_image(train, batch, steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--channels", type=int, default=1, choices=(1, 3))
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="bench/results/image_sizes.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for size in args.sizes:
        row = {"size": size, "pool_bytes_per_image": args.channels * size * size}
        for stem in ("imagenet", "small"):
            for k, v in task_model_costs(size, stem, args.channels, args.batch, args.steps).items():
                row[f"{stem}_{k}"] = v
        row["vae_train_s_per_image"] = vae_cost(size, args.channels, args.batch, args.steps)
        rows.append(row)
        print(json.dumps(row), flush=True)
    base = rows[0]
    for row in rows:
        for k in [k for k in row if k.endswith("_per_image") and k != "pool_bytes_per_image"]:
            row[k.replace("_s_per_image", "_x_smallest_size")] = row[k] / base[k]
    out = {"what": "CPU seconds per image at each image size (bench/bench_image_sizes.py)",
           "device": "cpu", "threads": args.threads, "channels": args.channels, "batch": args.batch,
           "steps": args.steps, "torch": torch.__version__, "python": platform.python_version(),
           "machine": platform.processor() or platform.machine(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
