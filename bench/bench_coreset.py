#!/usr/bin/env python
"""Benchmark: O(N·d) k-center greedy vs the N×N distance-matrix way.

Many active-learning code bases implement core-set selection by first building
the full matrix of pairwise distances between the unlabeled pool and
pool ∪ labeled set, then running the greedy over its columns. This script times
:func:`alvae.strategies.coreset.k_center_greedy` (a running min-distance vector,
one distance row per pick) against two such baselines on the same seeded random
features (float32, 512-d), for several pool sizes, and reports the time and the
peak memory of each, and whether each baseline picked the same points as
k-center greedy (at this size float32 near-ties do occur; where the picks first
differ the script checks, in float64, that the two candidates were tied to
float32 precision):

* ``brute_force_nxn``: a *careful* brute force: the N × (L + N) matrix of
  squared distances, then a running-min greedy over its columns (one column
  read per pick, no copies).
* ``naive_dal``: the KCenterGreedy of ej0cl6/deep-active-learning
  (``query_strategies/kcenter_greedy.py``), the way common AL libraries do it:
  the full (N + L) × (N + L) matrix of distances over the whole pool, then for
  each pick a min over an unlabeled × labeled copy that is rebuilt with
  ``np.delete`` / ``np.append``.

Each method runs in a fresh subprocess; its peak memory is the rise of the
process's peak resident set (VmHWM, reset through /proc/self/clear_refs once
the features exist) over its resident set before the method; for the numpy
baselines tracemalloc's peak is reported too, for the torch method on CUDA
``torch.cuda.max_memory_allocated``. A baseline that would not fit in 80 % of
this machine's memory is not run: it is recorded as skipped with the memory it
needs. ``ratios[baseline]`` holds ``time_ratio`` and ``memory_ratio``: the
baseline over k-center greedy (seconds; peak resident-set rise).

    python bench/bench_coreset.py                 # N = 10k, 30k, 100k; 3,000 labeled; budget 3,000
    python bench/bench_coreset.py --quick         # N = 2,000; 200 labeled; budget 200
    python bench/bench_coreset.py --methods k_center_greedy naive_dal
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

FAST = "k_center_greedy"
BASELINES = ("brute_force_nxn", "naive_dal")
METHODS = (FAST,) + BASELINES


# --- the methods ---------------------------------------------------------------------

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


def naive_dal_k_center(cand: np.ndarray, lab: np.ndarray, budget: int) -> np.ndarray:
    """KCenterGreedy.query of ej0cl6/deep-active-learning, step for step.

    The pool is labeled ∪ candidates (labeled first, so pool position L + j is
    candidate j); ``embedding`` is the float32 pool, as ``get_embedding(...)
    .numpy()`` gives it. As there: (N + L) × (N + L) Gram matrix, turned in place
    into squared distances with the diagonal's norms, then ``np.sqrt`` into a
    second matrix of the same size (not in place, so for a moment both exist);
    the unlabeled × labeled block is copied out (through an unlabeled × pool
    temporary), and each pick takes the row minima, their argmax, deletes that
    row (a copy) and appends the new labeled point's column (another copy). No
    shift is applied, as there. Ties go to the lowest position, as in
    ``k_center_greedy`` (``argmax`` returns the first maximum).

    Two deviations:

    * the original takes ``np.sqrt`` of the unclamped squared distances, so
      float32 rounding can produce tiny negatives and hence NaN (which ``min`` /
      ``argmax`` would then propagate and pick). Here they are clamped at 0 in
      place before the sqrt (no extra memory). The sqrt does not change the
      argmax, only the rounding.
    * ``np.matmul(embedding, embedding.transpose())`` on the transposed *view*
      takes numpy's SYRK path, which with this environment's OpenBLAS
      (scipy-openblas64 0.3.31) segfaults at (N + L) = 33,000, d = 512 (cf.
      numpy/numpy#19685). So the transpose is copied first (an (N + L) × d copy,
      about 1.5 % of the matrix), which makes it a plain GEMM; the product is
      the same, it takes about twice the flops of SYRK.

    Returns candidate positions (pool index − L) in pick order; the original
    returns the same set sorted by pool index.
    """
    n_lab = len(lab)
    embedding = np.concatenate([lab, cand])
    n_pool = len(embedding)
    lb_flag = np.zeros(n_pool, dtype=bool)
    lb_flag[:n_lab] = True

    dist_mat = np.matmul(embedding, embedding.transpose().copy())  # .copy(): see docstring
    sq = np.array(dist_mat.diagonal()).reshape(n_pool, 1)
    dist_mat *= -2
    dist_mat += sq
    dist_mat += sq.transpose()
    np.maximum(dist_mat, 0, out=dist_mat)        # not in the original (see docstring)
    dist_mat = np.sqrt(dist_mat)

    mat = dist_mat[~lb_flag, :][:, lb_flag]
    picks = np.empty(budget, dtype=np.int64)
    for i in range(budget):
        mat_min = mat.min(axis=1)
        q_idx_ = mat_min.argmax()
        q_idx = np.arange(n_pool)[~lb_flag][q_idx_]
        lb_flag[q_idx] = True
        mat = np.delete(mat, q_idx_, 0)
        mat = np.append(mat, dist_mat[~lb_flag, q_idx][:, None], axis=1)
        picks[i] = q_idx - n_lab
    return picks


NUMPY_METHODS = {"brute_force_nxn": brute_force_k_center, "naive_dal": naive_dal_k_center}


def memory_need(method: str, n: int, n_lab: int) -> dict:
    """Bytes a baseline's matrices take (float32).

    ``matrix_bytes``: brute_force_nxn, its N × (L + N) matrix; naive_dal, its
    (N + L)² matrix plus the U × L block it copies out (U = N unlabeled).
    ``peak_estimate_bytes`` (naive_dal): what its code holds at its worst
    moment, the non-in-place ``np.sqrt`` (two (N + L)² matrices), or the
    U × (N + L) temporary of ``dist_mat[~lb_flag, :]`` next to the matrix.
    The skip decision uses the larger of the two.
    """
    if method == "brute_force_nxn":
        b = n * (n + n_lab) * 4
        return {"matrix_bytes": b, "peak_estimate_bytes": b}
    p = n + n_lab
    matrix = (p * p + n * n_lab) * 4
    peak = max(2 * p * p, p * p + n * p, p * p + n * p + n * n_lab) * 4
    return {"matrix_bytes": matrix, "peak_estimate_bytes": peak}


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
    if args.worker == FAST:
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

        fn = NUMPY_METHODS[args.worker]
        fn(cand[:64], lab[:64], 8)  # warm-up
        base = _status_kb("VmRSS")
        out["peak_reset"] = _reset_peak()
        tracemalloc.start()
        t0 = time.perf_counter()
        picks = fn(cand, lab, args.budget)
        out["seconds"] = time.perf_counter() - t0
        out["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out["peak_rss_delta_bytes"] = max(0, _status_kb("VmHWM") - base) * 1024
    out["device"] = args.device if args.worker == FAST else "cpu"
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
        raise RuntimeError(f"{method} N={n} failed (exit status {proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def compare_picks(a: np.ndarray, b: np.ndarray, method: str, n: int, args) -> dict:
    """Same picks as k-center greedy (``a``)? If not, look at the first difference:
    both methods had the same history up to there, so compare the two
    candidates' exact (float64) squared distances to that labeled set. A
    relative gap near float32 precision (< 1e-5) means a float32 near-tie broken
    differently by the two summation orders, not an algorithmic difference;
    after it the sequences diverge."""
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
                "first_difference_exact_min_sq_dist": {FAST: d[0], method: d[1]},
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
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                   help="methods to run (ratios and pick comparisons need k_center_greedy)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "coreset.json")
    p.add_argument("--mem-fraction", type=float, default=0.8,
                   help="skip a baseline whose matrices exceed this fraction of RAM")
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
    methods = [m for m in METHODS if m in args.methods]

    ram = mem_total_bytes()
    result = {
        "benchmark": "k-center greedy (O(N·d)) vs N×N distance matrix "
                     "(careful brute force; naive deep-active-learning KCenterGreedy)",
        "config": {"sizes": args.sizes, "labeled": args.labeled, "budget": args.budget,
                   "dim": args.dim, "dtype": "float32", "seed": args.seed, "device": args.device,
                   "threads": args.threads, "methods": methods},
        "machine": {"cpus": os.cpu_count(), "ram_bytes": ram, "platform": platform.platform(),
                    "python": platform.python_version()},
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            row = {"n": n}
            if FAST in methods:
                row[FAST] = run_worker(FAST, n, args, Path(tmp) / f"{FAST}.npy")
            for m in methods:
                if m == FAST:
                    continue
                need = memory_need(m, n, args.labeled)
                if need["peak_estimate_bytes"] > args.mem_fraction * ram:
                    row[m] = {"method": m, "n": n, "skipped": True, **need,
                              "reason": f"needs {fmt_bytes(need['peak_estimate_bytes'])} "
                                        f"(matrices {fmt_bytes(need['matrix_bytes'])}), more than "
                                        f"{args.mem_fraction:.0%} of {fmt_bytes(ram)} RAM"}
                    continue
                r = run_worker(m, n, args, Path(tmp) / f"{m}.npy")
                r.update(need)
                row[m] = r
                if FAST in methods:
                    a, b = np.load(Path(tmp) / f"{FAST}.npy"), np.load(Path(tmp) / f"{m}.npy")
                    row.setdefault("picks_vs_k_center_greedy", {})[m] = compare_picks(
                        a, b, m, n, args)
                    fast = row[FAST]
                    row.setdefault("ratios", {})[m] = {
                        "time_ratio": r["seconds"] / fast["seconds"],
                        "memory_ratio": (r["peak_rss_delta_bytes"]
                                         / max(fast["peak_rss_delta_bytes"], 1))}
            # methods first, then the comparisons
            row = {k: row[k] for k in ["n", *methods, "picks_vs_k_center_greedy", "ratios"]
                   if k in row}
            result["runs"].append(row)
            print_row(row, methods)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


_header_done = False


def print_row(row: dict, methods) -> None:
    global _header_done
    if not _header_done:
        print(f"{'N':>8} {'method':<16} {'time':>9} {'peak mem':>11} {'tracemalloc':>11} "
              f"{'time ratio':>10} {'mem ratio':>9}  notes", flush=True)
        _header_done = True
    for m in methods:
        r = row[m]
        if r.get("skipped"):
            print(f"{row['n']:>8} {m:<16} {'skipped':>9} {fmt_bytes(r['peak_estimate_bytes']):>11} "
                  f"{'-':>11} {'-':>10} {'-':>9}  would need "
                  f"{fmt_bytes(r['peak_estimate_bytes'])}", flush=True)
            continue
        ratio = row.get("ratios", {}).get(m)
        tr = f"{ratio['time_ratio']:.2f}x" if ratio else "-"
        mr = f"{ratio['memory_ratio']:.1f}x" if ratio else "-"
        note = ""
        cmp_ = row.get("picks_vs_k_center_greedy", {}).get(m)
        if cmp_:
            note = f"picks identical: {cmp_['identical_picks']}"
            if not cmp_["identical_picks"]:
                note += (f" (first difference at pick {cmp_['first_difference']}: exact distances "
                         f"differ by {cmp_['first_difference_relative_gap']:.1e} relative"
                         f"{', a float32 near-tie' if cmp_['first_difference_is_float32_near_tie'] else ''}"
                         f"; overlap {cmp_['overlap']:.1%})")
        elif "gpu_peak_bytes" in r:
            note = f"GPU peak {fmt_bytes(r['gpu_peak_bytes'])}"
        print(f"{row['n']:>8} {m:<16} {r['seconds']:>8.2f}s {fmt_bytes(r['peak_rss_delta_bytes']):>11} "
              f"{fmt_bytes(r.get('tracemalloc_peak_bytes')):>11} {tr:>10} {mr:>9}  {note}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
