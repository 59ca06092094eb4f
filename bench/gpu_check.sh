#!/usr/bin/env bash
# make gpu-check: prove the CUDA path and measure it, in one command.
#
#   bash bench/gpu_check.sh                 # all parts (make gpu-check)
#   PART=tests bash bench/gpu_check.sh      # one part: tests | bench | coreset | grid
#   PY=python3 GPU_RESULTS=/tmp/gpu bash bench/gpu_check.sh
#
# Parts (each writes JSON under $GPU_RESULTS, default bench/results/gpu/):
#   tests    pytest -m cuda                                      -> tests.json
#   bench    bench_training --device cuda: engine / DataLoader / compute bound,
#            compile modes, deterministic cost, jobs_per_gpu 1 2 4 -> training.json
#   coreset  bench_coreset k-center greedy, cuda at 100k and 1M x 512, cpu at 100k
#                                                                -> coreset_cuda.json, coreset_cpu.json
#   grid     Snakemake mini-grid on real Fashion-MNIST, 2 strategies x 2 seeds x 3 rounds,
#            --resources gpu=$GRID_GPUS                          -> grid.json
# and always the summary: summary.md (device, driver, torch, thesis-grid projection).
#
# Sizes (environment): TRAIN_IMAGES (50000), JOB_IMAGES (20000), COMPILE_MODES
# ("none default cudagraphs"), JOBS ("1 2 4"), CORESET_SIZES ("100000 1000000"),
# CORESET_CPU_SIZES (100000), FMNIST_ROOT (/usr/share/datasets/fashion-mnist),
# GRID_GPUS (4: job slots on one GPU, gpu.jobs_per_gpu 4), GRID_CORES (8).
set -u
cd "$(dirname "$0")/.."
PY=${PY:-python3}
PART=${PART:-all}
RES=${GPU_RESULTS:-bench/results/gpu}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
mkdir -p "$RES"
status=0
DEVICE=cuda
if ! $PY -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    if [ "${FORCE_CPU:-0}" = 1 ]; then
        DEVICE=cpu
        echo "no CUDA device: FORCE_CPU=1, running every part on the CPU (a dry run of the scripts)"
    else
        echo "no CUDA device: the CUDA tests are collected and skipped; bench, coreset and grid"
        echo "need a GPU (FORCE_CPU=1 runs them on the CPU as a dry run)"
        [ "$PART" = all ] || [ "$PART" = tests ] || { PART=none; }
        [ "$PART" = all ] && PART=tests
    fi
fi

want() { [ "$PART" = all ] || [ "$PART" = "$1" ]; }
stamp() { echo "== $(date -u +%H:%M:%S) $*"; }

if want tests; then
    stamp "tests: pytest -m cuda"
    t0=$(date +%s.%N)
    $PY -m pytest -m cuda -q -p no:cacheprovider tests --junitxml "$RES/tests.xml" \
        2>&1 | tee "$RES/tests.log"
    rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] || status=1
    $PY - "$RES" "$rc" "$t0" <<'EOF'
import json, sys, time, xml.etree.ElementTree as ET
res, rc, t0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
suite = ET.parse(f"{res}/tests.xml").getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
cases = []
for c in suite.iter("testcase"):
    state = "passed"
    for tag in ("failure", "error", "skipped"):
        el = c.find(tag)
        if el is not None:
            state = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
            msg = (el.get("message") or "")[:500]
            break
    else:
        msg = ""
    cases.append({"test": c.get("name"), "state": state, "seconds": float(c.get("time", 0)),
                  "message": msg})
json.dump({"part": "tests", "command": "pytest -m cuda tests", "exit_status": rc,
           "wall_s": time.time() - t0, "cases": cases,
           "counts": {s: sum(c["state"] == s for c in cases)
                      for s in ("passed", "failed", "error", "skipped")}},
          open(f"{res}/tests.json", "w"), indent=2)
EOF
fi

