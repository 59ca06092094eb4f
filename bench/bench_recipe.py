"""Random sampling at 1,000 labels on real Fashion-MNIST: the thesis's classifier
recipe, the hand-set strong one (issue 12) and the tuned one (issue 18).

Pool of 8,000 training images, 2,000 test images (both drawn with seed 0,
``alvae.data.loaders.draw_subset``), 1,000 random labels per seed
(``alvae.seeds.initial_labeled``, the round-0 set of every AL run), no
ImageNet weights (offline). One ``run_loop`` round 0 per recipe and seed.

- ``thesis``: config.yaml's ``task_model`` (weights null).
- ``strong``: the hand-set recipe presets/strong.yaml held before it was tuned
  (28-px stem, augmentation, lr 0.05, cosine, min_steps 2000, 10 % hold-out);
  ``--set`` overrides its keys (e.g. a CPU-sized ``min_steps``).
- ``tuned``: an Optuna study (``alvae.training.tune``) on the round-0 labels alone, whose
  fixed recipe (trial 0) is ``thesis``, then the final training with the chosen
  keys. ``--tune-scope dataset`` runs one study on the first seed's labels (as
  the workflow's default), ``seed`` one per seed. The study is kept in SQLite
  next to the JSON, so a killed benchmark resumes it.

Writes JSON (default ``bench/results/recipe.json``, rewritten after every seed):
per recipe the test and final train accuracy of each seed, mean and sd, the
paired difference to ``thesis`` per seed, seconds; for ``tuned`` the study's
seconds, its trials, and its time as a share of one AL run of the thesis's shape
at this budget (estimated from the measured round-0 time, see ``al_run_factor``).

    python bench/bench_recipe.py --device cuda --seeds 0 1 2
    python bench/bench_recipe.py --device cpu --seeds 0 1 2 --recipes thesis tuned --tune-cpu
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

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import draw_subset
from alvae.data.sources import load_dataset
from alvae.training.tune import apply_recipe, storage_for, tune_recipe

THESIS = {"weights": None, "grayscale": "repeat", "input_size": 28, "lr": 0.001, "momentum": 0.9,
          "weight_decay": 0.0, "batch_size": 128, "epochs_initial": 10, "epochs_per_round": 5,
          "min_train_acc": None, "max_extra_epochs": 20, "eval_batch_size": 1024, "amp": True,
          "stem": "imagenet", "augment": False, "crop_padding": 4, "hflip": False,
          "lr_schedule": "none", "min_steps": 0, "val_fraction": 0.0, "deterministic": True}
# presets/strong.yaml's task_model before issue 18 (hand-set, issue 12)
STRONG = dict(THESIS, stem="small", augment=True, crop_padding=4, hflip=True, lr=0.05,
              weight_decay=0.0005, batch_size=64, lr_schedule="cosine", min_steps=2000,
              val_fraction=0.1)
# CPU-sized study (--tune-cpu): the imagenet stem only (the small one costs ~2.6x per
# step at 28 px), at most 16 epochs, 10 trials, median pruning after 2 epochs
TUNE_CPU = {"trials": 10, "folds": 3, "metric": "auto", "pruner": "median", "prune_after": 2,
            "prune_startup": 3, "startup_trials": 5,
            "space": {"lr": {"low": 1.0e-3, "high": 0.2, "log": True},
                      "weight_decay": [0.0, 5.0e-4], "batch_size": [32, 64, 128],
                      "epochs_initial": {"low": 6, "high": 16}, "augment": [False, True],
                      "lr_schedule": ["none", "cosine"]}}


def tune_settings(args) -> dict:
    """The study's settings: --tune-cpu, else presets/strong.yaml's tune block; then
    --tune-trials."""
    if args.tune_cpu:
        tune = json.loads(json.dumps(TUNE_CPU))
    else:
        from alvae.checks import validate_config

        preset = yaml.safe_load((REPO / "presets" / "strong.yaml").read_text())
        cfg = validate_config({"datasets": {"f": {"source": "digits", "subset_size": 1500}},
                               "al": {"initial_labels": 100, "labels_per_round": 100,
                                      "final_labels": 200}, "tune": preset["tune"]})
        tune = cfg["tune"]
    if args.tune_trials:
        tune["trials"] = args.tune_trials
    return tune


def al_run_factor(epochs_initial: int, epochs_per_round: int, rounds: int) -> float:
    """One AL run of the thesis's shape (initial labels = labels per round, ``rounds``
    trainings: n, 2n, ... labels for E0, E0 + Er, ... epochs) in units of its round 0,
    counting training time as proportional to labels x epochs."""
    return sum((r + 1) * (epochs_initial + r * epochs_per_round)
               for r in range(rounds)) / epochs_initial


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--pool", type=int, default=8000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--recipes", nargs="+", default=["thesis", "strong", "tuned"])
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="override task_model keys of the strong recipe (YAML values), e.g. "
                         "stem=imagenet min_steps=300 to fit a CPU")
    ap.add_argument("--tune-cpu", action="store_true", help="the CPU-sized study (TUNE_CPU)")
    ap.add_argument("--tune-trials", type=int, default=None)
    ap.add_argument("--tune-scope", choices=["dataset", "seed"], default="dataset")
    ap.add_argument("--al-rounds", type=int, default=7,
                    help="trainings of the AL run the tuning time is compared with (thesis: 7)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "recipe.json"))
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    ds = load_dataset("fashion_mnist", {"source": "fashion_mnist", "root": args.root})
    sub = draw_subset(ds, args.pool, seed=0, test_size=args.test)
    strong = dict(STRONG)
    for kv in args.set:
        key, value = kv.split("=", 1)
        if key not in strong:
            raise SystemExit(f"--set {key}: not a task_model key of the strong recipe")
        strong[key] = yaml.safe_load(value)
    al = {"initial_labels": args.labels, "labels_per_round": 1, "final_labels": args.labels}
    out_path = Path(args.out)
    out = {"dataset": "fashion_mnist", "pool": args.pool, "test": args.test, "labels": args.labels,
           "device": str(args.device), "gpu": (torch.cuda.get_device_name(0)
                                               if str(args.device).startswith("cuda") else None),
           "cpu": platform.processor(), "torch": torch.__version__, "threads":
           torch.get_num_threads(), "seeds": args.seeds, "strong_overrides": args.set,
           "command": " ".join(["python", "bench/bench_recipe.py", *(argv or sys.argv[1:])]),
           "recipes": {}}

    def save():
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(out, indent=1, default=str))

    tune = tune_settings(args)
    studies = {}  # AL seed of the study -> (recipe, table, seconds)

    def study_for(seed: int):
        key = seed if args.tune_scope == "seed" else args.seeds[0]
        if key not in studies:
            db = out_path.with_name(f"{out_path.stem}_tune_{args.device}_seed{key}.db")
            t0 = time.perf_counter()
            recipe, table, _ = tune_recipe(sub, key, args.labels, THESIS, tune, storage_for(db),
                                           args.device, log=lambda m: print(m, flush=True)
                                           if m.startswith(("trial", "chosen", "study"))
                                           and " epoch " not in m else None)
            studies[key] = (recipe, table, time.perf_counter() - t0)
            print(f"study on seed {key}: {studies[key][2]:.0f}s -> {recipe['task_model']}",
                  flush=True)
        return studies[key]

    for name in args.recipes:
        res = {"test_acc": [], "train_acc": [], "epochs": [], "seconds": []}
        out["recipes"][name] = res
        for seed in args.seeds:
            if name == "tuned":
                recipe, table, tune_s = study_for(seed)
                tm = apply_recipe(THESIS, recipe)
                res.setdefault("studies", {})[str(recipe["al_seed"])] = {
                    "recipe": recipe, "seconds": tune_s,
                    "trials": table.to_dict(orient="records")}
            else:
                tm = {"thesis": THESIS, "strong": strong}[name]
            t0 = time.perf_counter()
            rows, _ = run_loop(sub, RunSpec("random", seed, al, tm, {}), device=args.device,
                               log=lambda m: None)
            res["seconds"].append(time.perf_counter() - t0)
            res["test_acc"].append(rows[0]["test_acc"])
            res["train_acc"].append(rows[0]["train_acc"])
            res["epochs"].append(rows[0]["epochs"])
            res["task_model"] = tm
            print(f"{name} seed {seed}: test_acc {res['test_acc'][-1]:.4f} train_acc "
                  f"{rows[0]['train_acc']:.4f} epochs {rows[0]['epochs']} "
                  f"({res['seconds'][-1]:.1f}s)", flush=True)
            summarise(out, args)
            save()
    summarise(out, args)
    save()
    print(json.dumps({k: {m: v.get(m) for m in ("mean", "std", "paired_diff_mean")}
                      for k, v in out["recipes"].items()}))


def summarise(out: dict, args) -> None:
    """Means, sds, paired differences to thesis, and the tuning time's share of an AL run."""
    recipes = out["recipes"]
    for name, res in recipes.items():
        accs = res["test_acc"]
        res["mean"] = float(np.mean(accs)) if accs else None
        res["std"] = float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
        res["train_acc_mean"] = float(np.mean(res["train_acc"])) if accs else None
        base = recipes.get("thesis", {}).get("test_acc", [])
        n = min(len(base), len(accs))
        if name != "thesis" and n:
            diff = [a - b for a, b in zip(accs[:n], base[:n])]
            res["paired_diff"] = diff
            res["paired_diff_mean"] = float(np.mean(diff))
            res["paired_diff_sd"] = float(np.std(diff, ddof=1)) if n > 1 else None
    tuned, thesis = recipes.get("tuned"), recipes.get("thesis")
    if tuned and tuned.get("studies") and thesis and thesis["seconds"]:
        tune_s = float(np.mean([s["seconds"] for s in tuned["studies"].values()]))
        e0, er = thesis["task_model"]["epochs_initial"], thesis["task_model"]["epochs_per_round"]
        f_thesis = al_run_factor(e0, er, args.al_rounds)
        tm = tuned["task_model"]
        f_tuned = al_run_factor(tm["epochs_initial"], tm["epochs_per_round"], args.al_rounds)
        al_thesis = float(np.mean(thesis["seconds"])) * f_thesis
        al_tuned = float(np.mean(tuned["seconds"])) * f_tuned if tuned["seconds"] else None
        tuned["tuning"] = {
            "seconds_per_study": tune_s, "al_rounds": args.al_rounds,
            "al_run_factor_thesis": f_thesis, "al_run_factor_tuned": f_tuned,
            "al_run_seconds_thesis_estimate": al_thesis,
            "al_run_seconds_tuned_estimate": al_tuned,
            "share_of_al_run_thesis": tune_s / al_thesis,
            "share_of_al_run_tuned": tune_s / al_tuned if al_tuned else None}


if __name__ == "__main__":
    main()
