"""Snakemake adapter: latent share per round, table and figure (rule latent_share)."""

import pandas as pd

from alvae.analysis.alpha_report import latent_share_table, plot_latent_share
from alvae.io import write_text_atomic
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
out = snakemake.output
table = latent_share_table(pd.read_csv(snakemake.input.runs), snakemake.params.strategies)
write_text_atomic(out.table, table.to_csv(index=False))
plot_latent_share(table, out.png, out.pdf)
log(f"latent share: {len(table)} rows; overall mean {table['mean'].mean():.3f}")
