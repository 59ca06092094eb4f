"""Snakemake adapter: train the VAE on a whole pool, without labels (rule train_vae)."""

import numpy as np
import torch

from alvae.data import load_subset
from alvae.devices import job_device
from alvae.logs import job_logger
from alvae.vae import encode_means, save_loss_table, save_reconstruction_figure, save_vae, train_vae

log = job_logger(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
cfg, out = snakemake.params.vae, snakemake.output
sub = load_subset(snakemake.input[0])
with job_device(snakemake.resources.get("gpu", 1), snakemake.config.get("gpu", {}), log) as device:
    model, history = train_vae(sub.pool_images, latent_dim=cfg["latent_dim"], epochs=cfg["epochs"],
                               lr=cfg["lr"], weight_decay=cfg["weight_decay"],
                               batch_size=cfg["batch_size"], seed=snakemake.params.seed,
                               device=device, log=log)
    save_vae(model, out.model)
    np.save(out.latents, encode_means(model, sub.pool_images, device=device))
    save_loss_table(history, out.losses)
    save_reconstruction_figure(model, sub.preview_images, out.figure, device=device)
log(f"latents {out.latents}")
