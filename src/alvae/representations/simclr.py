"""Kind ``simclr``: a contrastive representation (SimCLR; Chen, Kornblith, Norouzi
& Hinton 2020, "A simple framework for contrastive learning of visual
representations") trained on the whole pool without labels.

Per batch of pool images, two augmented views of every image are drawn on the
device; an encoder f (a small ResNet) and a projection head g map each view to
z = g(f(x)); the NT-Xent loss pulls the two views of an image together against
the 2(N − 1) other views of the batch (cosine similarity, temperature τ). After
training the head is dropped: the representation (the latents the
``<base>_simclr`` strategies read) is h = f(x) of the un-augmented image.

Settings (``representation.simclr.<key>``; their defaults, minimums and descriptions are in the
config schema, ``alvae/config.schema.yaml``, the only place they are written), taken
from the paper's CIFAR-10 setting (its Appendix B.9) where it fits:

* encoder: a ResNet for small images as in the paper's CIFAR variant (3×3
  stride-1 first convolution, no max-pool), but small: three stages of
  ``blocks`` basic blocks with ``width``, 2·``width`` and 4·``width`` channels
  (stride 2 at the second and third), batch norm, global average pooling.
  h has 4·``width`` dimensions (128 at the default 32): SimCLR's representation is
  the pooled encoder output, so ``representation.latent_dim`` (the VAE's bottleneck) does
  not apply. Deviation: the paper uses ResNet-50 (h: 2048);
* projection head: Linear(4w, 4w) → ReLU → Linear(4w, ``proj_dim`` = 128), as
  the paper's g (hidden width = the width of h, output 128);
* views: random resized crop (area ``crop_scale``..1 of the image, aspect ratio
  3/4..4/3, up to 10 draws until the crop fits, else the whole image, as torchvision;
  bilinear resampling back to the image size), random horizontal flips only
  with ``hflip`` (off by default: handwritten digits and letters are not
  mirror-symmetric; on the demo's digits the flips cost 1.7 points of kNN
  accuracy, docs/representations.md), and, with probability ``jitter_prob``
  (0.8), colour jitter: brightness, contrast and (3-channel images) saturation
  of strength ``jitter`` (0.4) and a hue shift of up to ``hue`` (0.1), the
  paper's colour distortion of strength 0.5 as for CIFAR-10 (0.8 × 0.5 and
  0.2 × 0.5); contrast and saturation blend with the luminance (0.2989 R +
  0.587 G + 0.114 B, torchvision's weights; the image itself for one
  channel), as torchvision's ColorJitter; then, for 3-channel images, random
  grayscale with probability ``grayscale_prob`` (0.2). Deviations: grayscale
  images have no saturation or hue to jitter and no colour to drop (for them
  the views are what they were before colour jitter was added); no Gaussian
  blur (the paper drops it for CIFAR-10 too); the smallest crop is 0.2 of the
  area, as in the SimCLR configuration of SCAN (whose pretext code TypiClust
  uses), instead of the paper's 0.08 (on the demo's digits the two gave the
  same kNN accuracy within one test image); the jitter's order is fixed
  (brightness, contrast, saturation, hue) where torchvision draws it. Every
  draw is batched on the pool's device from a generator seeded by ``seed + 2``;
* loss: NT-Xent, τ = ``temperature`` = 0.5 (the paper's best for CIFAR-10);
* optimiser: Adam, ``lr`` 1e-3, ``weight_decay`` 1e-6 (the paper's decay),
  cosine decay of the rate over the call's steps, no warm-up. Deviation: the
  paper uses LARS with batches of 256-4096 (4096 by default); LARS is meant for
  those large batches. ``batch_size`` and ``epochs`` default to ``representation.batch_size``
  and ``representation.epochs`` (null), so one study gives both kinds the same budget; a
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
from ._train import Epochs, batched, load_or_build, state_of
from .base import RepresentationResult, check_init_state, sub_cfg
from .vae import check_images, to01

# representation.simclr's defaults, read from the schema (written there only)
DEFAULTS = defaults("representation", "simclr")
VIEW_KEYS = ("crop_scale", "hflip", "jitter", "jitter_prob", "hue", "grayscale_prob")
LUMA = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights


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
        """What the train_representation job's figure shows for this kind (it has no decoder):
        the images and two augmented views of each, as the training draws them
        (the default options, a fixed seed)."""
        gen = torch.Generator(device=x01.device).manual_seed(0)
        opts = {**DEFAULTS, **getattr(self, "view_options", {})}
        return [("input", x01), ("view 1", augment(x01, gen, opts)),
                ("view 2", augment(x01, gen, opts))]


CROP_TRIES = 10
MODEL = SimCLRNet  # what alvae.representations.diagnostics.load_model rebuilds from a state


def luminance(x: torch.Tensor) -> torch.Tensor:
    """N×1×H×W grey level of N×C×H×W images in [0, 1]: 0.2989 R + 0.587 G + 0.114 B for
    three channels (torchvision's weights), the mean over channels otherwise."""
    if x.shape[1] == 3:
        w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * w).sum(dim=1, keepdim=True)
    return x.mean(dim=1, keepdim=True)


