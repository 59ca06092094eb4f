"""Snakemake adapter: train one representation kind on a pool (rule train_representation) and
draw its loss table, reconstructions and t-SNE. The pool file is its only input:
the kNN accuracy on the test split is rule representation_diagnostics."""

import numpy as np
import torch

from alvae.data.loaders import load_subset
from alvae.logs import job_logger
from alvae.representations import diagnostics as diag
from alvae.representations import train_representation
from alvae.seeds import initial_labeled
from alvae.training.devices import job_device

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
p, out, wc = snakemake.params, snakemake.output, snakemake.wildcards
sub = load_subset(snakemake.input.subset)
labeled = None
if p.initial_labels is not None:  # a kind that uses labels: the AL seed's initial labeled set
    labeled = initial_labeled(len(sub), p.initial_labels, p.seed)
    log(f"{wc.kind}: labels of the {len(labeled)} initial points of AL seed {p.seed}")
with job_device(snakemake.resources.get("gpu", 1), snakemake.config["gpu"], log) as device:  # not config
    res = train_representation(wc.kind, sub.pool_images, sub.pool_labels, labeled, task=sub.task,
                               n_classes=sub.n_classes, rep_cfg=p.representation, seed=p.seed, device=device,
                               log=log)
    torch.save(res.state, out.model)
    np.save(out.latents, res.latents)
    diag.save_loss_table(res.losses, out.losses)
    title = f"{wc.dataset}, {wc.kind} ({wc.scope})"
    diag.save_reconstruction_figure(res.model, sub.preview_images, out.figure, device=device,
                                    title=title)
dim = res.model.config["latent_dim"]
diag.save_tsne_figure(res.latents[:, :dim], sub.pool_labels, out.tsne, seed=p.seed,
                      title=f"{title}: t-SNE of the latent means")
log(f"latents {out.latents} {res.latents.shape}")
