"""The features study (presets/features.yaml) beside CDALBench's SimCLR-encoded
Fashion-MNIST: each strategy's mean test accuracy over all its budgets (CDALBench's
"AUC": the mean accuracy over every acquisition step), mean ± sd over seeds, and the
verdict counts of the study's tests.

CDALBench (Werner et al., "A Cross-Domain Benchmark for Active Learning"), repository
wernerth94/A-Cross-Domain-Benchmark-for-Active-Learning, results/result_micro_enc_fmnist.csv
at f4929987e274c74658bbe5d20a1b23939cb03cfc (also doc/al_benchmark_paper.tex at 990e3525,
table FashionMnistEncoded): 50 runs, 10 -> 510 labels, query size 1.

    python bench/cdalbench_compare.py results/features   # markdown on stdout, JSON beside
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

CDALBENCH = {  # mean ± sd of the AUC over 50 runs (the values quoted in the brief's sources)
    "oracle": (0.732, 0.006), "coreset": (0.686, 0.008), "badge": (0.685, 0.008),
    "entropy": (0.684, 0.009), "margin": (0.682, 0.011), "bald": (0.668, None),
    "typiclust": (0.652, None), "random": (0.640, 0.011)}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    res = Path(argv[0] if argv else "results/features") / "results"
    runs = pd.read_csv(res / "runs.csv")
    per_run = runs.groupby(["strategy", "seed"])["test_acc"].mean().rename("mean_acc").reset_index()
    table = per_run.groupby("strategy")["mean_acc"].agg(["mean", "std", "count"])
    table = table.sort_values("mean", ascending=False)
    tests = pd.read_csv(res / "tests.csv")
    aulc = pd.read_csv(res / "tests_aulc.csv")
    prim = tests[tests["role"] == "primary"]
    prim_aulc = aulc[aulc["role"] == "primary"]
    counts = {"per budget, primary metric": prim["verdict"].value_counts().to_dict(),
              "AULC, primary metric": prim_aulc["verdict"].value_counts().to_dict()}
    by_family = {f: g["verdict"].value_counts().to_dict() for f, g in prim.groupby("family")}
    lines = ["| strategy | alvae: mean accuracy over budgets, mean ± sd (seeds) | CDALBench AUC (50 runs) |",
             "|---|---|---|"]
    for s, r in table.iterrows():
        ref = CDALBENCH.get(s)
        ref_s = "" if ref is None else (f"{ref[0]:.3f}" + (f" ± {ref[1]:.3f}" if ref[1] else ""))
        lines.append(f"| {s} | {r['mean']:.3f} ± {r['std']:.3f} ({int(r['count'])}) | {ref_s} |")
    ceiling = res / "ceiling.csv"
    if ceiling.is_file():
        c = pd.read_csv(ceiling)["test_acc"]
        lines.append(f"| all-labels ceiling (linear probe on the whole pool) | {c.mean():.3f} ± "
                     f"{c.std():.3f} ({len(c)}) | oracle {CDALBENCH['oracle'][0]:.3f} (not the same "
                     f"thing) |")
    print("\n".join(lines))
    print()
    for k, v in counts.items():
        print(f"{k}: {v}")
    for k, v in by_family.items():
        print(f"  {k}: {v}")
    out = {"table": table.reset_index().to_dict(orient="records"), "verdicts": counts,
           "verdicts_by_family": by_family, "cdalbench": CDALBENCH}
    (res / "cdalbench_compare.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
