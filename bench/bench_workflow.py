"""End to end: wall time and peak memory per rule of a workflow run, and a
projection of the full thesis grid's GPU-hours from the measured cost.

1. Runs the demo workflow into a fresh folder (or reads ``--out-dir`` of a
   finished run) and tabulates Snakemake's ``benchmark:`` files per rule.
2. Projects the thesis grid (config.yaml): image-epochs of every AL run,
   divided by the engine's measured training throughput at 28×28 from
   ``bench/results/training.json`` (run bench_training.py first, on the
   device you plan for), compared with the thesis's reported times
   (5,113 s MNIST core-set pair, 7,085 s ChestMNIST core-set pair, four
   RTX 2080 GPUs).

    python bench/bench_workflow.py                       # runs the demo (minutes)
    python bench/bench_workflow.py --out-dir results/demo
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

THESIS_SECONDS = {"mnist": 5113.0, "chestmnist": 7085.0}  # core-set pair, 4x RTX 2080


def per_rule_table(out_dir: Path) -> dict:
    rows = defaultdict(list)
    for tsv in sorted((out_dir / "benchmarks").rglob("*.tsv")):
        rule = tsv.relative_to(out_dir / "benchmarks").parts[0]
        with open(tsv) as fh:
            for rec in csv.DictReader(fh, delimiter="\t"):
                rss = rec.get("max_rss", "NA")
                rows[rule].append((float(rec["s"]), float(rss) if rss not in ("NA", "-") else 0.0))
    return {rule: {"jobs": len(v), "total_s": sum(s for s, _ in v), "mean_s": sum(s for s, _ in v) / len(v),
                   "max_s": max(s for s, _ in v), "max_rss_mb": max(m for _, m in v)}
            for rule, v in rows.items()}


def image_epochs(al: dict, task_model: dict) -> int:
    """Training image-epochs of one AL run (Algorithm 1, retrained each round)."""
    total, labels, rnd = 0, al["initial_labels"], 0
    while True:
        total += labels * (task_model["epochs_initial"] + rnd * task_model["epochs_per_round"])
        if labels >= al["final_labels"]:
            return total
        labels = min(labels + al["labels_per_round"], al["final_labels"])
        rnd += 1


def project(config_path: Path, training_json: Path) -> dict:
    from alvae.checks import load_config

    cfg = load_config(config_path)
    if not training_json.is_file():
        return {"note": f"{training_json} missing: run bench/bench_training.py first"}
    tr = json.loads(training_json.read_text())
    ips = tr["train_images_per_s"]["engine"]
    per_run = image_epochs(cfg["al"], cfg["task_model"])
    n_runs = len(cfg["datasets"]) * len(cfg["strategies"]) * len(cfg["al"]["seeds"])
    gpu_s_run = per_run / ips
    out = {"throughput_device": tr["device"], "engine_train_images_per_s": ips,
           "image_epochs_per_run": per_run, "runs": n_runs,
           "grid_device_hours": n_runs * gpu_s_run / 3600,
           "coreset_pair_seconds_on_4_devices": {}, "thesis_seconds_on_4_rtx2080": THESIS_SECONDS}
    pair_runs = 2 * len(cfg["al"]["seeds"])
    for ds in cfg["datasets"]:
        ours = pair_runs * gpu_s_run / 4
        out["coreset_pair_seconds_on_4_devices"][ds] = ours
        if ds in THESIS_SECONDS:
            out.setdefault("thesis_over_ours", {})[ds] = THESIS_SECONDS[ds] / ours
    out["note"] = ("training only (evaluation and selection passes excluded); throughput measured "
                   "on the device named above at 28x28, batch " + str(tr["batch_size"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=None, help="a finished run (default: run the demo)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--training-json", type=Path, default=REPO / "bench/results/training.json")
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/workflow.json")
    args = ap.parse_args(argv)
    wall = None
    out_dir = args.out_dir
    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="alvae-demo-")) / "demo"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "snakemake", "--cores", str(args.cores),
                        "--resources", f"gpu={args.cores}", "--configfile", "presets/demo.yaml",
                        "--config", f"out_dir={out_dir}", "--quiet"], cwd=REPO, check=True)
        wall = time.perf_counter() - t0
    table = per_rule_table(out_dir)
    result = {"benchmark": "workflow end to end", "out_dir": str(out_dir), "wall_s": wall,
              "cores": args.cores, "per_rule": table,
              "thesis_projection": project(REPO / "config.yaml", args.training_json)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'rule':<14}{'jobs':>5}{'total s':>10}{'mean s':>9}{'max s':>9}{'max RSS MB':>12}")
    for rule, r in sorted(table.items()):
        print(f"{rule:<14}{r['jobs']:>5}{r['total_s']:>10.1f}{r['mean_s']:>9.1f}{r['max_s']:>9.1f}"
              f"{r['max_rss_mb']:>12.0f}")
    if wall is not None:
        print(f"demo wall time: {wall:.0f} s on {args.cores} cores")
    print(json.dumps(result["thesis_projection"], indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
