"""Snakemake adapter: accuracy against the α scale, table and figure (rule alpha_sweep)."""

import pandas as pd

from alvae.analysis.alpha_report import alpha_sweep_table, plot_alpha_sweep
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
p, out = snakemake.params, snakemake.output
sweep = alpha_sweep_table(pd.read_csv(snakemake.input.runs), p.labels, p.metric)
write_text_atomic(out.table, sweep.to_csv(index=False))
plot_alpha_sweep(sweep, p.metric, out.png, out.pdf)
log(f"alpha sweep: {len(sweep)} strategy labels")
