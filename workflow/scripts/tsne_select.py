"""Snakemake adapter: the t-SNE selection experiment (rule tsne_select)."""

import numpy as np
import torch

from alvae.al.tsne_experiment import select_for_tsne
from alvae.data.loaders import load_subset
from alvae.io import atomic_path
from alvae.logs import job_logger
from alvae.training.devices import job_device

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p = snakemake.params
sub = load_subset(snakemake.input.subset, snakemake.input.evaluation)
latents = np.load(snakemake.input.latents) if "latents" in snakemake.input.keys() else None
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    arrays = select_for_tsne(sub, p.tsne, p.task_model, p.alpha, latents, device, log)
with atomic_path(snakemake.output[0]) as tmp:
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
