"""Random sampling at 1,000 labels on real Fashion-MNIST: the thesis's classifier
recipe against the strong one (presets/strong.yaml's ``task_model``).

Pool of 8,000 training images, 2,000 test images (both drawn with seed 0,
``alvae.data.draw_subset``), 1,000 random labels per seed
(``alvae.loop.initial_labeled``, the round-0 set of every AL run), no
ImageNet weights (offline). One ``run_loop`` round 0 per recipe and seed.
Writes JSON (default ``bench/results/recipe.json``): per recipe the test
accuracy of each seed, their mean and standard deviation, and seconds.

    python bench/bench_recipe.py --device cuda --seeds 0 1 2
    python bench/bench_recipe.py --device cpu --seeds 0 --set stem=imagenet min_steps=300
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
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from alvae.data import draw_subset, load_dataset  # noqa: E402
from alvae.loop import run_loop  # noqa: E402

THESIS = {"weights": None, "grayscale": "repeat", "input_size": 28, "lr": 0.001, "momentum": 0.9,
          "weight_decay": 0.0, "batch_size": 128, "epochs_initial": 10, "epochs_per_round": 5,
          "min_train_acc": None, "max_extra_epochs": 20, "eval_batch_size": 1024, "amp": True}


def strong_recipe() -> dict:
    preset = yaml.safe_load((REPO / "presets" / "strong.yaml").read_text())
    return dict(THESIS, **preset["task_model"])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--pool", type=int, default=8000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--recipes", nargs="+", default=["thesis", "strong"])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="override task_model keys of the strong recipe (YAML values), e.g. "
                         "stem=imagenet min_steps=300 to fit a CPU")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "recipe.json"))
    args = ap.parse_args(argv)

    ds = load_dataset("fashion_mnist", {"source": "fashion_mnist", "root": args.root})
    sub = draw_subset(ds, args.pool, seed=0, test_size=args.test)
    strong = strong_recipe()
    for kv in args.set:
        key, value = kv.split("=", 1)
        if key not in strong:
            raise SystemExit(f"--set {key}: not a task_model key of the strong recipe")
        strong[key] = yaml.safe_load(value)
    recipes = {"thesis": THESIS, "strong": strong}
    al = {"initial_labels": args.labels, "labels_per_round": 1, "final_labels": args.labels}
    out = {"dataset": "fashion_mnist", "pool": args.pool, "test": args.test, "labels": args.labels,
           "device": str(args.device), "gpu": (torch.cuda.get_device_name(0)
                                               if str(args.device).startswith("cuda") else None),
           "cpu": platform.processor(), "torch": torch.__version__, "seeds": args.seeds,
           "strong_overrides": args.set, "recipes": {}}
    for name in args.recipes:
        tm = recipes[name]
        accs, secs, epochs = [], [], []
        for seed in args.seeds:
            t0 = time.perf_counter()
            rows, _ = run_loop(sub, "random", seed, al, tm, {}, device=args.device,
                               log=lambda m: None)
            secs.append(time.perf_counter() - t0)
            accs.append(rows[0]["test_acc"])
            epochs.append(rows[0]["epochs"])
            print(f"{name} seed {seed}: test_acc {accs[-1]:.4f} train_acc "
                  f"{rows[0]['train_acc']:.4f} epochs {epochs[-1]} ({secs[-1]:.1f}s)", flush=True)
        out["recipes"][name] = {"task_model": tm, "test_acc": accs, "epochs": epochs,
                                "mean": float(np.mean(accs)), "std": float(np.std(accs, ddof=1))
                                if len(accs) > 1 else 0.0, "seconds": secs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps({k: {"mean": v["mean"], "std": v["std"]} for k, v in out["recipes"].items()}))


if __name__ == "__main__":
    main()
