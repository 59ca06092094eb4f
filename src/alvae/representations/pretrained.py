"""Kind ``pretrained``: a pretrained backbone's features, from weights in a local file.

Nothing is trained: the representation of an image is the output of a torchvision
(or timm) backbone up to its last linear layer (for a ResNet the 512- or 2048-d
pooled features), with weights read from the file the user placed at
``representation.pretrained.path``. The images are scaled to [0, 1], a gray channel is
repeated three times, they are resized (bilinear) to ``image_size`` × ``image_size``
and normalised with ImageNet's mean and standard deviation (``normalize:
imagenet``; ``none``: left in [0, 1]). Inference runs in chunks of ``batch_size``.

Options (``representation.pretrained.<key>``; defaults in :data:`DEFAULTS`):

* ``source``: ``torchvision`` (``torchvision.models.get_model(arch)``, any name of
  ``torchvision.models.list_models()``) or ``timm`` (``timm.create_model(arch,
  num_classes=0)``; timm is not a dependency of alvae: install it to use this);
* ``arch``: the architecture the file's weights belong to (``resnet18``);
* ``path``: the weights file, a state dict (or a mapping holding one under
  ``state_dict`` or ``model``), as torchvision's and timm's ``.pth`` files are. The
  last layer's weights (the classifier) may be in it or not; every other tensor of
  the architecture must be, with its shape, and nothing else: a file of another
  architecture is refused with one line before any image is encoded;
* ``sha256``: the file's expected SHA-256 (hex); given, a file with another digest
  is refused with one line naming both. Either way the digest of the file becomes
  part of the train_representation job's params (a replaced file retrains, and every AL run
  that reads the features then starts over: its run key holds their digest);
* ``url``: where the network allows, the file is downloaded to ``path`` when it is
  missing (``sha256`` is then required, so that the download is checked and the
  workflow knows the weights' identity before the job runs);
* ``image_size`` (224), ``batch_size`` (256), ``normalize`` (``imagenet``).

Offline the file must be placed by hand; the workflow checks it (present, digest)
when it plans, before any job (:func:`option_problems`, :func:`files_identity`, read
through the kind's ``reads_files`` trait in :mod:`alvae.vocabulary`). This module
imports torch only when a model is built, so that planning stays torch-free.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..schema import defaults
from .base import RepresentationResult, sub_cfg

KIND = "pretrained"
DEFAULTS = defaults("representation", KIND)  # the schema is the one place a default is written
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsFileError(UserError, ValueError):
    """The pretrained weights file is missing, has another digest, or does not fit the
    architecture (one line naming the key)."""


# ------------------------------------------------------------------ planning (torch-free)
def options(opts: dict | None) -> dict:
    """``representation.pretrained`` over :data:`DEFAULTS` (unknown keys refused)."""
    return sub_cfg({KIND: opts or {}}, KIND, DEFAULTS)


def option_problems(opts: dict | None) -> list[str]:
    """What is wrong with ``representation.pretrained`` before any job: one line per problem."""
    key = f"representation.{KIND}"
    try:
        o = options(opts)
    except ValueError as exc:
        return [str(exc)]
    problems = []
    if o["source"] == "timm":
        import importlib.util

        if importlib.util.find_spec("timm") is None:
            problems.append(f"{key}.source: timm is not installed here (pip install timm), or "
                            f"use source: torchvision")
    if not o["path"]:
        problems.append(f"{key}.path: the weights file of {o['source']} {o['arch']} is required "
                        f"(place it by hand offline; docs/representations.md)")
    elif not Path(o["path"]).is_file():
        if o["url"] is None:
            problems.append(f"{key}.path: {o['path']} not found; place the {o['source']} "
                            f"{o['arch']} weights there, or give {key}.url where the network "
                            f"allows a download")
        elif o["sha256"] is None:
            problems.append(f"{key}.sha256: required with {key}.url (the download is checked "
                            f"against it), since {o['path']} is not there yet")
    elif o["sha256"] is not None:
        have = sha256_of(o["path"])
        if have != o["sha256"].lower():
            problems.append(_mismatch(o["path"], have, o["sha256"]))
    return problems


def files_identity(opts: dict | None) -> str:
    """The weights' identity for the train_representation job's params: the file's SHA-256, or the
    expected one of a file still to be downloaded."""
    o = options(opts)
    if o["path"] and Path(o["path"]).is_file():
        return f"sha256 {sha256_of(o['path'])}"
    return f"sha256 {str(o['sha256']).lower()} (to download)"


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _mismatch(path, have: str, want: str) -> str:
    return (f"representation.{KIND}.sha256: {path} has SHA-256 {have}, not {want.lower()} (another file, "
            f"or a broken copy)")


# --------------------------------------------------------------------------- the model
def _backbone(source: str, arch: str):
    """The architecture with random weights and its last linear layer removed, and the
    width of its output."""
    from torch import nn

    if source == "timm":
        import timm

        net = timm.create_model(arch, pretrained=False, num_classes=0)
        return net, int(net.num_features)
    from torchvision.models import get_model

    try:
        net = get_model(arch, weights=None)
    except ValueError as exc:
        raise WeightsFileError(f"representation.{KIND}.arch: {exc}") from None
    last = None
    for name, module in net.named_modules():
        if isinstance(module, nn.Linear):
            last = name
    if last is None:
        raise WeightsFileError(f"representation.{KIND}.arch: torchvision's {arch} has no linear layer to "
                               f"take the features before")
    parent = net.get_submodule(last.rpartition(".")[0]) if "." in last else net
    width = int(net.get_submodule(last).in_features)
    setattr(parent, last.rpartition(".")[2], nn.Identity())
    return net, width


def _model_class():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class PretrainedNet(nn.Module):
        """A backbone without its classifier, taking [0, 1] images of any size."""

        def __init__(self, source: str, arch: str, in_channels: int, height: int, width: int,
                     image_size: int, normalize: str, batch_size: int, latent_dim: int,
                     sha256: str):
            super().__init__()
            self.backbone, dim = _backbone(source, arch)
            if int(latent_dim) != dim:
                raise WeightsFileError(f"representation.{KIND}: {source} {arch} gives {dim} features, the "
                                       f"saved state says {latent_dim}")
            self.config = {"source": source, "arch": arch, "in_channels": int(in_channels),
                           "height": int(height), "width": int(width),
                           "image_size": int(image_size), "normalize": normalize,
                           "batch_size": int(batch_size), "latent_dim": dim, "sha256": sha256}
            mean, std = ((IMAGENET_MEAN, IMAGENET_STD) if normalize == "imagenet"
                         else ((0.0,) * 3, (1.0,) * 3))
            self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

        def prepare(self, x01: torch.Tensor) -> torch.Tensor:
            if x01.shape[1] == 1:
                x01 = x01.expand(-1, 3, -1, -1)
            s = self.config["image_size"]
            if tuple(x01.shape[-2:]) != (s, s):
                x01 = F.interpolate(x01, size=(s, s), mode="bilinear", align_corners=False)
            return (x01 - self.mean) / self.std

        @torch.no_grad()
        def encode(self, x01: torch.Tensor):
            """``x`` in [0, 1], N×C×H×W -> (features, None), in chunks of batch_size."""
            b = self.config["batch_size"]
            out = [self.backbone(self.prepare(x01[i:i + b])).flatten(1)
                   for i in range(0, len(x01), b)]
            return torch.cat(out) if out else x01.new_zeros((0, self.config["latent_dim"])), None

        def forward(self, x01):
            return self.encode(x01)[0]

        def preview_rows(self, x01: torch.Tensor) -> list:
            """The train_representation job's figure: the images, and what the backbone sees (resized)."""
            seen = F.interpolate(x01, size=(self.config["image_size"],) * 2, mode="bilinear",
                                 align_corners=False)
            return [("input", x01), (f"resized to {self.config['image_size']} px", seen)]

        def load_backbone(self, state: dict, path) -> None:
            """The file's tensors into the backbone: all of them (a classifier's aside)."""
            mine = self.backbone.state_dict()
            full, _ = _backbone_with_classifier(self.config["source"], self.config["arch"])
            classifier = set(full) - set(mine)
            given = {k: v for k, v in state.items() if k not in classifier}
            missing = sorted(set(mine) - set(given))
            unexpected = sorted(set(given) - set(mine))
            shapes = sorted(k for k in set(mine) & set(given)
                            if tuple(getattr(given[k], "shape", ())) != tuple(mine[k].shape))
            if missing or unexpected or shapes:
                parts = [f"{len(x)} {what} (e.g. {x[0]})" for x, what in
                         ((missing, "missing"), (unexpected, "unexpected"),
                          (shapes, "of another shape")) if x]
                raise WeightsFileError(f"representation.{KIND}.path: {path} does not hold "
                                       f"{self.config['source']} {self.config['arch']} weights: "
                                       f"{', '.join(parts)}")
            self.backbone.load_state_dict(given)

    return PretrainedNet


