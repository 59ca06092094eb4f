"""Snakemake adapter: kNN accuracy of the retrained latents per round (rule retrain_knn)."""

import pandas as pd

from alvae.analysis.retrain_report import latent_knn_rounds_table, plot_latent_knn_rounds
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
out = snakemake.output
table = latent_knn_rounds_table(pd.read_csv(snakemake.input.runs), snakemake.params.strategies)
write_text_atomic(out.table, table.to_csv(index=False))
plot_latent_knn_rounds(table, out.png, out.pdf)
log(f"latent kNN per round: {len(table)} rows")
