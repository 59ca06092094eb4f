"""Kind ``vae``: the thesis's task-agnostic VAE on the whole pool (thesis 2.2, 3, 4); labels unused.

Encoder: four stride-2 3×3 convolutions (32, 64, 128, 256 channels, ReLU),
flatten, two linear heads for μ and log σ². Decoder: a linear layer to
64 × ⌈H/2⌉ × ⌈W/2⌉, one stride-2 transposed convolution up to H × W (cropped),
then four size-preserving 3×3 convolutions (ReLU between) giving pixel logits.
Loss (negative ELBO, Kingma & Welling 2014): Bernoulli reconstruction
(BCE-with-logits on [0, 1] pixels, summed over pixels) + KL(q(z|x) ‖ N(0, I)),
both averaged over the batch. Images are uint8 N × C × H × W (C = 1 or 3).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..logs import Progress, steps_per_epoch
from .base import RepresentationResult, check_init_state

ENC_CHANNELS = (32, 64, 128, 256)
DEC_CHANNELS = 64


def check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
        raise ValueError(f"images must be uint8 N×C×H×W, got {images.dtype} {images.shape}")
    return images


def to01(x_uint8: torch.Tensor) -> torch.Tensor:
    return x_uint8.float().div_(255.0)


class VAE(nn.Module):
    def __init__(self, in_channels: int, height: int, width: int, latent_dim: int = 32):
        super().__init__()
        self.config = {"in_channels": int(in_channels), "height": int(height),
                       "width": int(width), "latent_dim": int(latent_dim)}
        layers, c = [], in_channels
        for c_out in ENC_CHANNELS:
            layers += [nn.Conv2d(c, c_out, 3, stride=2, padding=1), nn.ReLU(inplace=True)]
            c = c_out
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        h, w = height, width
        for _ in ENC_CHANNELS:
            h, w = (h + 1) // 2, (w + 1) // 2  # 3×3, stride 2, padding 1: ⌈n/2⌉
        n_flat = c * h * w
        self.fc_mu = nn.Linear(n_flat, latent_dim)
        self.fc_logvar = nn.Linear(n_flat, latent_dim)
        self.h0, self.w0 = (height + 1) // 2, (width + 1) // 2
        self.fc_dec = nn.Linear(latent_dim, DEC_CHANNELS * self.h0 * self.w0)
        self.up = nn.ConvTranspose2d(DEC_CHANNELS, 32, 4, stride=2, padding=1)  # 2h0 × 2w0
        self.refine = nn.Sequential(
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, in_channels, 3, padding=1),
        )
        # He initialisation everywhere: with PyTorch's default the signal shrinks
        # through this plain (norm-free) stack and the VAE settles in the collapsed
        # "mean image" optimum (KL ≈ 0) before it learns to use z.
        for m in self.modules():
            if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                continue
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` in [0, 1], N×C×H×W -> (μ, log σ²)."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latent codes -> pixel logits N×C×H×W."""
        h = torch.relu(self.fc_dec(z)).view(-1, DEC_CHANNELS, self.h0, self.w0)
        h = torch.relu(self.up(h))[:, :, :self.config["height"], :self.config["width"]]
        return self.refine(h)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None):
        """-> (logits, μ, log σ²). In training mode z = μ + σ·ε (ε ~ N(0, I),
        drawn from ``generator`` when given); in eval mode z = μ."""
        mu, logvar = self.encode(x)
        if self.training:
            eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
            z = mu + torch.exp(0.5 * logvar) * eps
        else:
            z = mu
        return self.decode(z), mu, logvar


