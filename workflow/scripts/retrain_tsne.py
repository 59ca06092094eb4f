"""Snakemake adapter: t-SNE of the retrained latents, first and last round (rule retrain_tsne)."""

import numpy as np
import torch

from alvae.analysis.retrain_report import save_round_tsne
from alvae.data.loaders import load_subset
from alvae.logs import job_logger

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
pool_labels = load_subset(snakemake.input.subset).pool_labels
rounds = {}
for label, path in zip(p.labels, snakemake.input.latents):
    with np.load(path) as npz:
        rounds[label] = {k: npz[k] for k in npz.files}
n = save_round_tsne(rounds, pool_labels, snakemake.output[0], p.seed)
log(f"t-SNE of the retrained latents: {n} representation(s), seed {p.seed}")
