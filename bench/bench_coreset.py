#!/usr/bin/env python
"""Benchmark: O(N·d) k-center greedy vs the N×N distance-matrix way.

Many active-learning code bases implement core-set selection by first building
the full matrix of pairwise distances between the unlabeled pool and
pool ∪ labeled set, then running the greedy over its columns. This script times
:func:`alvae.strategies.coreset.k_center_greedy` (a running min-distance vector,
one distance row per pick) against that brute force on the same seeded random
features (float32, 512-d), for several pool sizes, and reports the time and the
peak memory of each, and whether both picked the same points (at this size
float32 near-ties do occur; where the picks first differ the script checks, in
float64, that the two candidates were tied to float32 precision).

Each method runs in a fresh subprocess; its peak memory is the rise of the
process's peak resident set (VmHWM, reset through /proc/self/clear_refs once
the features exist) over its resident set before the method; for the numpy
brute force tracemalloc's peak is reported too, for the torch method on CUDA
``torch.cuda.max_memory_allocated``. A brute force that would not fit in 80 % of
this machine's memory is not run: it is recorded as skipped with the memory its
matrix needs. ``time_ratio`` and ``memory_ratio`` are brute force over k-center
greedy (peak resident-set rise).

    python bench/bench_coreset.py                 # N = 10k, 30k, 100k; 3,000 labeled; budget 3,000
    python bench/bench_coreset.py --quick         # N = 2,000; 200 labeled; budget 200
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

METHODS = ("k_center_greedy", "brute_force_nxn")


# --- the two methods ---------------------------------------------------------------

def brute_force_k_center(cand: np.ndarray, lab: np.ndarray, budget: int) -> np.ndarray:
    """Full N × (L + N) matrix of squared distances, then greedy over its columns.

    Same numerics as ``k_center_greedy`` (‖a‖² + ‖b‖² − 2a·b clamped at 0 after
    a common shift by the first labeled point, ties to the lowest position), so
    that both must pick the same points.
    """
    shift = (lab[0] if len(lab) else cand[0]).copy()
    x = cand - shift
    y = np.concatenate([lab - shift, x])
    d = x @ y.T                                   # N × (L + N): the memory cost
    d *= -2
    d += np.einsum("ij,ij->i", x, x)[:, None]
    d += np.einsum("ij,ij->i", y, y)[None, :]
    np.maximum(d, 0, out=d)
    n_lab = len(lab)
    mind = d[:, :n_lab].min(axis=1) if n_lab else np.full(len(cand), np.inf, np.float32)
    picks = np.empty(budget, dtype=np.int64)
    for k in range(budget):
        j = int(np.argmax(mind))
        picks[k] = j
        np.minimum(mind, d[:, n_lab + j], out=mind)
        mind[j] = -np.inf
    return picks


# --- worker: one method, one size, in a fresh process ------------------------------

def _status_kb(key: str) -> int:
    m = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(m.group(1)) if m else 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def make_features(n: int, n_lab: int, dim: int, seed: int):
    rng = np.random.default_rng(seed)
    feats = rng.standard_normal((n_lab + n, dim), dtype=np.float32)
    return feats[n_lab:], feats[:n_lab]


def worker(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    cand, lab = make_features(args.n, args.labeled, args.dim, args.seed)
    out = {"method": args.worker, "n": args.n}
    if args.worker == "k_center_greedy":
        from alvae.strategies.coreset import k_center_greedy

        device = torch.device(args.device)
        c, l_ = torch.from_numpy(cand).to(device), torch.from_numpy(lab).to(device)
        k_center_greedy(c[:64], l_[:64], 8)  # warm-up (kernels, allocator)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base_gpu = torch.cuda.memory_allocated()
        base = _status_kb("VmRSS")
        out["peak_reset"] = _reset_peak()
        t0 = time.perf_counter()
        picks = k_center_greedy(c, l_, args.budget)
        if device.type == "cuda":
            torch.cuda.synchronize()
            out["gpu_peak_bytes"] = torch.cuda.max_memory_allocated() - base_gpu
        out["seconds"] = time.perf_counter() - t0
    else:
        import tracemalloc

        brute_force_k_center(cand[:64], lab[:64], 8)
        base = _status_kb("VmRSS")
        out["peak_reset"] = _reset_peak()
        tracemalloc.start()
        t0 = time.perf_counter()
        picks = brute_force_k_center(cand, lab, args.budget)
        out["seconds"] = time.perf_counter() - t0
        out["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out["peak_rss_delta_bytes"] = max(0, _status_kb("VmHWM") - base) * 1024
    out["device"] = args.device if args.worker == "k_center_greedy" else "cpu"
    np.save(args.picks, picks)
    print("RESULT " + json.dumps(out))


# --- driver -----------------------------------------------------------------------

def mem_total_bytes() -> int:
    m = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return int(m.group(1)) * 1024


def run_worker(method: str, n: int, args, picks_path: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", method, "--n", str(n), "--labeled",
           str(args.labeled), "--budget", str(args.budget), "--dim", str(args.dim), "--seed",
           str(args.seed), "--device", args.device, "--threads", str(args.threads),
           "--picks", str(picks_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{method} N={n} failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def compare_picks(a: np.ndarray, b: np.ndarray, n: int, args) -> dict:
    """Same picks? If not, look at the first difference: both methods had the same
    history up to there, so compare the two candidates' exact (float64) squared
    distances to that labeled set. A relative gap near float32 precision
    (< 1e-5) means a float32 near-tie broken differently by the two summation
    orders, not an algorithmic difference; after it the sequences diverge."""
    same = a == b
    out = {"identical_picks": bool(same.all()), "first_difference": None,
           "overlap": len(np.intersect1d(a, b)) / max(len(a), 1)}
    if same.all():
        return out
    k = int(np.argmin(same))
    cand, lab = make_features(n, args.labeled, args.dim, args.seed)
    hist = np.concatenate([lab, cand[a[:k]]]).astype(np.float64)
    d = [float(((hist - cand[j].astype(np.float64)) ** 2).sum(axis=1).min()) for j in (a[k], b[k])]
    gap = abs(d[0] - d[1]) / max(abs(d[0]), abs(d[1]), 1e-30)
    out.update({"first_difference": k,
                "first_difference_exact_min_sq_dist": {"k_center_greedy": d[0],
                                                       "brute_force_nxn": d[1]},
                "first_difference_relative_gap": gap,
                "first_difference_is_float32_near_tie": bool(gap < 1e-5)})
    return out


def fmt_bytes(b) -> str:
    return "-" if b is None else f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.1f} MiB"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000],
                   help="unlabeled pool sizes N")
    p.add_argument("--labeled", type=int, default=3000, help="labeled points already there")
    p.add_argument("--budget", type=int, default=3000)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "coreset.json")
    p.add_argument("--mem-fraction", type=float, default=0.8,
                   help="skip a brute force whose matrix exceeds this fraction of RAM")
    p.add_argument("--quick", action="store_true", help="N=2000, 200 labeled, budget 200")
    p.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--picks", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.quick:
        args.sizes, args.labeled, args.budget = [2000], 200, 200

    ram = mem_total_bytes()
    result = {
        "benchmark": "k-center greedy (O(N·d)) vs N×N distance matrix",
        "config": {"sizes": args.sizes, "labeled": args.labeled, "budget": args.budget,
                   "dim": args.dim, "dtype": "float32", "seed": args.seed, "device": args.device,
                   "threads": args.threads},
        "machine": {"cpus": os.cpu_count(), "ram_bytes": ram, "platform": platform.platform(),
                    "python": platform.python_version()},
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            row = {"n": n}
            fast = run_worker("k_center_greedy", n, args, Path(tmp) / "fast.npy")
            row["k_center_greedy"] = fast
            need = n * (n + args.labeled) * 4
            if need > args.mem_fraction * ram:
                row["brute_force_nxn"] = {
                    "method": "brute_force_nxn", "n": n, "skipped": True,
                    "matrix_bytes": need,
                    "reason": f"the {n}×{n + args.labeled} float32 matrix needs {fmt_bytes(need)}, "
                              f"more than {args.mem_fraction:.0%} of {fmt_bytes(ram)} RAM"}
            else:
                brute = run_worker("brute_force_nxn", n, args, Path(tmp) / "brute.npy")
                brute["matrix_bytes"] = need
                row["brute_force_nxn"] = brute
                a, b = np.load(Path(tmp) / "fast.npy"), np.load(Path(tmp) / "brute.npy")
                row.update(compare_picks(a, b, n, args))
                row["time_ratio"] = brute["seconds"] / fast["seconds"]
                row["memory_ratio"] = (brute["peak_rss_delta_bytes"]
                                       / max(fast["peak_rss_delta_bytes"], 1))
            result["runs"].append(row)
            print_row(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


_header_done = False


def print_row(row: dict) -> None:
    global _header_done
    if not _header_done:
        print(f"{'N':>8} {'method':<16} {'time':>9} {'peak mem':>11} {'tracemalloc':>11}  notes")
        _header_done = True
    for m in METHODS:
        r = row[m]
        if r.get("skipped"):
            print(f"{row['n']:>8} {m:<16} {'skipped':>9} {fmt_bytes(r['matrix_bytes']):>11} "
                  f"{'-':>11}  matrix alone would need {fmt_bytes(r['matrix_bytes'])}")
            continue
        note = ""
        if m == "brute_force_nxn":
            note = (f"{row['time_ratio']:.2f}x the time, {row['memory_ratio']:.1f}x the memory; "
                    f"picks identical: {row['identical_picks']}")
            if not row["identical_picks"]:
                note += (f" (first difference at pick {row['first_difference']}: exact distances "
                         f"differ by {row['first_difference_relative_gap']:.1e} relative"
                         f"{', a float32 near-tie' if row['first_difference_is_float32_near_tie'] else ''}"
                         f"; overlap {row['overlap']:.1%})")
        elif "gpu_peak_bytes" in r:
            note = f"GPU peak {fmt_bytes(r['gpu_peak_bytes'])}"
        print(f"{row['n']:>8} {m:<16} {r['seconds']:>8.2f}s {fmt_bytes(r['peak_rss_delta_bytes']):>11} "
              f"{fmt_bytes(r.get('tracemalloc_peak_bytes')):>11}  {note}")


if __name__ == "__main__":
    sys.exit(main())