def vae_loss(logits: torch.Tensor, x01: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """-> (total, recon, kl), each averaged over the batch (recon summed over pixels)."""
    n = x01.shape[0]
    recon = F.binary_cross_entropy_with_logits(logits, x01, reduction="sum") / n
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
    return recon + kl, recon, kl


def train_vae(images_uint8: np.ndarray, *, latent_dim: int, epochs: int, lr: float = 1e-3,
              weight_decay: float = 5e-3, batch_size: int = 128, seed: int, device="cpu",
              log: Callable[[str], None] = print, model: VAE | None = None):
    """Train a :class:`VAE` on all of ``images_uint8`` with Adam.

    The pool goes to ``device`` once as uint8; batches are index tensors from
    ``torch.randperm`` with a generator seeded by ``seed`` (the initial weights
    and the reparametrisation noise are seeded from it too; the global RNG is
    left as it was). Deterministic on CPU for a seed. ``model``: continue
    training this VAE (warm start, a fresh Adam) instead of a newly seeded one.
    Returns ``(model, history)``, history one dict per epoch
    (``epoch, loss, recon, kl, seconds``; per-image means). Logs a line per
    epoch and progress lines within (:class:`alvae.logs.Progress`).
    """
    images = check_images(images_uint8)
    device = torch.device(device)
    n, c, h, w = images.shape
    if model is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = VAE(c, h, w, latent_dim).to(device)
    else:
        model = model.to(device)
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    order_gen = torch.Generator(device="cpu").manual_seed(seed)
    noise_gen = torch.Generator(device=device).manual_seed(seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    meter = Progress("vae", epochs * steps_per_epoch(n, batch_size), log, unit="batch")
    model.train()
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=order_gen).to(device)
        sums = torch.zeros(3, device=device)
        for start in range(0, n, batch_size):
            x = to01(data[perm[start:start + batch_size]])
            logits, mu, logvar = model(x, generator=noise_gen)
            total, recon, kl = vae_loss(logits, x, mu, logvar)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            sums += torch.stack([total.detach(), recon.detach(), kl.detach()]) * x.shape[0]
            meter.step(lambda: {"loss": total, "recon": recon, "kl": kl})
        loss, recon, kl = (sums / n).tolist()
        row = {"epoch": epoch, "loss": loss, "recon": recon, "kl": kl,
               "seconds": time.perf_counter() - t0}
        history.append(row)
        log(f"vae epoch {epoch}/{epochs} loss {loss:.4f} recon {recon:.4f} kl {kl:.4f} "
            f"({row['seconds']:.1f}s)")
    model.eval()
    return model, history


@torch.no_grad()
def _batched(model: VAE, images_uint8: np.ndarray, batch_size: int, device, fn) -> np.ndarray:
    images = check_images(images_uint8)
    device = torch.device(device)
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = to01(torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size])).to(device))
        out.append(fn(x).float().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0,), dtype=np.float32)


def encode_means(model: VAE, images_uint8: np.ndarray, batch_size: int = 1024,
                 device="cpu") -> np.ndarray:
    """VAE means μ (N × latent_dim float32) of ``images_uint8``, the features V(u)."""
    z = _batched(model, images_uint8, batch_size, device, lambda x: model.encode(x)[0])
    return z.reshape(len(images_uint8), model.config["latent_dim"]).astype(np.float32)


def reconstruct(model: VAE, images_uint8: np.ndarray, device="cpu",
                batch_size: int = 1024) -> np.ndarray:
    """sigmoid(decode(μ)) in [0, 1], N×C×H×W float32 (for figures)."""
    return _batched(model, images_uint8, batch_size, device,
                    lambda x: torch.sigmoid(model.decode(model.encode(x)[0])))


def save_vae(model: VAE, path) -> None:
    """Save the constructor arguments with the state dict."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": dict(model.config),
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, path)


def load_vae(path, device="cpu") -> VAE:
    blob = torch.load(path, map_location=device, weights_only=True)
    model = VAE(**blob["config"]).to(device)
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def save_loss_table(history: list, path) -> None:
    """The per-epoch history as CSV (epoch, loss, recon, kl, seconds)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["epoch", "loss", "recon", "kl", "seconds"])
        writer.writeheader()
        writer.writerows(history)


def save_reconstruction_figure(model: VAE, images_uint8: np.ndarray, path, device="cpu",
                               n: int = 10) -> None:
    """Top row: ``n`` images; bottom row: their reconstructions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = check_images(images_uint8)[:n]
    rec = reconstruct(model, images, device)
    k = len(images)
    fig, axes = plt.subplots(2, max(k, 1), figsize=(1.2 * max(k, 1), 2.6), squeeze=False)
    for i in range(k):
        for row, img in ((0, images[i] / 255.0), (1, rec[i])):
            ax = axes[row, i]
            img = np.transpose(img, (1, 2, 0))
            ax.imshow(img[..., 0] if img.shape[2] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.axis("off")
    axes[0, 0].set_title("input", fontsize=8, loc="left")
    axes[1, 0].set_title("reconstruction", fontsize=8, loc="left")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------- the kind
def fit(images_uint8, labels, labeled, *, task, n_classes, rep_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    """Train (or continue training) the thesis VAE on the whole pool; the
    representation is the latent mean. ``labels``/``labeled`` are ignored."""
    images = check_images(images_uint8)
    n, c, h, w = images.shape
    config = {"in_channels": c, "height": h, "width": w, "latent_dim": int(rep_cfg["latent_dim"])}
    model = None
    if init_state is not None:
        check_init_state(init_state, "vae", config)
        model = VAE(**config)
        model.load_state_dict(init_state["state_dict"])
    model, history = train_vae(
        images, latent_dim=config["latent_dim"],
        epochs=int(rep_cfg["epochs"] if epochs is None else epochs),
        lr=rep_cfg["lr"], weight_decay=rep_cfg["weight_decay"], batch_size=rep_cfg["batch_size"],
        seed=seed, device=device, log=log, model=model)
    latents = encode_means(model, images, device=device)
    state = {"kind": "vae", "config": dict(model.config),
             "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    return RepresentationResult(state, np.asarray(latents, dtype=np.float32), history, model)


MODEL = VAE  # the module class a saved state rebuilds (alvae.representations.diagnostics)