def adjust_contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend each image with the mean of its luminance (``factor``: N values), clamped."""
    mean = luminance(x).mean(dim=(1, 2, 3), keepdim=True)
    f = factor.view(-1, 1, 1, 1)
    return ((x - mean) * f + mean).clamp(0, 1)


def adjust_saturation(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Blend each 3-channel image with its own luminance image, clamped."""
    f = factor.view(-1, 1, 1, 1)
    return (f * x + (1 - f) * luminance(x)).clamp(0, 1)


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the hue of each 3-channel image by ``shift`` (N values, fractions of a
    turn, in [-0.5, 0.5]) in HSV space."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(dim=1)
    minc, _ = x.min(dim=1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    sat = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)),
                      torch.zeros_like(maxc))
    h = torch.where(maxc == r, (g - b) / safe,
                    torch.where(maxc == g, 2.0 + (b - r) / safe, 4.0 + (r - g) / safe))
    h = torch.where(delta > 0, h / 6.0, torch.zeros_like(h))
    h = torch.remainder(h + shift.view(-1, 1, 1), 1.0)
    v = maxc
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.long() % 6
    p, q, t = v * (1 - sat), v * (1 - sat * f), v * (1 - sat * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = torch.zeros_like(x)
    for k, (rr, gg, bb) in enumerate(choices):
        m = (i == k).unsqueeze(1)
        out = torch.where(m, torch.stack([rr, gg, bb], 1), out)
    return out.clamp(0, 1)


def augment(x01: torch.Tensor, gen: torch.Generator, opts: dict) -> torch.Tensor:
    """One random view of every image of the batch (float in [0, 1], N×C×H×W),
    drawn on the batch's device: resized crop, flip, colour jitter (brightness,
    contrast; for 3-channel images saturation and hue too) and, for 3-channel
    images, random grayscale."""
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
    one = torch.ones_like(sw)
    bright = torch.where(on, 1 + j * (2 * u[:, 6] - 1), one).view(n, 1, 1, 1)
    contrast = torch.where(on, 1 + j * (2 * u[:, 7] - 1), one)
    out = adjust_contrast((out * bright).clamp_(0, 1), contrast)
    if c != 3:
        return out  # one channel: no saturation, hue or colour to drop (and no more draws)
    v = torch.rand((n, 3), generator=gen, device=dev)
    hue = float(opts["hue"])
    out = adjust_saturation(out, torch.where(on, 1 + j * (2 * v[:, 0] - 1), one))
    if hue > 0:  # views without jitter skip the HSV round trip (exactly unchanged)
        out = torch.where(on.view(n, 1, 1, 1), adjust_hue(out, hue * (2 * v[:, 1] - 1)), out)
    gray = (v[:, 2] < float(opts["grayscale_prob"])).view(n, 1, 1, 1)
    return torch.where(gray, luminance(out).expand(-1, 3, -1, -1), out)


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


def fit(images_uint8, labels, labeled, *, task, n_classes, rep_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    """Train SimCLR on the whole pool (labels unused); latents = f(x), N × 4·width."""
    images = check_images(images_uint8)
    n, c, h, w = images.shape
    opts = sub_cfg(rep_cfg, "simclr")  # checked against the schema, its defaults filled in
    config = {"in_channels": c, "height": h, "width": w, "net_width": int(opts["width"]),
              "blocks": int(opts["blocks"]), "proj_dim": int(opts["proj_dim"]),
              "latent_dim": 4 * int(opts["width"])}
    check_init_state(init_state, "simclr", config)
    device = torch.device(device)
    model, _ = load_or_build(SimCLRNet, config, init_state, seed, device)
    model.view_options = {k: opts[k] for k in VIEW_KEYS}
    data = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    # null (only null) means the VAE's value: a 0 is refused by the schema, not replaced
    batch = int(rep_cfg["batch_size"] if opts["batch_size"] is None else opts["batch_size"])
    if epochs is None:
        epochs = rep_cfg["epochs"] if opts["epochs"] is None else opts["epochs"]
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
                             f"batch {batch}); set representation.simclr.batch_size (or representation.batch_size) "
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
