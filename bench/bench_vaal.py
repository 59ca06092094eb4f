"""Seconds per VAAL round against pool size: alvae's default settings against the reference's.

A VAAL round trains ``pool × epochs // batch`` iterations (the reference's count; each
two VAE steps and one discriminator step on a labeled and an unlabeled batch) and then
scores every candidate once. An iteration costs the same whatever the pool size (the
batches are fixed; the labeled one is min(batch, |L|) images), so a round costs

    seconds(N) = (N · epochs // batch) · t_iteration + N · t_score.

This script measures t_iteration for each setting as the slope between two short
trainings (``--iters`` apart, so model building and warm-up cancel), and t_score from
one scoring pass, then projects whole rounds for each pool size: a projection from a
few measured iterations, not a timed round. For the cheaper settings it also runs one
real round with few epochs (``--check-epochs``) and sets its time beside the projection.

Settings, on the digits images (8 × 8 px, 1 channel; ``--size 28`` times random
28-px images instead, MNIST's size: the cost depends on the size, not the content),
width 128 and 100 epochs both:
``default``: ``image_size: auto`` (the data's size rounded up to 16: 16 px for digits,
32 px for 28-px data); ``reference``: 32 px as github.com/sinhasam/vaal; plus the
``future`` preset's shrunken net (width 16, 16 px, 5 epochs) for scale.
One torch thread, as an ``al_run`` job (``threads: 1``). Writes JSON
(default ``bench/results/vaal_<device>.json``). Run from the repository root with
the package installed (``pip install -e .``) or ``PYTHONPATH=src``:

    python bench/bench_vaal.py                  # CPU, a few minutes on an idle core
    python bench/bench_vaal.py --device cuda    # on a GPU
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

from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.strategies.vaal import DEFAULTS, n_iterations, prob_labeled, resolve_image_size, train_vaal

SETTINGS = {
    "default": {"width": 128, "image_size": "auto", "epochs": 100},
    "reference": {"width": 128, "image_size": 32, "epochs": 100},
    "future_preset": {"width": 16, "image_size": 16, "epochs": 5},
}


def images_of(size: int, n: int, seed: int = 0) -> torch.Tensor:
    """uint8 N×1×size×size: the digits (8 px), or random images of another size."""
    if size == 8:
        sub = draw_subset(load_digits_dataset(), min(n, 1797), seed=0)
        return torch.from_numpy(sub.pool_images)
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.integers(0, 256, (n, 1, size, size), dtype=np.uint8))


def timed_training(images, n_labeled, opts, iterations, seed=0):
    """Wall seconds of a train_vaal call of ``iterations`` iterations: one epoch over a
    pool of ``iterations × batch`` images."""
    n = iterations * int(opts["batch_size"])
    if n > len(images):
        raise ValueError(f"{iterations} iterations need {n} images, have {len(images)}")
    images = images[:n]
    o = {**opts, "epochs": 1}
    labeled, unlabeled = np.arange(n_labeled), np.arange(n_labeled, n)
    t0 = time.perf_counter()
    train_vaal(images, labeled, unlabeled, o, seed, log=lambda m: None)
    if images.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, n_iterations(n, o)


def measure(images, opts, n_labeled, iters, repeats):
    """(seconds per iteration, seconds to score one image) for ``opts`` on ``images``."""
    short = [timed_training(images, n_labeled, opts, 2) for _ in range(repeats)]
    long = [timed_training(images, n_labeled, opts, 2 + iters) for _ in range(repeats)]
    (t_s, i_s), (t_l, i_l) = min(short), min(long)
    per_iter = (t_l - t_s) / (i_l - i_s)
    if per_iter <= 0:  # noise (a loaded machine, a tiny net): the mean, fixed costs included
        per_iter = t_l / i_l
    size = resolve_image_size(opts["image_size"], *images.shape[-2:])
    vae, disc, _ = train_vaal(images, np.arange(n_labeled), np.arange(n_labeled, len(images)),
                              {**opts, "epochs": 1}, 0, log=lambda m: None)
    t0 = time.perf_counter()
    prob_labeled(vae, disc, images, np.arange(len(images)), size)
    if images.device.type == "cuda":
        torch.cuda.synchronize()
    per_image = (time.perf_counter() - t0) / len(images)
    return per_iter, per_image, {"short": [i_s, t_s], "long": [i_l, t_l]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--size", type=int, default=8, help="image side: 8 = digits; else random")
    ap.add_argument("--pools", type=int, nargs="+", default=[600, 1797, 10_000, 60_000])
    ap.add_argument("--labeled", type=int, default=40, help="|L| (the tiny config's 40)")
    ap.add_argument("--iters", type=int, default=4,
                    help="iterations between the two timings (digits: at most 12)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--check-pool", type=int, default=600)
    ap.add_argument("--check-epochs", type=int, default=1)
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS))
    ap.add_argument("--check-settings", nargs="*", default=["default", "future_preset"],
                    help="settings that also run one real round (--check-epochs)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    device = torch.device(args.device)
    out = Path(args.out or f"bench/results/vaal_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    need = max(args.check_pool, (2 + args.iters) * max(SETTINGS[s].get("batch_size", 128)
                                                        for s in args.settings))
    images = images_of(args.size, need).to(device)
    result = {"device": args.device, "image_px": args.size, "labeled": args.labeled,
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(),
              "cpu_count": os.cpu_count(), "loadavg_start": os.getloadavg(),
              "method": "t_iteration = slope between trainings of 2 and 2+iters iterations; "
                        "round = (N*epochs//batch)*t_iteration + N*t_score",
              "settings": {}}
    if device.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name(device)
    for name in args.settings:
        opts = {**DEFAULTS, **SETTINGS[name]}
        size = resolve_image_size(opts["image_size"], args.size, args.size)
        per_iter, per_image, raw = measure(images, opts, args.labeled, args.iters, args.repeats)
        rounds = {str(n): n_iterations(n, opts) * per_iter + n * per_image for n in args.pools}
        entry = {
            "opts": {k: opts[k] for k in ("width", "image_size", "epochs", "batch_size")},
            "px": size, "seconds_per_iteration": per_iter, "seconds_per_scored_image": per_image,
            "iterations_per_round": {str(n): n_iterations(n, opts) for n in args.pools},
            "seconds_per_round": rounds, "timings": raw}
        line = (f"{name:14s} {size:3d} px  {per_iter:.3f} s/iteration  "
                + "  ".join(f"N={n}: {s / 60:.1f} min" for n, s in rounds.items()))
        if name in args.check_settings:  # one real round with few epochs against the projection
            check_opts = {**opts, "epochs": args.check_epochs}
            pool = images[:args.check_pool]
            t0 = time.perf_counter()
            vae, disc, _ = train_vaal(pool, np.arange(args.labeled),
                                      np.arange(args.labeled, len(pool)), check_opts, 1,
                                      log=lambda m: None)
            prob_labeled(vae, disc, pool, np.arange(args.labeled, len(pool)), size)
            if device.type == "cuda":
                torch.cuda.synchronize()
            real = time.perf_counter() - t0
            n_check = n_iterations(len(pool), check_opts)
            predicted = n_check * per_iter + (len(pool) - args.labeled) * per_image
            entry["check"] = {"pool": len(pool), "epochs": args.check_epochs,
                              "iterations": n_check, "seconds": real, "projected": predicted}
            line += f"  | check {n_check} it: {real:.1f} s real vs {predicted:.1f} s projected"
        result["settings"][name] = entry
        print(line, flush=True)
        result["loadavg_end"] = os.getloadavg()
        if {"default", "reference"} <= set(result["settings"]):
            d, r = result["settings"]["default"], result["settings"]["reference"]
            result["reference_over_default"] = (r["seconds_per_iteration"]
                                                / d["seconds_per_iteration"])
        out.write_text(json.dumps(result, indent=2))  # after each setting: a partial run counts
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
