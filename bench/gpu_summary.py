"""Markdown summary of ``make gpu-check`` (bench/gpu_check.sh): device, driver,
torch, each part's figures, and the thesis-grid projection from the measured
throughput.

    python bench/gpu_summary.py bench/results/gpu      # -> bench/results/gpu/summary.md
"""

from __future__ import annotations

import importlib.util
import json
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _load(res: Path, name: str):
    p = res / name
    return json.loads(p.read_text()) if p.is_file() else None


def device_info() -> dict:
    import torch

    info = {"torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "python": platform.python_version(),
            "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["device"] = torch.cuda.get_device_name(0)
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
        line = out.stdout.strip().splitlines()[0]
        name, driver, mem = [x.strip() for x in line.split(",")]
        info.update({"device": name, "driver": driver, "memory": mem})
    except Exception as exc:  # no nvidia-smi: say so
        info["driver"] = f"unknown ({type(exc).__name__})"
    return info


def _workflow_module():
    spec = importlib.util.spec_from_file_location("bench_workflow", REPO / "bench" / "bench_workflow.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def thesis_work() -> dict:
    """Image-epochs and feature-pass images of the thesis grid (config.yaml)."""
    from alvae.checks import load_config

    cfg = load_config(REPO / "config.yaml")
    per_run = _workflow_module().image_epochs(cfg["al"], cfg["task_model"])
    runs = len(cfg["datasets"]) * len(cfg["strategies"]) * len(cfg["al"]["seeds"])
    # feature/score passes: each selection round scores the unlabeled pool once;
    # every round evaluates the test split (MNIST 10,000; ChestMNIST 22,433 + val 11,219)
    al = cfg["al"]
    rounds = (al["final_labels"] - al["initial_labels"]) // al["labels_per_round"] + 1
    passes = 0
    for name, ds in cfg["datasets"].items():
        pool = ds["subset_size"]
        score = sum(pool - al["initial_labels"] - r * al["labels_per_round"]
                    for r in range(rounds - 1))
        evals = rounds * (10_000 if name == "mnist" else 22_433 + 11_219)
        passes += (score + evals) * len(cfg["strategies"]) * len(cfg["al"]["seeds"])
    return {"runs": runs, "image_epochs_per_run": per_run, "image_epochs": runs * per_run,
            "feature_pass_images": passes}


def grid_image_epochs(grid: dict) -> int:
    cfg = grid["config"]
    tm = {"epochs_initial": cfg["task_model"]["epochs_initial"],
          "epochs_per_round": cfg["task_model"]["epochs_per_round"],
          "min_train_acc": None}
    return _workflow_module().image_epochs(cfg["al"], tm)


def fmt(x, unit="", digits=0):
    return "–" if x is None else f"{x:,.{digits}f}{unit}"


def main(argv=None) -> int:
    res = Path((argv or sys.argv[1:] or ["bench/results/gpu"])[0])
    # the device is recorded once, where the check ran (a summary remade elsewhere keeps it)
    info = _load(res, "device.json")
    if info is None:
        info = device_info()
        (res / "device.json").write_text(json.dumps(info, indent=2) + "\n")
    tests, tr = _load(res, "tests.json"), _load(res, "training.json")
    cc, cp, grid = _load(res, "coreset_cuda.json"), _load(res, "coreset_cpu.json"), _load(res, "grid.json")
    L = ["# `make gpu-check` summary", "",
         f"- device: **{info.get('device', 'none')}** ({info.get('memory', '?')}), driver "
         f"{info.get('driver')}, torch {info['torch']} (CUDA {info['cuda']}, cuDNN {info['cudnn']}), "
         f"Python {info['python']}",
         "- every figure below was measured in this run; parts that did not run say so.", ""]

    L += ["## 1. `pytest -m cuda`", ""]
    if tests:
        c = tests["counts"]
        L.append(f"{c['passed']} passed, {c['failed']} failed, {c['error']} errors, "
                 f"{c['skipped']} skipped in {tests['wall_s']:.0f} s (exit status {tests['exit_status']}).")
        L += ["", "| test | result | s |", "|---|---|---|"]
        L += [f"| {t['test']} | {t['state']} | {t['seconds']:.1f} |" for t in tests["cases"]]
        bad = [t for t in tests["cases"] if t["state"] in ("failed", "error")]
        for t in bad:
            L.append(f"\n- {t['test']}: `{t['message'][:300]}`")
    else:
        L.append("not run")
    L.append("")

    L += ["## 2. Training throughput (`bench_training --device cuda`)", ""]
    best_single = best_packed = feat = None
    if tr:
        t, f = tr["train_images_per_s"], tr["feature_pass_images_per_s"]
        L += [f"{tr['images']:,} random 28×28 images, batch {tr['batch_size']}, {tr['epochs']} epoch(s), "
              f"bf16 autocast: {tr['amp_bf16']}; DataLoader: {tr['dataloader_workers']} workers, pinned memory.", "",
              "| way | train img/s | feature pass img/s |", "|---|---|---|"]
        for way in ("engine", "dataloader", "compute_bound"):
            L.append(f"| {way} | {fmt(t[way])} | {fmt(f[way])} |")
        r = tr["ratios"]
        L += ["", f"engine / DataLoader: {r['train_engine_over_dataloader']:.2f}× training, "
              f"{r['features_engine_over_dataloader']:.2f}× feature pass; engine / compute bound: "
              f"{r['train_engine_over_compute_bound']:.2f} training, "
              f"{r['features_engine_over_compute_bound']:.2f} feature pass.", ""]
        best_single, feat = t["engine"], f["engine"]
        if "compile" in tr:
            L += ["`task_model.compile` (round 0 includes compilation; round 1 reuses the compiled "
                  "module with fresh seeded weights and is the one timed):", "",
                  "| mode | round 0 s | train img/s | feature img/s | train speed-up | vs DataLoader | "
                  "loss rel. diff vs eager |", "|---|---|---|---|---|---|---|"]
            for mode, m in tr["compile"].items():
                L.append(f"| {mode} | {m['first_round_s']:.1f} | {fmt(m['train_images_per_s'])} | "
                         f"{fmt(m['feature_pass_images_per_s'])} | "
                         f"{fmt(m.get('train_speedup_over_none', 1.0), '×', 2)} | "
                         f"{m['train_images_per_s'] / t['dataloader']:.2f}× | "
                         f"{fmt(m.get('train_loss_rel_diff_vs_none'), '', 4)} |")
                best_single = max(best_single, m["train_images_per_s"])
                feat = max(feat, m["feature_pass_images_per_s"])
            L.append("")
        if "deterministic_train_images_per_s" in tr:
            d = tr["deterministic_train_images_per_s"]
            L += [f"`task_model.deterministic`: {fmt(d['off'])} img/s off, {fmt(d['on'])} img/s on "
                  f"(cost {100 * (1 - d['on'] / d['off']):.1f} %).", ""]
        jobs_doc = _load(res, "training_jobs.json")  # a separate, later call, if any
        jobs_src = jobs_doc if jobs_doc and "jobs_per_gpu" in jobs_doc else tr
        if "jobs_per_gpu" in jobs_src:
            L += ["Concurrent engine processes on the one GPU (eager, each its own pool"
                  + (", from training_jobs.json: a separate call on the same machine"
                     if jobs_src is jobs_doc else "") + "):", "",
                  "| jobs | total train img/s | per job img/s |", "|---|---|---|"]
            for j in jobs_src["jobs_per_gpu"]:
                L.append(f"| {j['jobs']} | {fmt(j['total_train_images_per_s'])} | "
                         + ", ".join(fmt(x) for x in j["per_job_train_images_per_s"]) + " |")
                best_packed = max(best_packed or 0, j["total_train_images_per_s"])
            L.append("")
    else:
        L += ["not run", ""]

    if cc or cp:
        c0 = (cc or cp)["config"]
        L += [f"## 3. k-center greedy (`bench_coreset`), {c0['dim']}-d float32, {c0['labeled']:,} "
              f"labeled, budget {c0['budget']:,}", ""]
        L += ["| device | N | seconds | GPU peak |", "|---|---|---|---|"]
        cpu_s = {}
        for doc in (cc, cp):
            for run in (doc or {}).get("runs", []):
                k = run["k_center_greedy"]
                L.append(f"| {k['device']} | {run['n']:,} | {k['seconds']:.2f} | "
                         f"{fmt(k.get('gpu_peak_bytes', 0) / 2**20, ' MiB') if 'gpu_peak_bytes' in k else '–'} |")
                if k["device"] == "cpu":
                    cpu_s[run["n"]] = k["seconds"]
        L.append("")
        if cc and cpu_s:
            n0 = max(cpu_s)
            for run in cc["runs"]:
                n, g = run["n"], run["k_center_greedy"]["seconds"]
                if n in cpu_s:
                    L.append(f"- N={n:,}: GPU {cpu_s[n] / g:.0f}× faster than the CPU "
                             f"({cp['config']['threads']} threads), both measured.")
                else:
                    est = cpu_s[n0] * n / n0
                    L.append(f"- N={n:,}: CPU not run; linear extrapolation from the measured "
                             f"N={n0:,} (the greedy is O(N·d) per pick): ~{est:.0f} s, so the GPU "
                             f"is ~{est / g:.0f}× faster (extrapolated, not measured).")
            L.append("")
    else:
        L += ["## 3. k-center greedy (`bench_coreset`)", "", "not run", ""]

    L += ["## 4. Mini-grid through Snakemake (real Fashion-MNIST)", ""]
    if grid:
        cfg = grid["config"]
        al = cfg["al"]
        L += [f"{len(cfg['strategies'])} strategies ({', '.join(cfg['strategies'])}) × "
              f"{len(al['seeds'])} seeds, {al['initial_labels']:,} → {al['final_labels']:,} labels "
              f"by {al['labels_per_round']:,} (round 0 + "
              f"{(al['final_labels'] - al['initial_labels']) // al['labels_per_round']} AL rounds), "
              f"pool {cfg['datasets']['fashion_mnist']['subset_size']:,}, "
              f"`--resources gpu={grid['resources_gpu']}`, jobs_per_gpu "
              f"{cfg.get('gpu', {}).get('jobs_per_gpu', 1)}.", "",
              f"**Wall time {grid['wall_s']:.0f} s** end to end (exit status {grid['exit_status']}), "
              "every stage included.", "", "| run | rounds | final test acc | train s | select s |",
              "|---|---|---|---|---|"]
        for r in grid["runs"]:
            L.append(f"| {r['run']} | {r['rounds']} | {r['final_test_acc']:.4f} | "
                     f"{r['train_time_s']:.1f} | {r['select_time_s']:.2f} |")
        L.append("")
        if grid["al_run_devices"]:
            L.append(f"al_run device lines: {sorted(set(grid['al_run_devices']))}")
            L.append("")
    else:
        L += ["not run", ""]

    L += ["## 5. Thesis grid projection (config.yaml) from the measured throughput", ""]
    if tr:
        w = thesis_work()
        L.append(f"{w['runs']} AL runs × {w['image_epochs_per_run']:,} training image-epochs = "
                 f"{w['image_epochs']:,}; feature/score passes ≈ {w['feature_pass_images']:,} images.")
        feat_s = w["feature_pass_images"] / feat
        rows = [("one job at a time, best single-job mode", best_single)]
        if best_packed:
            rows.append(("jobs packed on the GPU (best jobs_per_gpu, eager)", best_packed))
        L += ["", "| throughput used | train img/s | projected time on one GPU |", "|---|---|---|"]
        for label, ips in rows:
            total = w["image_epochs"] / ips + feat_s
            L.append(f"| {label} | {fmt(ips)} | {total / 60:.0f} min ({total / 3600:.2f} h) |")
        L.append("")
        L.append("Counts training and feature passes only (not the VAE, selection, start-up). "
                 "Packing and compilation were measured separately; their product is not measured.")
        if grid and grid["runs"]:
            cfg = grid["config"]
            per = grid_image_epochs(grid)
            measured = sum(grid["job_seconds"].get(k, 0) for k in grid["job_seconds"]
                           if k.startswith("al_run"))
            ideal = per * len(grid["runs"]) / (best_packed or best_single)
            if ideal > 0 and measured > 0 and grid["exit_status"] == 0:
                rate = per * len(grid["runs"]) / grid["wall_s"]
                proj = w["image_epochs"] / rate
                L.append(f"\nFrom the mini-grid end to end (every stage, start-up and evaluation "
                         f"included): {per * len(grid['runs']):,} image-epochs in "
                         f"{grid['wall_s']:.0f} s wall = {rate:,.0f} image-epochs/s; its al_run jobs "
                         f"took {measured:.0f} job-seconds. At that rate the thesis grid takes "
                         f"~{proj / 60:.0f} min ({proj / 3600:.2f} h) on this GPU. The mini-grid's "
                         f"small rounds ({cfg['al']['initial_labels']:,}–{cfg['al']['final_labels']:,} "
                         f"labels) weigh start-up and evaluation more than the thesis's "
                         f"(3,000–21,000), so this is the pessimistic figure.")
    else:
        L.append("not measured (bench part not run)")
    out = res / "summary.md"
    out.write_text("\n".join(L) + "\n")
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
