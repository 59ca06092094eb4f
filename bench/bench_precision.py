"""``task_model.precision`` on this machine: training speed of fp32 and bf16 for each stem,
and the accuracy bf16 costs at equal epochs (issue #26).

Two parts, one JSON (default ``bench/results/precision.json``):

* ``speed``: images per second of alvae's engine (``train_model``, one epoch after a
  warm-up epoch) on 28x28 one-channel images, for every stem (imagenet, small_pool,
  small) in fp32 and bf16, with ``--threads`` threads; the bf16/fp32 ratio per stem.
  Where the CPU has no native bf16 (no AMX, no AVX-512 BF16) PyTorch converts, and
  bf16 is far slower: the JSON says which the CPU has, and bf16 is still measured
  (forced with ALVAE_CPU_BF16=1) so that the slowdown is a number, not a guess.
* ``accuracy``: the same recipe trained in fp32 and in bf16 for ``--epochs`` epochs on
  ``--labels`` labeled digits (8x8, the small stem; digits keep the emulated bf16 of a
  CPU without native bf16 affordable), ``--seeds`` seeds, paired: test accuracy per
  seed, the mean paired difference and its t-interval, beside the seed-to-seed sd.

    python bench/bench_precision.py                       # both parts, 2 threads
    python bench/bench_precision.py --parts speed --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats as sps

from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.training import precision
from alvae.training.engine import DevicePool, TrainConfig, build_model, evaluate, train_model

QUIET = lambda msg: None  # noqa: E731
STEMS = ("imagenet", "small_pool", "small")


def speed(stem: str, prec: str, n: int, batch: int) -> float:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n)
    pool = DevicePool(images, labels, "multi-class", "cpu")
    tm = {"weights": None, "input_size": None, "stem": stem, "precision": prec, "lr": 0.01,
          "batch_size": batch}
    cfg = TrainConfig.from_config(tm).on("cpu")
    model = build_model("multi-class", 10, 1, tm, 0, "cpu", precision=cfg.precision)
    idx = np.arange(n)
    train_model(model, pool, idx[: 2 * batch], 1, cfg, 0, log=QUIET)  # warm-up
    t0 = time.perf_counter()
    train_model(model, pool, idx, 1, cfg, 1, log=QUIET)
    return n / (time.perf_counter() - t0)


def accuracy(prec: str, seed: int, labels: int, epochs: int) -> float:
    sub = draw_subset(load_digits_dataset(), 1200, seed=0)
    pool = DevicePool(sub.pool_images, sub.pool_labels, sub.task, "cpu")
    test = DevicePool(sub.test_images, sub.test_labels, sub.task, "cpu")
    tm = {"weights": None, "input_size": None, "stem": "small", "precision": prec, "lr": 0.05,
          "batch_size": 32}
    cfg = TrainConfig.from_config(tm).on("cpu")
    model = build_model(sub.task, sub.n_classes, 1, tm, seed, "cpu", precision=cfg.precision)
    lab = np.random.default_rng(seed).choice(len(sub), labels, replace=False)
    train_model(model, pool, lab, epochs, cfg, seed, log=QUIET)
    return float(evaluate(model, test, cfg)["acc"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", nargs="+", default=["speed", "accuracy"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=512, help="images per timed epoch (fp32)")
    ap.add_argument("--bf16-images", type=int, default=None,
                    help="images per timed bf16 epoch (default: --images, or 64 without native bf16)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--labels", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out", default="bench/results/precision.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    native, why = precision.cpu_bf16()
    os.environ["ALVAE_CPU_BF16"] = "1"  # measure bf16 even where it is emulated
    out = {"machine": {"cpu": platform.processor() or platform.machine(), "native_bf16": native,
                       "why": why, "threads": args.threads, "torch": torch.__version__},
           "speed": {}, "accuracy": {}}
    if "speed" in args.parts:
        n_bf16 = args.bf16_images or (args.images if native else 64)
        for stem in STEMS:
            fp32 = speed(stem, "fp32", args.images, args.batch)
            bf16 = speed(stem, "bf16", n_bf16, args.batch)
            out["speed"][stem] = {"fp32_img_s": fp32, "bf16_img_s": bf16, "bf16_over_fp32": bf16 / fp32}
            print(f"{stem:10s} fp32 {fp32:7.1f} img/s  bf16 {bf16:7.1f} img/s  ratio {bf16 / fp32:.2f}",
                  flush=True)
    if "accuracy" in args.parts:
        acc = {p: [accuracy(p, s, args.labels, args.epochs) for s in range(args.seeds)]
               for p in ("fp32", "bf16")}
        d = np.subtract(acc["bf16"], acc["fp32"])
        half = sps.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else np.nan
        out["accuracy"] = {"fp32": acc["fp32"], "bf16": acc["bf16"], "mean_diff": float(d.mean()),
                           "ci95": [float(d.mean() - half), float(d.mean() + half)],
                           "sd_between_seeds_fp32": float(np.std(acc["fp32"], ddof=1)),
                           "labels": args.labels, "epochs": args.epochs, "data": "digits 8x8"}
        print(f"accuracy fp32 {acc['fp32']} bf16 {acc['bf16']} paired mean diff {d.mean():+.4f} "
              f"95% CI [{d.mean() - half:+.4f}, {d.mean() + half:+.4f}]", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
