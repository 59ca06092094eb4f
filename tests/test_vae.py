"""The VAE on sklearn's 8×8 digits (uint8 N×1×8×8) and shapes at 28×28."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from alvae.representations.vae import (
    VAE,
    encode_means,
    load_vae,
    reconstruct,
    save_loss_table,
    save_vae,
    train_vae,
    vae_loss,
)


@pytest.fixture(scope="module")
def digits():
    return np.round(load_digits().images * (255 / 16)).astype(np.uint8)[:, None]


@pytest.fixture(scope="module")
def trained(digits):
    lines = []
    model, history = train_vae(digits, latent_dim=8, epochs=6, batch_size=32, seed=0,
                               log=lines.append)
    return model, history, lines


@pytest.fixture(scope="module")
def quick(digits):
    """A one-epoch VAE on 200 digits: enough for the shape, save/load and table checks."""
    model, history = train_vae(digits[:200], latent_dim=8, epochs=1, batch_size=32, seed=0,
                               log=lambda s: None)
    return model, history


def bce(p, x):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=(1, 2, 3)).mean())


@pytest.mark.slow
def test_training_lowers_loss_and_beats_mean_image(digits, trained):
    model, history, lines = trained
    assert [h["epoch"] for h in history] == list(range(1, 7))
    assert set(history[0]) == {"epoch", "loss", "recon", "kl", "seconds"}
    losses = [h["loss"] for h in history]
    assert losses[-1] < 0.9 * losses[0] and losses[-1] < losses[1] < losses[0]
    assert all(h["loss"] == pytest.approx(h["recon"] + h["kl"], rel=1e-5) for h in history)
    assert history[-1]["kl"] > 0.1  # the latent code is used (no posterior collapse)
    epochs = [line for line in lines if line.startswith("vae epoch ")]  # besides progress lines
    assert len(epochs) == 6 and lines[0].startswith("vae batch 1/")
    assert epochs[0].startswith("vae epoch 1/6 loss ") and " recon " in epochs[0] and " kl " in epochs[0]

    x = digits / 255.0
    rec = reconstruct(model, digits, "cpu")
    assert rec.shape == digits.shape and rec.min() >= 0 and rec.max() <= 1
    mean = np.broadcast_to(x.mean(axis=0, keepdims=True), x.shape)
    assert bce(rec, x) < 0.92 * bce(mean, x)
    assert ((rec - x) ** 2).sum(axis=(1, 2, 3)).mean() < 0.8 * ((mean - x) ** 2).sum(axis=(1, 2, 3)).mean()


def test_training_is_deterministic_for_a_seed(digits):
    a, ha = train_vae(digits[:200], latent_dim=4, epochs=2, batch_size=64, seed=3, log=lambda s: None)
    b, hb = train_vae(digits[:200], latent_dim=4, epochs=2, batch_size=64, seed=3, log=lambda s: None)
    c, hc = train_vae(digits[:200], latent_dim=4, epochs=2, batch_size=64, seed=4, log=lambda s: None)
    assert [h["loss"] for h in ha] == [h["loss"] for h in hb]
    assert np.array_equal(encode_means(a, digits[:50]), encode_means(b, digits[:50]))
    assert [h["loss"] for h in ha] != [h["loss"] for h in hc]


def test_global_rng_untouched(digits):
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    train_vae(digits[:40], latent_dim=2, epochs=1, batch_size=20, seed=0, log=lambda s: None)
    assert torch.equal(torch.rand(3), before)


def test_encode_means_and_save_load_round_trip(digits, quick, tmp_path):
    model, history = quick
    mu = encode_means(model, digits, batch_size=500)
    assert mu.shape == (len(digits), 8) and mu.dtype == np.float32
    # the same means whatever the batch, up to float32 rounding: on a CPU with AVX-512 or AMX
    # (this machine's Xeon, 2026-12-06) oneDNN picks its kernels by batch size, so the
    # last bits may differ; a wrong batching (a row shifted or mixed) is far above this
    np.testing.assert_allclose(mu, encode_means(model, digits, batch_size=64), rtol=1e-5, atol=1e-6)
    save_vae(model, tmp_path / "vae.pt")
    loaded = load_vae(tmp_path / "vae.pt", "cpu")
    assert loaded.config == {"in_channels": 1, "height": 8, "width": 8, "latent_dim": 8}
    assert np.array_equal(encode_means(loaded, digits), mu)
    save_loss_table(history, tmp_path / "losses.csv")
    assert (tmp_path / "losses.csv").read_text().splitlines()[0] == "epoch,loss,recon,kl,seconds"


@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_28x28(channels):
    torch.manual_seed(0)
    model = VAE(channels, 28, 28, latent_dim=16)
    x = torch.rand(4, channels, 28, 28)
    logits, mu, logvar = model(x)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (4, 16)
    assert model.decode(torch.zeros(2, 16)).shape == (2, channels, 28, 28)
    total, recon, kl = vae_loss(logits, x, mu, logvar)
    assert total.item() == pytest.approx(recon.item() + kl.item(), rel=1e-6)
    assert kl.item() >= 0
    images = (np.random.default_rng(0).random((5, channels, 28, 28)) * 255).astype(np.uint8)
    assert encode_means(model, images).shape == (5, 16)
    assert reconstruct(model, images, "cpu").shape == (5, channels, 28, 28)


def test_vae_loss_values():
    logits = torch.zeros(2, 1, 2, 2)  # p = 0.5 everywhere: BCE = 4 log 2 per image
    x = torch.tensor([0.0, 1.0, 0.25, 1.0]).repeat(2, 1).view(2, 1, 2, 2)
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.zeros(2, 2)
    total, recon, kl = vae_loss(logits, x, mu, logvar)
    assert recon.item() == pytest.approx(4 * np.log(2), rel=1e-6)
    assert kl.item() == pytest.approx(0.5 * 1.0 / 2, rel=1e-6)  # ½ Σ μ², mean over 2 images
