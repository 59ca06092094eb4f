"""Kind ``simclr``: a contrastive representation (SimCLR; Chen, Kornblith, Norouzi
& Hinton 2020, "A simple framework for contrastive learning of visual
representations") trained on the whole pool without labels.

Per batch of pool images, two augmented views of every image are drawn on the
device; an encoder f (a small ResNet) and a projection head g map each view to
z = g(f(x)); the NT-Xent loss pulls the two views of an image together against
the 2(N − 1) other views of the batch (cosine similarity, temperature τ). After
training the head is dropped: the representation (the latents the
``<base>_simclr`` strategies read) is h = f(x) of the un-augmented image.

Settings (``vae.simclr.<key>``; their defaults, minimums and descriptions are in the
config schema, ``alvae/config.schema.yaml``, the only place they are written), taken
from the paper's CIFAR-10 setting (its Appendix B.9) where it fits:

* encoder: a ResNet for small images as in the paper's CIFAR variant (3×3
  stride-1 first convolution, no max-pool), but small: three stages of
  ``blocks`` basic blocks with ``width``, 2·``width`` and 4·``width`` channels
  (stride 2 at the second and third), batch norm, global average pooling.
  h has 4·``width`` dimensions (128 at the default 32): SimCLR's representation is
  the pooled encoder output, so ``vae.latent_dim`` (the VAE's bottleneck) does
  not apply. Deviation: the paper uses ResNet-50 (h: 2048);
* projection head: Linear(4w, 4w) → ReLU → Linear(4w, ``proj_dim`` = 128), as
  the paper's g (hidden width = the width of h, output 128);
* views: random resized crop (area ``crop_scale``..1 of the image, aspect ratio
  3/4..4/3, up to 10 draws until the crop fits, else the whole image, as torchvision;
  bilinear resampling back to the image size), random horizontal flips only
  with ``hflip`` (off by default: handwritten digits and letters are not
  mirror-symmetric; on the demo's digits the flips cost 1.7 points of kNN
  accuracy, docs/representations.md), and, with probability ``jitter_prob`` (0.8), brightness and
  contrast jitter of strength ``jitter`` (0.4; colour distortion strength 0.5
  as for CIFAR-10: 0.8 × 0.5). Deviations: grayscale images have no saturation
  or hue to jitter and no colour to drop; no Gaussian blur (the paper drops it
  for CIFAR-10 too); the smallest crop is 0.2 of the area, as in the SimCLR
  configuration of SCAN (whose pretext code TypiClust uses), instead of the
  paper's 0.08 (on the demo's digits the two gave the same kNN accuracy within
  one test image); brightness is applied before contrast (torchvision draws the
  order). Every draw is batched on the
  pool's device from a generator seeded by ``seed + 2``;
* loss: NT-Xent, τ = ``temperature`` = 0.5 (the paper's best for CIFAR-10);
* optimiser: Adam, ``lr`` 1e-3, ``weight_decay`` 1e-6 (the paper's decay),
  cosine decay of the rate over the call's steps, no warm-up. Deviation: the
  paper uses LARS with batches of 256-4096 (4096 by default); LARS is meant for
  those large batches. ``batch_size`` and ``epochs`` default to ``vae.batch_size``
  and ``vae.epochs`` (null), so one study gives both kinds the same budget; a
  small batch gives fewer negatives per anchor.

Deterministic on the CPU for a ``seed``. ``init_state`` continues from a
previous state (the head included) with a fresh optimiser, as the other kinds.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..schema import defaults
from .vae import check_images, to01
from ._train import Epochs, batched, load_or_build, state_of
from .base import RepresentationResult, check_init_state, sub_cfg

# vae.simclr's defaults, read from the schema (written there only)
DEFAULTS = defaults("vae", "simclr")


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and a (projected) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class SimCLRNet(nn.Module):
    """Encoder f (small ResNet, pooled) and projection head g."""

    def __init__(self, in_channels: int, height: int, width: int, net_width: int = 32,
                 blocks: int = 1, proj_dim: int = 128, latent_dim: int | None = None):
        super().__init__()
        w = int(net_width)
        if latent_dim is not None and int(latent_dim) != 4 * w:
            raise ValueError(f"simclr: latent_dim is 4 x net_width = {4 * w}, got {latent_dim}")
        self.config = {"in_channels": int(in_channels), "height": int(height), "width": int(width),
                       "net_width": w, "blocks": int(blocks), "proj_dim": int(proj_dim),
                       "latent_dim": 4 * w}
        layers = [nn.Conv2d(in_channels, w, 3, padding=1, bias=False), nn.BatchNorm2d(w),
                  nn.ReLU(inplace=True)]
        c = w
        for c_out, stride in ((w, 1), (2 * w, 2), (4 * w, 2)):
            for i in range(int(blocks)):
                layers.append(BasicBlock(c, c_out, stride if i == 0 else 1))
                c = c_out
        self.encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(4 * w, 4 * w), nn.ReLU(inplace=True),
                                  nn.Linear(4 * w, int(proj_dim)))

    def encode(self, x01: torch.Tensor):
        """``x`` in [0, 1] -> (h, None): the representation (the head is not used)."""
        return self.encoder(x01 - 0.5), None

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """The projection z = g(f(x)) the loss sees."""
        return self.head(self.encode(x01)[0])

    def preview_rows(self, x01: torch.Tensor) -> list:
        """What the train_vae job's figure shows for this kind (it has no decoder):
        the images and two augmented views of each, as the training draws them
        (the default options, a fixed seed)."""
        gen = torch.Generator(device=x01.device).manual_seed(0)
        opts = {**DEFAULTS, **getattr(self, "view_options", {})}
        return [("input", x01), ("view 1", augment(x01, gen, opts)),
                ("view 2", augment(x01, gen, opts))]


CROP_TRIES = 10
MODEL = SimCLRNet  # what alvae.representations.diagnostics.load_model rebuilds from a state


def augment(x01: torch.Tensor, gen: torch.Generator, opts: dict) -> torch.Tensor:
    """One random view of every image of the batch (float in [0, 1], N×C×H×W),
    drawn on the batch's device: resized crop, flip, brightness and contrast."""
    n, c, h, w = x01.shape
    dev = x01.device
    u = torch.rand((n, 8), generator=gen, device=dev)
    # like torchvision's RandomResizedCrop: up to 10 draws of (area, aspect ratio), the
    # first that fits inside the image is the crop; none fits: the whole image
    smin = float(opts["crop_scale"])
    tries = torch.rand((n, CROP_TRIES, 2), generator=gen, device=dev)
    area = smin + (1.0 - smin) * tries[..., 0]
    ratio = torch.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * tries[..., 1])
    cw, ch = torch.sqrt(area * ratio), torch.sqrt(area / ratio)  # fractions of the sides
    fits = (cw <= 1.0) & (ch <= 1.0)
    first = fits.float().argmax(1, keepdim=True)
    anyfit = fits.any(1)
    sw = torch.where(anyfit, cw.gather(1, first)[:, 0], torch.ones(n, device=dev))
    sh = torch.where(anyfit, ch.gather(1, first)[:, 0], torch.ones(n, device=dev))
    cx = (1.0 - sw) * (2 * u[:, 2] - 1)  # crop centre, normalised coordinates
    cy = (1.0 - sh) * (2 * u[:, 3] - 1)
    flip = torch.where(u[:, 4] < 0.5, -1.0, 1.0) if opts["hflip"] else torch.ones_like(sw)
    zero = torch.zeros_like(sw)
    theta = torch.stack([torch.stack([sw * flip, zero, cx], 1), torch.stack([zero, sh, cy], 1)], 1)
    grid = F.affine_grid(theta, (n, c, h, w), align_corners=False)
    out = F.grid_sample(x01, grid, mode="bilinear", padding_mode="border", align_corners=False)
    j = float(opts["jitter"])
    on = u[:, 5] < float(opts["jitter_prob"])
    bright = torch.where(on, 1 + j * (2 * u[:, 6] - 1), torch.ones_like(sw)).view(n, 1, 1, 1)
    contrast = torch.where(on, 1 + j * (2 * u[:, 7] - 1), torch.ones_like(sw)).view(n, 1, 1, 1)
    out = (out * bright).clamp_(0, 1)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    return ((out - mean) * contrast + mean).clamp_(0, 1)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> tuple:
    """NT-Xent over the 2N views (mean over all anchors), and the share of
    anchors whose most similar other view is their positive."""
    n = len(z1)
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    loss = F.cross_entropy(sim, target)
    acc = (sim.argmax(1) == target).float().mean()
    return loss, acc


