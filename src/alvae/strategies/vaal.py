"""``vaal``: variational adversarial active learning (Sinha, Ebrahimi & Darrell, ICCV 2019).

Each round a β-VAE and a discriminator D are trained in a minimax game on the
pool's labeled set L and unlabeled set U (no task model involved):

- the VAE minimises, on a batch of L and a batch of U,
  recon(L) + β·KL(L) + recon(U) + β·KL(U) + λ·[BCE(D(μ_L), 1) + BCE(D(μ_U), 1)],
  i.e. it also tries to make D believe every point is labeled;
- D minimises BCE(D(μ_L), 1) + BCE(D(μ_U), 0) on the VAE's means.

The pick is the ``budget`` candidates with the lowest D(μ) = P(labeled): the
points the discriminator is surest are unlabeled (ties to the lower candidate
position).

Settings follow the authors' reference implementation (github.com/sinhasam/vaal):
latent dimension 32, β = 1, adversary weight λ = 1, Adam with lr 5e-4 for both
nets, two VAE steps and one discriminator step per iteration,
``pool size × epochs / batch size`` iterations, reconstruction MSE (mean over
pixels, images scaled to [−1, 1]) plus β times the KL summed over the batch, an
encoder of four 4×4 stride-2 convolutions with batch norm, and a decoder of
three transposed convolutions. The discriminator has four 512-unit ReLU layers,
as in the reference's initial import (commit 395da2e, 2019-07-31); the current
reference (since commit 67263f3, 2020-02-21) has two. alvae keeps four.

Deviations (docs/methods.md): the convolution widths are ``width·(1, 2, 4, 8)``
(reference: 128·(1, 2, 4, 8), the default); ``image_size: auto`` (the default)
trains at the images' own size rounded up to a multiple of 16, which is 32 px for
28- and 32-px data (the reference works at CIFAR's native 32 px); each VAE step
and the discriminator step draw fresh batches (the reference reuses the last VAE
step's batch for the discriminator step); D(μ) is scored with the VAE in eval
mode, batch norm on its running statistics (the reference scores in train mode,
on each batch's own statistics); the discriminator outputs a logit and uses
BCE-with-logits (the same loss as sigmoid + BCE); ``warm_start`` optionally keeps
the two nets from the previous round (the reference rebuilds them each round);
no random horizontal flips (the reference flips its CIFAR images at random in
training and in scoring); every convolution, transposed convolution and linear
layer starts from ``kaiming_normal_`` (the reference's init leaves the transposed
convolutions and ``fc_mu``/``fc_logvar`` at PyTorch's default); VAAL trains no
task model of its own. Training logs progress lines
(:class:`alvae.logs.Progress`) with the losses and the time left.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..logs import Progress
from .base import SelectionContext, Strategy
from .scoring import top_k_stable


def _kaiming(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class VaalVAE(nn.Module):
    """Convolutional β-VAE on ``size`` × ``size`` images (size divisible by 16)."""

    def __init__(self, in_channels: int, latent_dim: int, width: int, size: int):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        layers, c = [], in_channels
        for c_out in w:
            layers += [nn.Conv2d(c, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            c = c_out
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        self.s_enc, self.s_dec = size // 16, size // 8
        n_flat = w[3] * self.s_enc ** 2
        self.fc_mu, self.fc_logvar = nn.Linear(n_flat, latent_dim), nn.Linear(n_flat, latent_dim)
        self.fc_dec = nn.Linear(latent_dim, w[3] * self.s_dec ** 2)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(w[3], w[2], 4, 2, 1, bias=False), nn.BatchNorm2d(w[2]), nn.ReLU(),
            nn.ConvTranspose2d(w[2], w[1], 4, 2, 1, bias=False), nn.BatchNorm2d(w[1]), nn.ReLU(),
            nn.ConvTranspose2d(w[1], w[0], 4, 2, 1, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(),
            nn.ConvTranspose2d(w[0], in_channels, 1))
        self.width = w[3]
        _kaiming(self)

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def forward(self, x, generator=None):
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        h = self.fc_dec(z).view(-1, self.width, self.s_dec, self.s_dec)
        return self.decoder(h), mu, logvar


class Discriminator(nn.Module):
    """z -> P(labeled) logit: four 512-unit ReLU layers."""

    def __init__(self, latent_dim: int, hidden: int = 512):
        super().__init__()
        dims = [latent_dim] + [hidden] * 4
        layers = []
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(hidden, 1))
        _kaiming(self)

    def forward(self, z):
        return self.net(z).squeeze(1)


def _prepare(images_uint8: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 N×C×H×W -> float in [−1, 1] at size × size."""
    x = images_uint8.float().div(127.5).sub(1.0)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return x


