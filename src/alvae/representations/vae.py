"""Kind ``vae``: the thesis's unsupervised VAE (:mod:`alvae.vae`), labels unused."""

from __future__ import annotations

import numpy as np

from .. import vae as thesis_vae
from .base import RepresentationResult, check_init_state


def fit(images_uint8, labels, labeled, *, task, n_classes, vae_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    """Train (or continue training) the thesis VAE on the whole pool; the
    representation is the latent mean. ``labels``/``labeled`` are ignored."""
    images = thesis_vae._check_images(images_uint8)
    n, c, h, w = images.shape
    config = {"in_channels": c, "height": h, "width": w, "latent_dim": int(vae_cfg["latent_dim"])}
    model = None
    if init_state is not None:
        check_init_state(init_state, "vae", config)
        model = thesis_vae.VAE(**config)
        model.load_state_dict(init_state["state_dict"])
    model, history = thesis_vae.train_vae(
        images, latent_dim=config["latent_dim"],
        epochs=int(vae_cfg["epochs"] if epochs is None else epochs),
        lr=vae_cfg["lr"], weight_decay=vae_cfg["weight_decay"], batch_size=vae_cfg["batch_size"],
        seed=seed, device=device, log=log, model=model)
    latents = thesis_vae.encode_means(model, images, device=device)
    state = {"kind": "vae", "config": dict(model.config),
             "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    return RepresentationResult(state, np.asarray(latents, dtype=np.float32), history, model)


MODEL = thesis_vae.VAE  # the module class a saved state rebuilds (alvae.representations.diagnostics)