def fit(images_uint8, labels, labeled, *, task, n_classes, vae_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    """Train SimCLR on the whole pool (labels unused); latents = f(x), N × 4·width."""
    images = check_images(images_uint8)
    n, c, h, w = images.shape
    opts = sub_cfg(vae_cfg, "simclr")  # checked against the schema, its defaults filled in
    config = {"in_channels": c, "height": h, "width": w, "net_width": int(opts["width"]),
              "blocks": int(opts["blocks"]), "proj_dim": int(opts["proj_dim"]),
              "latent_dim": 4 * int(opts["width"])}
    check_init_state(init_state, "simclr", config)
    device = torch.device(device)
    model, _ = load_or_build(SimCLRNet, config, init_state, seed, device)
    model.view_options = {k: opts[k] for k in ("crop_scale", "hflip", "jitter", "jitter_prob")}
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    # null (only null) means the VAE's value: a 0 is refused by the schema, not replaced
    batch = int(vae_cfg["batch_size"] if opts["batch_size"] is None else opts["batch_size"])
    if epochs is None:
        epochs = vae_cfg["epochs"] if opts["epochs"] is None else opts["epochs"]
    n_epochs = int(epochs)
    loop = Epochs(n, batch, seed, device, "simclr", log)  # seeded batch order
    aug_gen = torch.Generator(device=device).manual_seed(seed + 2)
    opt = torch.optim.Adam(model.parameters(), lr=float(opts["lr"]),
                           weight_decay=float(opts["weight_decay"]))
    steps = n_epochs * sum(1 for s in range(0, n, batch) if n - s >= 2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps))
    tau = float(opts["temperature"])
    history = []
    model.train()
    for epoch in range(1, n_epochs + 1):
        t0 = time.perf_counter()
        sums = torch.zeros(2, device=device)
        seen = 0
        for b in loop.batches():
            if len(b) < 2:
                continue  # no negatives, and batch norm needs two images
            x = to01(data[b])
            v1, v2 = augment(x, aug_gen, opts), augment(x, aug_gen, opts)
            z = model(torch.cat([v1, v2]))
            loss, acc = nt_xent(z[:len(b)], z[len(b):], tau)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            sums += torch.stack([loss.detach(), acc.detach()]) * len(b)
            seen += len(b)
        if seen == 0:  # no batch of two images: no negatives, nothing learned
            raise ValueError(f"simclr: no batch of at least 2 images to contrast (pool of {n}, "
                             f"batch {batch}); set vae.simclr.batch_size (or vae.batch_size) "
                             f"to 2 or more")
        loss, acc = (sums / seen).tolist()
        row = {"epoch": epoch, "loss": loss, "pair_acc": acc, "lr": float(sched.get_last_lr()[0]),
               "seconds": time.perf_counter() - t0}
        history.append(row)
        log(f"simclr epoch {epoch}/{n_epochs} loss {loss:.4f} pair_acc {acc:.4f} "
            f"({row['seconds']:.1f}s)")
    model.eval()
    latents = batched(model, images, lambda x: model.encode(x)[0], device)
    return RepresentationResult(state_of("simclr", model), latents.astype(np.float32), history,
                                model)
