"""Snakemake adapter: the kNN accuracies of every representation in one table (rule latent_knn)."""

from alvae.logs import job_logger
from alvae.representations.diagnostics import knn_table

log = job_logger(snakemake.log[0])
rows = knn_table(list(snakemake.input), snakemake.output[0])
for r in rows:
    log(f"{r['dataset']} {r['kind']} {r['scope']}: kNN {r['knn_acc']:.4f} (pixels {r['knn_acc_pixels']:.4f})")
