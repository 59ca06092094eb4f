"""Snakemake adapter: labels saved over random sampling (rule labels_saved)."""

import pandas as pd

from alvae.analysis.labels_saved import labels_saved, labels_saved_figure, primary_metrics
from alvae.analysis.plots import NAMES
from alvae.io import atomic_path
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p, out = snakemake.params, snakemake.output
runs = pd.read_csv(snakemake.input.runs)
primary = primary_metrics(pd.read_csv(snakemake.input.datasets))
tests = pd.read_csv(snakemake.input.tests)
log(f"primary metrics {primary}; {p.level:.0%} t interval of the paired difference, mapped "
    "to labels; claims gated by the adjusted paired tests of tests.csv")
table = labels_saved(runs, primary, reference=p.reference, level=p.level, tests=tests)
with atomic_path(out.table) as tmp:
    table.to_csv(tmp, index=False)
labels_saved_figure(table, out.png, out.pdf, NAMES)
for r in table.itertuples():
    log(f"{r.dataset} {r.strategy} at {r.n_labels}: score {r.score:.4f}, random needs "
        f"{r.random_needed_text}, saved {r.labels_saved:.1f} ({r.ci_text}); test "
        f"{r.test_verdict} (p_adj {r.p_adj:.3g}): {r.claim}")
log("done")