if want coreset; then
    stamp "coreset: k-center greedy, cuda and cpu"
    $PY bench/bench_coreset.py --device $DEVICE --methods k_center_greedy \
        --sizes ${CORESET_SIZES:-100000 1000000} --budget ${CORESET_BUDGET:-3000} --labeled 3000 \
        --out "$RES/coreset_$DEVICE.json" || status=1
    [ $DEVICE = cpu ] || $PY bench/bench_coreset.py --device cpu --methods k_center_greedy \
        --sizes ${CORESET_CPU_SIZES:-100000} --budget ${CORESET_BUDGET:-3000} --labeled 3000 \
        --out "$RES/coreset_cpu.json" || status=1
fi

if want grid; then
    stamp "grid: snakemake mini-grid on Fashion-MNIST"
    GRID_OUT=${GRID_OUT:-results/gpu-grid}
    rm -rf "$GRID_OUT"
    cfg=$(mktemp --suffix .yaml)
    $PY - "$cfg" "${FMNIST_ROOT:-/usr/share/datasets/fashion-mnist}" "$GRID_OUT" "${GRID_CONFIG:-bench/gpu/grid.yaml}" <<'EOF'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[4]))
cfg["datasets"]["fashion_mnist"]["root"] = sys.argv[2]
cfg["out_dir"] = sys.argv[3]
yaml.safe_dump(cfg, open(sys.argv[1], "w"))
EOF
    t0=$(date +%s.%N)
    $PY -m snakemake --cores ${GRID_CORES:-8} --resources gpu=${GRID_GPUS:-4} \
        --configfile "$cfg" --rerun-triggers mtime 2>&1 | tee "$RES/grid.log" | tail -n 30
    rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] || status=1
    $PY - "$RES" "$rc" "$t0" "$GRID_OUT" "$cfg" "${GRID_GPUS:-4}" <<'EOF'
import csv, glob, json, os, sys, time, yaml
res, rc, t0, out, cfg, gpus = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), *sys.argv[4:]
jobs = {}
for path in glob.glob(f"{out}/benchmarks/**/*.tsv", recursive=True):
    with open(path) as fh:
        row = next(csv.DictReader(fh, delimiter="\t"))
    jobs[os.path.relpath(path, f"{out}/benchmarks")] = float(row["s"])
runs = []
for path in sorted(glob.glob(f"{out}/runs/*/*/seed*/metrics.csv")):
    rows = list(csv.DictReader(open(path)))
    runs.append({"run": os.path.relpath(os.path.dirname(path), f"{out}/runs"),
                 "rounds": len(rows), "final_test_acc": float(rows[-1]["test_acc"]),
                 "train_time_s": sum(float(r["train_time_s"]) for r in rows),
                 "select_time_s": sum(float(r["select_time_s"]) for r in rows),
                 "epochs": [int(r["epochs"]) for r in rows],
                 "n_labels": [int(r["n_labels"]) for r in rows]})
devices = []
for path in glob.glob(f"{out}/logs/al_run/**/*.log", recursive=True):
    devices += [ln.split("] ", 1)[-1].strip() for ln in open(path) if "device:" in ln][:1]
json.dump({"part": "grid", "exit_status": rc, "wall_s": time.time() - t0,
           "resources_gpu": int(gpus), "config": yaml.safe_load(open(cfg)),
           "job_seconds": jobs, "runs": runs, "al_run_devices": devices},
          open(f"{res}/grid.json", "w"), indent=2)
EOF
fi

if want bench; then
    stamp "bench: training throughput"
    $PY bench/bench_training.py --device $DEVICE --images ${TRAIN_IMAGES:-50000} --workers 4 \
        --deterministic-cost --jobs-per-gpu ${JOBS:-1 2 4} --job-images ${JOB_IMAGES:-20000} \
        --compile-modes ${COMPILE_MODES:-none default cudagraphs} \
        --out "$RES/training.json" || status=1
fi

stamp "summary"
$PY bench/gpu_summary.py "$RES" || status=1
stamp "done (status $status)"
exit $status
