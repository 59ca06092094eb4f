"""Kind ``cvae``: a class-conditional VAE trained semi-supervised like M2
(Kingma, Rezende, Mohamed & Welling 2014, "Semi-supervised learning with deep
generative models").

The thesis VAE's encoder gives q(z|x) and, through an extra linear head on the
same features, a classifier q(y|x); the decoder reads [z, y]. Per pool image:

* labeled (its index in ``labeled``): −ELBO with the decoder conditioned on the
  true label, plus w·(classification loss) with w = ``representation.cvae.class_weight`` · N / |L|
  (N the pool size, |L| the number of labeled pool images). This is M2's eq. 9:
  α = 0.1·N multiplies the *expectation* of the classification loss over the
  labeled set, so each labeled image weighs 0.1·N/|L|, as in the authors' code
  (``beta = alpha * n_tot / n_labeled`` in dpkingma/nips14-ssl,
  ``learn_yz_x_ss.py``, with alpha = 0.1); see :func:`classification_weight`;
* unlabeled, single-label tasks: the label is marginalised exactly,
  Σ_y q(y|x)·recon(x | z, y) + KL(q(z|x) ‖ N(0, I)) + KL(q(y|x) ‖ uniform);
* unlabeled, multi-label tasks: summing over the 2^L label vectors is
  intractable, so the decoder is conditioned on the classifier's sigmoid
  probabilities, plus Σ_l KL(Bernoulli(p_l) ‖ Bernoulli(½)) (a simplification).

Deviation from M2: the encoder is q(z|x), not q(z|x, y), so every pool image
gets one latent mean whether labeled or not. Representation: the latent mean,
with the classifier's soft labels appended when ``representation.cvae.append_soft_labels``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..schema import defaults
from ._train import Epochs, batched, bce_per_sample, kl_normal_per_sample, load_or_build, state_of
from .base import RepresentationResult, check_init_state, labeled_indices, sub_cfg
from .vae import VAE, check_images, to01


class CVAE(VAE):
    """The thesis VAE with a classifier head and a label-conditioned decoder."""

    def __init__(self, in_channels: int, height: int, width: int, latent_dim: int,
                 n_classes: int, multi_label: bool):
        super().__init__(in_channels, height, width, latent_dim)
        n_flat = self.fc_mu.in_features
        self.fc_dec = nn.Linear(latent_dim + n_classes, self.fc_dec.out_features)
        self.fc_cls = nn.Linear(n_flat, n_classes)
        nn.init.kaiming_normal_(self.fc_dec.weight, nonlinearity="relu")
        nn.init.zeros_(self.fc_dec.bias)
        self.config.update(n_classes=int(n_classes), multi_label=bool(multi_label))

    def encode_all(self, x):
        """-> (μ, log σ², class logits)."""
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h), self.fc_cls(h)

    def soft_labels(self, logits):
        return torch.sigmoid(logits) if self.config["multi_label"] else torch.softmax(logits, 1)

    def decode(self, z, y):
        """Pixel logits from latent codes and (one-hot or soft) label vectors."""
        return super().decode(torch.cat([z, y], dim=1))

    def reconstruct01(self, x):
        """Reconstruction from μ and the classifier's own soft label (figures)."""
        mu, _, logits = self.encode_all(x)
        return torch.sigmoid(self.decode(mu, self.soft_labels(logits)))


def soft_labels_of(model: CVAE, images_uint8, device="cpu") -> np.ndarray:
    """The classifier head's soft labels q(y|x) of ``images`` (softmax, or sigmoid
    per label for multi-label data), as float32 (n, n_classes)."""
    return batched(model, images_uint8, lambda x: model.soft_labels(model.encode_all(x)[2]), device)


def classification_weight(alpha: float, n_pool: int, n_labeled: int) -> float:
    """Weight of one labeled image's classification loss: M2's α = ``alpha``·N on the
    mean over the labeled set, i.e. ``alpha``·N/|L| per image (0 with no labels)."""
    return float(alpha) * int(n_pool) / int(n_labeled) if n_labeled else 0.0


