"""Do the cvae and gmvae latents separate classes better than the thesis VAE's?

On scikit-learn's digits as the demo draws them (pool of 1,500, subset_seed 0,
the remaining 297 images as test split) with the demo's VAE settings (latent
16, 30 epochs, batch 32, Adam 1e-3, weight decay 5e-3), trains each kind and
reports the kNN (k = 5) accuracy of the pool's latent means on the test split
(the train_representation job's diagnostic), plus kNN on raw pixels for scale. cvae uses
the labels of AL seed s's 100 initial points (the demo's al.initial_labels);
gmvae pretrains 10 epochs as a plain VAE, then 30 with the mixture prior (K = 10).
CPU, deterministic per seed. Writes JSON (default bench/results/representations.json).

    python bench/bench_representations.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from alvae.data.loaders import draw_subset
from alvae.data.sources import load_dataset
from alvae.representations import train_representation
from alvae.representations.diagnostics import knn_accuracy
from alvae.representations.vae import encode_means
from alvae.seeds import initial_labeled

DEMO_VAE = {"latent_dim": 16, "epochs": 30, "lr": 1e-3, "weight_decay": 5e-3, "batch_size": 32}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--kinds", nargs="+", default=["vae", "gmvae", "cvae"])
    ap.add_argument("--initial-labels", type=int, default=100)
    ap.add_argument("--out", default="bench/results/representations.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    sub = draw_subset(load_dataset("digits", {"source": "digits"}), 1500, seed=0)
    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255  # noqa: E731
    result = {"dataset": "digits (pool 1500, test 297)", "vae": DEMO_VAE,
              "initial_labels": args.initial_labels, "machine": platform.processor() or platform.machine(),
              "torch": torch.__version__,
              "knn_acc_pixels": knn_accuracy(flat(sub.pool_images), sub.pool_labels,
                                             flat(sub.test_images), sub.test_labels, sub.task),
              "runs": []}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for kind in args.kinds:
            labeled = initial_labeled(len(sub), args.initial_labels, seed) if kind == "cvae" else None
            t0 = time.perf_counter()
            res = train_representation(kind, sub.pool_images, sub.pool_labels, labeled, task=sub.task,
                                       n_classes=sub.n_classes, rep_cfg=DEMO_VAE, seed=seed,
                                       log=lambda s: None)
            seconds = time.perf_counter() - t0
            test_mu = encode_means(res.model, sub.test_images)
            acc = knn_accuracy(res.latents[:, :16], sub.pool_labels, test_mu, sub.test_labels, sub.task)
            row = {"kind": kind, "seed": seed, "knn_acc": acc, "seconds": seconds,
                   "final_loss": res.losses[-1]["loss"], "n_labeled": 0 if labeled is None else len(labeled)}
            print(json.dumps(row), flush=True)
            result["runs"].append(row)
            out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"pixels kNN {result['knn_acc_pixels']:.4f}; wrote {out}")


if __name__ == "__main__":
    main()