def _backbone_with_classifier(source: str, arch: str):
    """The architecture's full state dict keys (classifier included) and the model."""
    if source == "timm":
        import timm

        net = timm.create_model(arch, pretrained=False)
    else:
        from torchvision.models import get_model

        net = get_model(arch, weights=None)
    return net.state_dict(), net


_CLASS = None


def __getattr__(name):  # MODEL is built on first use, so that planning never imports torch
    global _CLASS
    if name == "MODEL":
        if _CLASS is None:
            _CLASS = _model_class()
        return _CLASS
    raise AttributeError(name)


# ------------------------------------------------------------------------- the kind
def weights_file(o: dict, log=print) -> Path:
    """The weights file, downloaded first where it is missing and ``url`` is given."""
    path = Path(o["path"])
    if path.is_file():
        return path
    if not o["url"]:
        raise WeightsFileError(f"representation.{KIND}.path: {path} not found; place the weights there")
    import torch.hub

    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"{KIND}: downloading {o['url']} to {path}")
    tmp = path.with_name(path.name + f".part{os.getpid()}")
    torch.hub.download_url_to_file(o["url"], str(tmp), progress=False)
    os.replace(tmp, path)
    return path


def read_state(path) -> dict:
    """A state dict from a weights file (plain, or under ``state_dict`` / ``model``)."""
    import torch

    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsFileError(f"representation.{KIND}.path: {path} is not a PyTorch weights file "
                               f"({type(exc).__name__})") from None
    for key in ("state_dict", "model"):
        if isinstance(blob, dict) and isinstance(blob.get(key), dict):
            blob = blob[key]
    if not isinstance(blob, dict) or not blob:
        raise WeightsFileError(f"representation.{KIND}.path: {path} holds no state dict")
    return blob


