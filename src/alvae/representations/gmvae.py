"""Kind ``gmvae``: a VAE with a Gaussian-mixture prior, trained like VaDE
(Jiang, Zheng, Tan, Tang & Zhou 2017, "Variational Deep Embedding").

Prior p(c) = π, p(z|c) = N(μ_c, diag σ²_c), with π, μ_c, σ²_c learnt along
with the thesis VAE's encoder q(z|x) and decoder p(x|z). The loss is VaDE's
negative ELBO with q(c|x) replaced by the responsibilities γ_c = p(c|z) at
the sampled z:

    recon + Σ_c γ_c · ½ Σ_j [log σ²_cj + σ̃²_j/σ²_cj + (μ̃_j − μ_cj)²/σ²_cj]
          − ½ Σ_j (1 + log σ̃²_j) − Σ_c γ_c log(π_c / γ_c).

Initialisation (as VaDE, with a VAE in place of its autoencoder): the same
network is first trained ``representation.gmvae.pretrain_epochs`` epochs as a plain VAE
(N(0, I) prior); k-means (K components, 10 restarts, seeded) on the latent
means then sets μ_c (centres), σ²_c (per-dimension variance within each
cluster plus the cluster's mean posterior variance) and π (cluster shares).
A warm start (``init_state``) skips this.

Guards against collapse (not in VaDE): σ²_c = 10⁻³ + exp(·) (a variance
floor); π = w + (1 − K·w)·softmax(·) with w = 0.1/K (a weight floor); after
each epoch a component that owns (has the largest responsibility for) under
a 0.2/K share of the pool is re-seeded at the latent mean of a random point of the most
populous component, copying that component's variances and splitting its
weight. Weight decay applies to the network only, not to π, μ_c, σ²_c.

Representation: the latent mean, with the responsibilities at z = μ appended
when ``representation.gmvae.append_responsibilities``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from torch import nn

from ..schema import defaults
from ._train import Epochs, batched, bce_per_sample, load_or_build, state_of
from .base import RepresentationResult, check_init_state, sub_cfg
from .vae import VAE, check_images, to01, vae_loss

VAR_FLOOR = 1e-3
WEIGHT_FLOOR = 0.1    # × 1/K: the least weight π_c can take
RESEED_BELOW = 0.2    # × 1/K: mean responsibility under which a component is re-seeded


class GMVAE(VAE):
    """The thesis VAE plus the learnable mixture prior (π, μ_c, σ²_c)."""

    def __init__(self, in_channels: int, height: int, width: int, latent_dim: int,
                 components: int):
        super().__init__(in_channels, height, width, latent_dim)
        self.config["components"] = int(components)
        self.pi_logits = nn.Parameter(torch.zeros(components))
        self.prior_mu = nn.Parameter(torch.zeros(components, latent_dim))
        self.prior_raw_var = nn.Parameter(torch.zeros(components, latent_dim))  # log(σ² − floor)

    def prior(self):
        """-> (log π (K,), μ_c (K, d), σ²_c (K, d)) with the floors applied."""
        k = self.config["components"]
        w = WEIGHT_FLOOR / k
        pi = w + (1 - k * w) * torch.softmax(self.pi_logits, 0)
        return pi.log(), self.prior_mu, VAR_FLOOR + self.prior_raw_var.exp()

    def log_joint(self, z):
        """log π_c + log N(z; μ_c, σ²_c), N × K."""
        log_pi, mu_c, var_c = self.prior()
        d = z[:, None, :] - mu_c[None]
        log_n = -0.5 * (math.log(2 * math.pi) + var_c.log()[None] + d.pow(2) / var_c[None]).sum(2)
        return log_pi[None] + log_n

    def responsibilities(self, z):
        return torch.softmax(self.log_joint(z), 1)

    def reconstruct01(self, x):
        return torch.sigmoid(self.decode(self.encode(x)[0]))

    def set_prior(self, pi, mu, var):
        """Set π, μ_c, σ²_c (numpy), respecting the floors."""
        k = self.config["components"]
        w = WEIGHT_FLOOR / k
        soft = np.clip((np.asarray(pi, dtype=np.float64) - w) / (1 - k * w), 1e-6, None)
        with torch.no_grad():
            self.pi_logits.copy_(torch.as_tensor(np.log(soft / soft.sum()), dtype=torch.float32))
            self.prior_mu.copy_(torch.as_tensor(mu, dtype=torch.float32))
            raw = np.log(np.clip(np.asarray(var, dtype=np.float64) - VAR_FLOOR, 1e-6, None))
            self.prior_raw_var.copy_(torch.as_tensor(raw, dtype=torch.float32))


def gmvae_loss(model: GMVAE, x, eps):
    """Per-batch sums (total, recon, kl) of VaDE's negative ELBO."""
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    recon = bce_per_sample(model.decode(z), x)
    log_joint = model.log_joint(z)
    gamma = torch.softmax(log_joint, 1)
    log_pi, mu_c, var_c = model.prior()
    var = logvar.exp()
    e_log_pz = 0.5 * (gamma[:, :, None] * (var_c.log()[None] + var[:, None] / var_c[None]
                                           + (mu[:, None] - mu_c[None]).pow(2) / var_c[None])).sum((1, 2))
    kl = (e_log_pz - 0.5 * (1 + logvar).sum(1)
          - (gamma * (log_pi[None] - torch.log(gamma.clamp_min(1e-10)))).sum(1))
    return recon.sum() + kl.sum(), recon.sum(), kl.sum()


