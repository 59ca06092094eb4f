"""Seconds per AL round: a frozen-feature head (task_model.arch linear / mlp) against the
ResNet-18, on the same pool, on this machine (CPU, one thread, as a workflow job).

Fashion-MNIST from the Debian IDX files, a pool of ``--pool`` training images and the
whole test split (10,000). Each arch runs the same AL loop (``--strategy``, default
margin: one inference pass over the pool per round) from ``--initial`` labels in
``--rounds`` rounds of ``--per-round``. A round is: train the task model from scratch,
evaluate it on the test split, let the strategy pick (round 0: train and evaluate).

* ResNet-18: the fashion preset's task model (presets/fashion_cpu.yaml with its fixed recipe:
  28 px, ImageNet stem, SGD lr 0.01, batch 64, 4 epochs raised to 100 steps).
* the heads: the features preset's (presets/features.yaml: Adam lr 1e-3, batch 64,
  ``epochs_initial`` 1 raised to 100 steps) on ``--dim`` standardised features. The
  features here are a fixed random projection of the pixels: a round's cost depends on
  the number of dimensions, not on where they come from; the representation's own,
  one-off training is not part of a round (it is the train_representation job, measured apart).

Writes JSON (default bench/results/head_cpu.json): per arch, the seconds of every round
(wall clock, from the loop's log lines) and the mean.

    python bench/bench_head.py
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

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import FASHION_MNIST_DEBIAN, draw_subset
from alvae.data.sources import load_dataset

RESNET = {"arch": "resnet18", "weights": None, "input_size": None, "lr": 0.01, "batch_size": 64,
          "epochs_initial": 4, "epochs_per_round": 0, "min_steps": 100, "eval_batch_size": 1024}
HEAD = {"arch": "linear", "features": "simclr", "optimizer": "adam", "lr": 1e-3,
        "weight_decay": 1e-5, "batch_size": 64, "epochs_initial": 1, "epochs_per_round": 0,
        "min_steps": 100, "eval_batch_size": 4096}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pool", type=int, default=10000)
    ap.add_argument("--initial", type=int, default=500)
    ap.add_argument("--per-round", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--strategy", default="margin")
    ap.add_argument("--archs", nargs="+", default=["linear", "mlp", "resnet18"])
    ap.add_argument("--out", default="bench/results/head_cpu.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    ds = load_dataset("fashion", {"source": "fashion_mnist", "root": FASHION_MNIST_DEBIAN})
    sub = draw_subset(ds, args.pool, seed=0)
    proj = np.random.default_rng(0).normal(size=(784, args.dim)).astype(np.float32)
    feats = {"pool": (sub.pool_images.reshape(len(sub), -1) / 255.0).astype(np.float32) @ proj,
             "test": (sub.test_images.reshape(len(sub.test_images), -1) / 255.0).astype(np.float32) @ proj,
             "val": None}
    al = {"initial_labels": args.initial, "labels_per_round": args.per_round,
          "final_labels": args.initial + args.rounds * args.per_round}
    result = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "threads": 1, "command": " ".join(["python", *sys.argv]),
              "pool": args.pool, "test": len(sub.test_images), "al": al,
              "strategy": args.strategy, "feature_dim": args.dim, "archs": {}}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for arch in args.archs:
        stamps = []

        def log(msg, _s=stamps):
            if "| labels" in msg and "test_acc" in msg:  # a round's metrics line: it is done
                _s.append(time.perf_counter())

        tm = RESNET if arch == "resnet18" else {**HEAD, "arch": arch}
        t0 = time.perf_counter()
        rows, _ = run_loop(sub, RunSpec(args.strategy, 0, al, tm, {}), log=log,
                           task_features=None if arch == "resnet18" else feats)
        rounds = np.diff([t0] + stamps).tolist()
        result["archs"][arch] = {
            "task_model": tm, "seconds_per_round": rounds,
            "mean_seconds_per_round": float(np.mean(rounds)),
            "train_seconds": [r["train_time_s"] for r in rows],
            "select_seconds": [r["select_time_s"] for r in rows],
            "test_acc": [r["test_acc"] for r in rows], "n_labels": [r["n_labels"] for r in rows]}
        print(arch, json.dumps(result["archs"][arch]), flush=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
