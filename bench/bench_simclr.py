"""The thesis VAE vs SimCLR as task-agnostic representations: kNN accuracy and CPU time.

For each dataset, trains the ``vae`` and the ``simclr`` kind on the same pool
(labels unused) and reports the kNN (k = 5, Euclidean) accuracy of the pool's
latents on the test split, fit with all pool labels (the train_representation job's
diagnostic, ``latent_knn.csv``), next to kNN on raw pixels, and the training
time on the CPU (one thread, as a workflow job).

* ``digits``: the demo's pool (1,500 of scikit-learn's digits, subset_seed 0;
  test split the other 297) with the demo's VAE settings (latent 16, 30 epochs,
  batch 32); simclr with its defaults and the same epochs and batch.
* ``fashion``: real Fashion-MNIST from the Debian IDX files
  (/usr/share/datasets/fashion-mnist): a pool of ``--fashion-pool`` training
  images and ``--fashion-test`` test images drawn with seed 0; both kinds with
  ``--fashion-epochs`` epochs of batch 128 (the VAE: latent 32, the thesis's
  settings otherwise); simclr's ResNet width ``--fashion-width`` (its default is
  32; a smaller one keeps the run short on a shared CPU).

Writes JSON (default bench/results/simclr.json), one row per dataset × kind × seed.

    python bench/bench_simclr.py --datasets digits fashion --seeds 0
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

from alvae.data.loaders import FASHION_MNIST_DEBIAN, draw_subset
from alvae.data.sources import load_dataset
from alvae.representations import train_representation
from alvae.representations.diagnostics import knn_accuracy
from alvae.representations.vae import encode_means


def flat(a):
    return a.reshape(len(a), -1).astype(np.float32) / 255


def datasets(args):
    if "digits" in args.datasets:
        sub = draw_subset(load_dataset("digits", {"source": "digits"}), 1500, seed=0)
        cfg = {"latent_dim": 16, "epochs": 30, "lr": 1e-3, "weight_decay": 5e-3, "batch_size": 32}
        yield "digits", "demo pool 1500, test 297", sub, cfg, {}
    if "fashion" in args.datasets:
        ds = load_dataset("fashion", {"source": "fashion_mnist", "root": args.fashion_root})
        sub = draw_subset(ds, args.fashion_pool, seed=0, test_size=args.fashion_test)
        cfg = {"latent_dim": 32, "epochs": args.fashion_epochs, "lr": 1e-3, "weight_decay": 5e-3,
               "batch_size": 128}
        yield ("fashion", f"Fashion-MNIST (Debian IDX) pool {args.fashion_pool}, test "
               f"{args.fashion_test}", sub, cfg, {"width": args.fashion_width})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["digits", "fashion"])
    ap.add_argument("--kinds", nargs="+", default=["vae", "simclr"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--fashion-root", default=FASHION_MNIST_DEBIAN)
    ap.add_argument("--fashion-pool", type=int, default=2000)
    ap.add_argument("--fashion-test", type=int, default=1000)
    ap.add_argument("--fashion-epochs", type=int, default=15)
    ap.add_argument("--fashion-width", type=int, default=16)
    ap.add_argument("--out", default="bench/results/simclr.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "threads": 1, "command": " ".join(["python", *sys.argv]), "datasets": {}, "runs": []}
    for name, what, sub, rep_cfg, simclr_opts in datasets(args):
        t0 = time.perf_counter()
        pixels = knn_accuracy(flat(sub.pool_images), sub.pool_labels, flat(sub.test_images),
                              sub.test_labels, sub.task)
        result["datasets"][name] = {"what": what, "vae": rep_cfg, "simclr": simclr_opts,
                                    "knn_acc_pixels": pixels,
                                    "knn_pixels_seconds": time.perf_counter() - t0}
        print(f"{name}: {what}; pixels kNN {pixels:.4f}", flush=True)
        for seed in args.seeds:
            for kind in args.kinds:
                cfg = {**rep_cfg, "simclr": simclr_opts} if kind == "simclr" else rep_cfg
                t0 = time.perf_counter()
                res = train_representation(kind, sub.pool_images, sub.pool_labels, None,
                                           task=sub.task, n_classes=sub.n_classes, rep_cfg=cfg,
                                           seed=seed, log=lambda s: None)
                seconds = time.perf_counter() - t0
                dim = res.model.config["latent_dim"]
                test = encode_means(res.model, sub.test_images)
                acc = knn_accuracy(res.latents[:, :dim], sub.pool_labels, test, sub.test_labels,
                                   sub.task)
                row = {"dataset": name, "kind": kind, "seed": seed, "latent_dim": dim,
                       "epochs": len(res.losses), "knn_acc": acc, "knn_acc_pixels": pixels,
                       "train_seconds": seconds, "seconds_per_epoch": seconds / len(res.losses),
                       "first_loss": res.losses[0]["loss"], "final_loss": res.losses[-1]["loss"]}
                print(json.dumps(row), flush=True)
                result["runs"].append(row)
                out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