def _kmeans_init(model: GMVAE, mu: np.ndarray, var_q: np.ndarray, seed: int) -> None:
    """k-means on the latent means; σ²_c matches the moments of the cluster's
    aggregate posterior: variance of its means plus its mean posterior variance."""
    from sklearn.cluster import KMeans

    k = model.config["components"]
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(mu.astype(np.float64))
    var = np.stack([mu[km.labels_ == j].var(axis=0) + var_q[km.labels_ == j].mean(axis=0)
                    for j in range(k)])
    share = np.bincount(km.labels_, minlength=k) / len(mu)
    model.set_prior(share, km.cluster_centers_, np.maximum(var, 2 * VAR_FLOOR))


def _reseed(model: GMVAE, mu: np.ndarray, gamma: np.ndarray, rng) -> list:
    """Re-seed components that own (by largest responsibility) under a
    RESEED_BELOW/K share of the pool."""
    k = model.config["components"]
    share = np.bincount(gamma.argmax(1), minlength=k) / len(gamma)
    dead = [int(j) for j in np.flatnonzero(share < RESEED_BELOW / k)]
    if not dead:
        return []
    log_pi, mu_c, var_c = (t.detach().cpu().numpy().astype(np.float64) for t in model.prior())
    pi, mu_c, var_c = np.exp(log_pi), mu_c.copy(), var_c.copy()
    for j in dead:
        big = int(np.argmax(share))
        members = np.flatnonzero(gamma.argmax(1) == big)
        pick = int(rng.choice(members)) if members.size else int(rng.integers(len(mu)))
        mu_c[j], var_c[j] = mu[pick], var_c[big]
        pi[j] = pi[big] = (pi[j] + pi[big]) / 2
        share[j] = share[big] = share[big] / 2
    model.set_prior(pi / pi.sum(), mu_c, var_c)
    return dead


def _means_and_gamma(model, images, device):
    mu = batched(model, images, lambda x: model.encode(x)[0], device)
    gamma = batched(model, images, lambda x: model.responsibilities(model.encode(x)[0]), device)
    return mu, gamma


