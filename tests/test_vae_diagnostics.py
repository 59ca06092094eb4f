"""The vae_diagnostics rule's library call: the kNN row of a representation read back
from the files train_vae saved equals the row of the freshly trained one."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from alvae.representations import train_representation
from alvae.representations import diagnostics as diag


@pytest.mark.parametrize("kind", ["vae", "cvae", "gmvae"])
def test_stored_diagnostics_equal_the_trained_ones(tmp_path, kind):
    d = load_digits()
    images = (d.images[:, None] * 16).clip(0, 255).astype(np.uint8)
    pool, test = slice(0, 300), slice(300, 400)
    labels = d.target.astype(np.int64)
    labeled = np.arange(0, 300, 10) if kind == "cvae" else None
    cfg = {"latent_dim": 4, "epochs": 2, "lr": 1e-3, "weight_decay": 0.0, "batch_size": 64,
           "gmvae": {"components": 3, "pretrain_epochs": 1}}
    res = train_representation(kind, images[pool], labels[pool], labeled, task="multi-class",
                               n_classes=10, vae_cfg=cfg, seed=0)
    torch.save(res.state, tmp_path / "model.pt")
    np.save(tmp_path / "latents.npy", res.latents)
    diag.save_loss_table(res.losses, tmp_path / "losses.csv")
    kw = dict(kind=kind, dataset="digits", scope="shared", seed=0, task="multi-class",
              pool_images=images[pool], pool_labels=labels[pool], test_images=images[test],
              test_labels=labels[test], n_labeled=0)
    fresh = diag.latent_diagnostics(res, **kw)
    stored = diag.stored_diagnostics(tmp_path / "model.pt", tmp_path / "latents.npy",
                                     tmp_path / "losses.csv", **kw)
    assert 0.0 < fresh["knn_acc"] <= 1.0
    for key in ("knn_acc", "knn_acc_pixels", "epochs", "latent_dim"):
        assert stored[key] == fresh[key], key
    assert stored["final_loss"] == pytest.approx(fresh["final_loss"], rel=1e-6, nan_ok=True)
