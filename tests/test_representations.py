"""Representation kinds (alvae.representations) on sklearn's 8x8 digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from alvae.representations import REPRESENTATION_KINDS, train_representation
from alvae.vae import encode_means, train_vae

CFG = {"latent_dim": 4, "epochs": 2, "lr": 1e-3, "weight_decay": 5e-3, "batch_size": 64}
quiet = dict(log=lambda s: None)


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    images = np.round(d.images * (255 / 16)).astype(np.uint8)[:, None]
    return images, d.target.astype(np.int64)


def fit(kind, images, labels, labeled=None, cfg=CFG, **kw):
    return train_representation(kind, images, labels, labeled, task="multi-class", n_classes=10,
                                vae_cfg=cfg, seed=kw.pop("seed", 3), **quiet, **kw)


def test_vae_kind_equals_the_thesis_vae_bit_for_bit(digits):
    images, labels = digits[0][:300], digits[1][:300]
    res = fit("vae", images, labels, None)
    model, history = train_vae(images, latent_dim=4, epochs=2, lr=1e-3, weight_decay=5e-3,
                               batch_size=64, seed=3, **quiet)
    want = encode_means(model, images)
    assert res.latents.dtype == np.float32 and res.latents.shape == (300, 4)
    assert np.array_equal(res.latents, want)
    assert [h["loss"] for h in res.losses] == [h["loss"] for h in history]
    # labels are not used by the plain VAE
    assert np.array_equal(fit("vae", images, labels, np.arange(50)).latents, want)
    torch.save(res.state, "/dev/null")  # saveable


def test_vae_warm_start_continues(digits):
    images, labels = digits[0][:300], digits[1][:300]
    first = fit("vae", images, labels)
    more = fit("vae", images, labels, init_state=first.state, epochs=2)
    cold = fit("vae", images, labels, epochs=2)
    assert len(more.losses) == 2
    assert more.losses[0]["loss"] < first.losses[0]["loss"]  # starts from the trained weights
    assert not np.array_equal(more.latents, first.latents)
    assert not np.array_equal(more.latents, cold.latents)
    zero = fit("vae", images, labels, init_state=first.state, epochs=0)
    assert np.array_equal(zero.latents, first.latents) and zero.losses == []
    again = fit("vae", images, labels, init_state=first.state, epochs=2)
    assert np.array_equal(again.latents, more.latents)  # deterministic warm start


def test_bad_input_is_named(digits):
    images, labels = digits[0][:50], digits[1][:50]
    with pytest.raises(ValueError, match="unknown representation kind 'nope'"):
        fit("nope", images, labels)
    first = fit("vae", images, labels, epochs=0)
    with pytest.raises(ValueError, match="latent_dim"):
        fit("vae", images, labels, cfg={**CFG, "latent_dim": 5}, init_state=first.state)
    assert "vae" in REPRESENTATION_KINDS