def fit(images_uint8, labels, labeled, *, task, n_classes, rep_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    """``labels``/``labeled`` are unused (K defaults to the number of classes)."""
    images = check_images(images_uint8)
    n, c, h, w = images.shape
    opts = sub_cfg(rep_cfg, "gmvae", defaults("representation", "gmvae"))
    k = int(opts["components"] or n_classes)
    if k < 1 or k > n:
        raise ValueError(f"representation.gmvae.components must lie in [1, pool size {n}], got {k}")
    config = {"in_channels": c, "height": h, "width": w, "latent_dim": int(rep_cfg["latent_dim"]),
              "components": k}
    check_init_state(init_state, "gmvae", config)
    device = torch.device(device)
    model, fresh = load_or_build(GMVAE, config, init_state, seed, device)
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    net = [p for name, p in model.named_parameters() if not name.startswith(("pi_", "prior_"))]
    prior = [model.pi_logits, model.prior_mu, model.prior_raw_var]
    loop = Epochs(n, int(rep_cfg["batch_size"]), seed, device, "gmvae", log)
    rng = np.random.default_rng([seed, 11])
    history = []
    n_pre = int(opts["pretrain_epochs"]) if fresh else 0
    n_epochs = int(rep_cfg["epochs"] if epochs is None else epochs)
    meter = loop.progress(n_pre + n_epochs)
    model.train()
    if n_pre > 0:
        opt = torch.optim.Adam(net, lr=rep_cfg["lr"], weight_decay=rep_cfg["weight_decay"])
        for epoch in range(1, n_pre + 1):
            t0 = time.perf_counter()
            sums = torch.zeros(3, device=device)
            for b in loop.batches():
                x = to01(data[b])
                mu, logvar = model.encode(x)
                z = mu + torch.exp(0.5 * logvar) * loop.noise(mu)
                total, recon, kl = vae_loss(model.decode(z), x, mu, logvar)
                opt.zero_grad(set_to_none=True)
                total.backward()
                opt.step()
                sums += torch.stack([total.detach(), recon.detach(), kl.detach()]) * len(x)
                meter.step(lambda: {"pretrain_loss": total, "recon": recon, "kl": kl})
            s = sums.tolist()
            history.append(loop.report(epoch, n_pre, {"loss": s[0], "recon": s[1], "kl": s[2]},
                                       t0, {"phase": "pretrain"}))
    if fresh:
        mu = batched(model, images, lambda x: model.encode(x)[0], device)
        _kmeans_init(model, mu, batched(model, images, lambda x: model.encode(x)[1].exp(), device), seed)
    opt = torch.optim.Adam([{"params": net, "weight_decay": rep_cfg["weight_decay"]},
                            {"params": prior, "weight_decay": 0.0}], lr=rep_cfg["lr"])
    for epoch in range(1, n_epochs + 1):
        t0 = time.perf_counter()
        sums = torch.zeros(3, device=device)
        for b in loop.batches():
            x = to01(data[b])
            total, recon, kl = gmvae_loss(model, x, loop.noise(x.new_empty(len(x), config["latent_dim"])))
            opt.zero_grad(set_to_none=True)
            (total / len(x)).backward()
            opt.step()
            sums += torch.stack([total.detach(), recon.detach(), kl.detach()])
            meter.step(lambda: {"loss": total / len(x), "recon": recon / len(x), "kl": kl / len(x)})
        mu, gamma = _means_and_gamma(model, images, device)
        owned = np.bincount(gamma.argmax(1), minlength=k)
        dead = _reseed(model, mu, gamma, rng)
        if dead:
            opt.state.clear()  # the moments of re-seeded parameters are stale
        s = sums.tolist()
        history.append(loop.report(epoch, n_epochs, {"loss": s[0], "recon": s[1], "kl": s[2]}, t0,
                                   {"phase": "gmm", "min_share": float(owned.min() / n),
                                    "mean_max_resp": float(gamma.max(1).mean()),
                                    "reseeded": len(dead)}))
    model.eval()
    latents = encode(model, images, rep_cfg=rep_cfg, device=device)
    return RepresentationResult(state_of("gmvae", model), latents.astype(np.float32), history, model)


def encode(model: GMVAE, images_uint8, *, rep_cfg, device="cpu") -> np.ndarray:
    """The latent means of ``images``, with the mixture responsibilities at z = μ appended
    when ``representation.gmvae.append_responsibilities`` (the pool's latents, and those of others)."""
    opts = sub_cfg(rep_cfg, "gmvae", defaults("representation", "gmvae"))
    mu, gamma = _means_and_gamma(model, images_uint8, torch.device(device))
    latents = np.concatenate([mu, gamma], axis=1) if opts["append_responsibilities"] else mu
    return latents.astype(np.float32)


MODEL = GMVAE  # the module class a saved state rebuilds (alvae.representations.diagnostics)


def config_problems(options: dict | None, config: dict) -> list[str]:
    """``representation.gmvae`` against the config, before any job (alvae.representations.checks):
    fewer mixture components than the points of each dataset's pool."""
    components = (options or {}).get("components")
    if components is None:
        return []
    return [f"representation.gmvae.components ({components}) must be smaller than "
            f"datasets.{name}.subset_size ({ds['subset_size']}): each component needs points"
            for name, ds in config["datasets"].items() if components >= ds["subset_size"]]
