"""Snakemake adapter: kNN accuracy of a trained representation's latent means on the
test split (rule representation_diagnostics)."""

import math

import torch

from alvae.data.loaders import load_subset
from alvae.logs import job_logger
from alvae.representations import diagnostics as diag

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, wc, inp = snakemake.params, snakemake.wildcards, snakemake.input
sub = load_subset(inp.subset, inp.evaluation)
row = diag.stored_diagnostics(inp.model, inp.latents, inp.losses, kind=wc.kind,
                              dataset=wc.dataset, scope=wc.scope, seed=p.seed, task=sub.task,
                              pool_images=sub.pool_images, pool_labels=sub.pool_labels,
                              test_images=sub.test_images, test_labels=sub.test_labels,
                              n_labeled=p.initial_labels or 0)
log(f"kNN({diag.KNN_K}) {row['knn_metric']} on the test split: latent means {row['knn_acc']:.4f}, "
    f"pixels {row['knn_acc_pixels']:.4f}"
    + (f", means + soft labels {row['knn_acc_soft_labels']:.4f}, classifier head "
       f"{row['classifier_acc']:.4f}" if not math.isnan(row["classifier_acc"]) else ""))
diag.write_json(row, snakemake.output[0])