def cvae_loss(model: CVAE, x, is_labeled, y, eps, alpha: float):
    """Per-batch sums (total, recon, kl, class_loss, n_labeled). ``y``: int
    class ids (single-label) or 0/1 floats (multi-label); read where ``is_labeled``.
    ``alpha``: the weight of each labeled image's classification loss
    (:func:`classification_weight`), applied to their sum."""
    mu, logvar, logits = model.encode_all(x)
    z = mu + torch.exp(0.5 * logvar) * eps
    kl = kl_normal_per_sample(mu, logvar)
    k = model.config["n_classes"]
    lab, unl = is_labeled, ~is_labeled
    recon = x.new_zeros(len(x))
    kl_y = x.new_zeros(len(x))
    cls = x.new_zeros(())
    if lab.any():
        if model.config["multi_label"]:
            y_vec = y[lab].float()
            cls = F.binary_cross_entropy_with_logits(logits[lab], y_vec, reduction="sum")
        else:
            y_vec = F.one_hot(y[lab], k).float()
            cls = F.cross_entropy(logits[lab], y[lab], reduction="sum")
        recon[lab] = bce_per_sample(model.decode(z[lab], y_vec), x[lab])
    if unl.any():
        xu, zu, lu = x[unl], z[unl], logits[unl]
        if model.config["multi_label"]:
            p = torch.sigmoid(lu)
            recon[unl] = bce_per_sample(model.decode(zu, p), xu)
            logp, log1mp = F.logsigmoid(lu), F.logsigmoid(-lu)
            kl_y[unl] = (p * logp + (1 - p) * log1mp + math.log(2)).sum(1)
        else:
            q = torch.softmax(lu, 1)
            m = len(xu)
            eye = torch.eye(k, device=x.device, dtype=x.dtype)
            dec = model.decode(zu.repeat_interleave(k, 0), eye.repeat(m, 1))
            per = bce_per_sample(dec, xu.repeat_interleave(k, 0)).view(m, k)
            recon[unl] = (q * per).sum(1)
            kl_y[unl] = (q * torch.log_softmax(lu, 1)).sum(1) + math.log(k)
    total = recon.sum() + kl.sum() + kl_y.sum() + alpha * cls
    return total, recon.sum(), kl.sum() + kl_y.sum(), cls, int(lab.sum())


def fit(images_uint8, labels, labeled, *, task, n_classes, rep_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    images = check_images(images_uint8)
    n, c, h, w = images.shape
    opts = sub_cfg(rep_cfg, "cvae", defaults("representation", "cvae"))
    multi = task == "multi-label"
    config = {"in_channels": c, "height": h, "width": w, "latent_dim": int(rep_cfg["latent_dim"]),
              "n_classes": int(n_classes), "multi_label": multi}
    check_init_state(init_state, "cvae", config)
    idx = labeled_indices(labeled, n)
    if idx.size and labels is None:
        raise ValueError("cvae: labeled indices given but labels is None")
    device = torch.device(device)
    model, _ = load_or_build(CVAE, config, init_state, seed, device)
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    is_labeled = torch.zeros(n, dtype=torch.bool)
    is_labeled[torch.from_numpy(idx)] = True
    if labels is None:
        y_all = torch.zeros((n, n_classes) if multi else n)
    else:
        y_all = torch.from_numpy(np.ascontiguousarray(labels)).clone()
        y_all[~is_labeled] = 0  # labels outside ``labeled`` are never read
    y_all = (y_all.float() if multi else y_all.long()).to(device)
    is_labeled = is_labeled.to(device)
    alpha = classification_weight(opts["class_weight"], n, idx.size)
    opt = torch.optim.Adam(model.parameters(), lr=rep_cfg["lr"], weight_decay=rep_cfg["weight_decay"])
    n_epochs = int(rep_cfg["epochs"] if epochs is None else epochs)
    loop = Epochs(n, int(rep_cfg["batch_size"]), seed, device, "cvae", log)
    history = []
    meter = loop.progress(n_epochs)
    model.train()
    for epoch in range(1, n_epochs + 1):
        t0 = time.perf_counter()
        sums = torch.zeros(4, device=device)
        for b in loop.batches():
            x = to01(data[b])
            total, recon, kl, cls, _ = cvae_loss(model, x, is_labeled[b], y_all[b],
                                                 loop.noise(x.new_empty(len(x), config["latent_dim"])),
                                                 alpha)
            opt.zero_grad(set_to_none=True)
            (total / len(x)).backward()
            opt.step()
            sums += torch.stack([total.detach(), recon.detach(), kl.detach(), cls.detach()])
            meter.step(lambda: {"loss": total / len(x), "recon": recon / len(x), "kl": kl / len(x)})
        s = sums.tolist()
        row = loop.report(epoch, n_epochs, {"loss": s[0], "recon": s[1], "kl": s[2]}, t0,
                          {"class_loss": s[3] / max(idx.size, 1), "n_labeled": int(idx.size)})
        history.append(row)
    model.eval()
    latents = encode(model, images, rep_cfg=rep_cfg, device=device)
    return RepresentationResult(state_of("cvae", model), latents.astype(np.float32), history, model)


def encode(model: CVAE, images_uint8, *, rep_cfg, device="cpu") -> np.ndarray:
    """The latent means of ``images``, with the classifier's soft labels appended when
    ``representation.cvae.append_soft_labels`` (the pool's latents, and those of other images)."""
    opts = sub_cfg(rep_cfg, "cvae", defaults("representation", "cvae"))
    mu = batched(model, images_uint8, lambda x: model.encode_all(x)[0], torch.device(device))
    if opts["append_soft_labels"]:
        soft = soft_labels_of(model, images_uint8, torch.device(device))
        mu = np.concatenate([mu, soft], axis=1)
    return mu.astype(np.float32)


MODEL = CVAE  # the module class a saved state rebuilds (alvae.representations.diagnostics)