def _stream(indices: np.ndarray, batch_size: int, gen: torch.Generator):
    """Endless shuffled batches of ``indices`` (a new permutation per pass). A last batch
    of one point joins the one before: batch norm cannot train on a single image (at
    16 px the encoder's last maps are 1×1, one value per channel)."""
    idx = torch.as_tensor(indices, dtype=torch.long)
    while True:
        perm = idx[torch.randperm(len(idx), generator=gen)]
        starts = list(range(0, len(perm), batch_size))
        if len(starts) > 1 and len(perm) - starts[-1] == 1:
            starts.pop()
        for i, start in enumerate(starts):
            yield perm[start:starts[i + 1] if i + 1 < len(starts) else len(perm)]


def vae_objective(x, recon, mu, logvar, beta: float):
    """The reference's β-VAE loss: mean squared error + β·KL summed over the batch."""
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return F.mse_loss(recon, x) + beta * kl


def n_iterations(n_pool: int, opts: dict) -> int:
    """Iterations of one round, as the reference: pool size × epochs // batch size."""
    return max(1, (int(n_pool) * int(opts["epochs"])) // int(opts["batch_size"]))


def resolve_image_size(image_size, height: int, width: int) -> int:
    """``vaal.image_size``: a multiple of 16, or ``"auto"``: the images' larger side
    rounded up to a multiple of 16 (8 × 8 digits -> 16, 28 × 28 -> 32, 32 × 32 -> 32)."""
    if image_size == "auto":
        return 16 * math.ceil(max(int(height), int(width)) / 16)
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or image_size < 16 or image_size % 16:
        raise ValueError(f"vaal.image_size must be 'auto' or a multiple of 16 (>= 16), "
                         f"got {image_size!r}")
    return int(image_size)


def train_vaal(images: torch.Tensor, labeled: np.ndarray, unlabeled: np.ndarray, opts: dict,
               seed: int, init_state=None, log=print):
    """Train the VAE and discriminator adversarially; returns ``(vae, disc, history)``."""
    device = images.device
    size = resolve_image_size(opts["image_size"], *images.shape[-2:])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        vae = VaalVAE(images.shape[1], opts["latent_dim"], opts["width"], size).to(device)
        disc = Discriminator(opts["latent_dim"]).to(device)
    if init_state is not None:
        vae.load_state_dict(init_state["vae"])
        disc.load_state_dict(init_state["disc"])
    opt_v = torch.optim.Adam(vae.parameters(), lr=opts["lr"])
    opt_d = torch.optim.Adam(disc.parameters(), lr=opts["lr"])
    order = torch.Generator(device="cpu").manual_seed(seed)
    noise = torch.Generator(device=device).manual_seed(seed + 1)
    bs = int(opts["batch_size"])
    lab, unl = _stream(labeled, bs, order), _stream(unlabeled, bs, order)
    n_iter = n_iterations(len(images), opts)
    beta, lam = float(opts["beta"]), float(opts["adversary_weight"])
    log(f"vaal: training {n_iter} iterations (pool {len(images)} x {opts['epochs']} epochs / "
        f"batch {bs}), each {opts['vae_steps']} VAE + {opts['adv_steps']} discriminator steps, "
        f"{size} x {size} px, width {opts['width']}; time left follows the first iteration")
    meter = Progress("vaal", n_iter, log)
    vae.train()
    disc.train()
    history = []
    for it in range(n_iter):
        for _ in range(int(opts["vae_steps"])):
            xl = _prepare(images[next(lab).to(device)], size)
            xu = _prepare(images[next(unl).to(device)], size)
            rl, mul, lvl = vae(xl, noise)
            ru, muu, lvu = vae(xu, noise)
            dl, du = disc(mul), disc(muu)
            fool = (F.binary_cross_entropy_with_logits(dl, torch.ones_like(dl))
                    + F.binary_cross_entropy_with_logits(du, torch.ones_like(du)))
            v_loss = (vae_objective(xl, rl, mul, lvl, beta) + vae_objective(xu, ru, muu, lvu, beta)
                      + lam * fool)
            opt_v.zero_grad(set_to_none=True)
            v_loss.backward()
            opt_v.step()
        for _ in range(int(opts["adv_steps"])):
            xl = _prepare(images[next(lab).to(device)], size)
            xu = _prepare(images[next(unl).to(device)], size)
            with torch.no_grad():
                mul, muu = vae.encode(xl)[0], vae.encode(xu)[0]
            dl, du = disc(mul), disc(muu)
            d_loss = (F.binary_cross_entropy_with_logits(dl, torch.ones_like(dl))
                      + F.binary_cross_entropy_with_logits(du, torch.zeros_like(du)))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
        meter.step(lambda: {"vae_loss": v_loss.detach(), "disc_loss": d_loss.detach()})
        if it == n_iter - 1 or (it + 1) % max(1, n_iter // 5) == 0:
            history.append({"iteration": it + 1, "vae_loss": float(v_loss.detach()),
                            "disc_loss": float(d_loss.detach())})
    vae.eval()
    disc.eval()
    return vae, disc, history


@torch.no_grad()
def prob_labeled(vae: VaalVAE, disc: Discriminator, images: torch.Tensor, indices: np.ndarray,
                 size: int, batch_size: int = 1024) -> np.ndarray:
    """D(μ(x)) = P(labeled) for the pool points ``indices``."""
    out = []
    idx = torch.as_tensor(np.asarray(indices), dtype=torch.long, device=images.device)
    for start in range(0, len(idx), batch_size):
        mu = vae.encode(_prepare(images[idx[start:start + batch_size]], size))[0]
        out.append(torch.sigmoid(disc(mu)).double().cpu())
    return torch.cat(out).numpy() if out else np.zeros(0)


class VAALStrategy(Strategy):
    """Picks the candidates the discriminator deems most likely unlabeled."""

    name = "vaal"

    def __init__(self):
        self._state = None

    def get_state(self):
        return self._state

    def set_state(self, state) -> None:
        self._state = state

    def select(self, ctx: SelectionContext, budget: int, rng: np.random.Generator) -> np.ndarray:
        if ctx.pool_images is None:
            raise ValueError("vaal needs the pool images (SelectionContext.pool_images is None)")
        opts = self.params
        images = ctx.pool_images
        opts["image_size"] = resolve_image_size(opts["image_size"], *images.shape[-2:])
        labeled = np.asarray(ctx.labeled, dtype=np.int64)
        unlabeled = np.setdiff1d(np.arange(len(images)), labeled, assume_unique=True)
        seed = int(np.random.default_rng([ctx.seed, ctx.round, 41]).integers(2**31 - 1))
        init = self._state if opts["warm_start"] else None
        vae, disc, _ = train_vaal(images, labeled, unlabeled, opts, seed, init,
                                  log=ctx.log or (lambda msg: None))
        if opts["warm_start"]:
            self._state = {"vae": {k: v.detach().cpu().clone() for k, v in vae.state_dict().items()},
                           "disc": {k: v.detach().cpu().clone() for k, v in disc.state_dict().items()}}
        p = prob_labeled(vae, disc, images, ctx.candidates, int(opts["image_size"]))
        if not np.all(np.isfinite(p)):
            raise RuntimeError("vaal: the discriminator produced non-finite probabilities")
        return np.asarray(ctx.candidates, dtype=np.int64)[top_k_stable(-p, budget)]