def fit(images_uint8, labels, labeled, *, task, n_classes, rep_cfg, seed, device="cpu",
        init_state=None, epochs=None, log=print) -> RepresentationResult:
    """Load the backbone from ``representation.pretrained.path`` and encode the pool (nothing is
    trained; labels, seed and epochs are unused)."""
    import torch

    from .vae import check_images

    images = check_images(images_uint8)
    o = options(rep_cfg.get(KIND))
    problems = [p for p in option_problems(rep_cfg.get(KIND))
                if not (o["url"] and ".path:" in p and "not found" in p)]
    if problems:
        raise WeightsFileError(problems[0])
    path = weights_file(o, log)
    digest = sha256_of(path)
    if o["sha256"] is not None and digest != o["sha256"].lower():
        raise WeightsFileError(_mismatch(path, digest, o["sha256"]))
    _, c, h, w = images.shape
    _, dim = _backbone(o["source"], o["arch"])
    model = __getattr__("MODEL")(o["source"], o["arch"], c, h, w, o["image_size"], o["normalize"],
                                 o["batch_size"], dim, digest)
    model.load_backbone(read_state(path), path)
    model = model.to(torch.device(device)).eval()
    log(f"{KIND}: {o['source']} {o['arch']} from {path} (sha256 {digest[:16]}...), {dim} "
        f"features at {o['image_size']} px")
    latents = encode(model, images, rep_cfg=rep_cfg, device=device)
    state = {"kind": KIND, "config": dict(model.config),
             "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    return RepresentationResult(state, latents, [], model)


def encode(model, images_uint8, *, rep_cfg=None, device="cpu") -> np.ndarray:
    """The backbone's features of ``images`` (float32, N × latent_dim)."""
    import torch

    from .vae import to01

    images = np.asarray(images_uint8)
    dev = torch.device(device)
    model.eval()
    b = model.config["batch_size"]
    out = []
    with torch.no_grad():
        for i in range(0, len(images), b):
            x = to01(torch.from_numpy(np.ascontiguousarray(images[i:i + b])).to(dev))
            out.append(model.encode(x)[0].float().cpu().numpy())
    if not out:
        return np.zeros((0, model.config["latent_dim"]), np.float32)
    return np.concatenate(out).astype(np.float32)
