"""The task model: torchvision's ResNet-18 exposing what the strategies need.

:class:`TaskModel` returns the logits, the 512-d penultimate features and the
outputs of the four residual blocks (for the loss-prediction module).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import UserError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BLOCK_CHANNELS = (64, 128, 256, 512)
FEATURE_DIM = 512


class WeightsError(UserError, RuntimeError):
    """Pretrained weights that cannot be loaded (offline, missing file)."""


def imagenet_state_dict() -> dict:
    """ResNet-18 ImageNet weights from torchvision's cache, downloading them
    when possible; offline without the file, say where to put it."""
    from torchvision.models import ResNet18_Weights

    weights = ResNet18_Weights.IMAGENET1K_V1
    filename = os.path.basename(weights.url)
    target = Path(torch.hub.get_dir()) / "checkpoints" / filename
    try:
        return weights.get_state_dict(progress=False, check_hash=True)
    except Exception as exc:
        raise WeightsError(
            f"cannot load ImageNet weights for resnet18 ({type(exc).__name__}: {exc}). "
            f"Offline, copy {filename} (from {weights.url}) to {target} "
            f"(set TORCH_HOME to change the folder), or set task_model.weights: null."
        ) from None


class TaskModel(nn.Module):
    """ResNet-18 for ``n_outputs`` logits on ``in_channels`` images.

    Grayscale input either repeats its channel three times (``grayscale="repeat"``)
    or uses a one-channel first convolution whose filter is the pretrained RGB
    filter averaged over the channels (``"average"``).
    """

    def __init__(self, n_outputs: int, in_channels: int = 1, weights: str | None = None,
                 grayscale: str = "repeat", input_size: int | None = None,
                 stem: str = "imagenet", dropout: float = 0.0):
        super().__init__()
        from torchvision.models import resnet18

        net = resnet18(weights=None)
        if weights == "imagenet":
            net.load_state_dict(imagenet_state_dict())
        elif weights is not None:
            raise ValueError(f"task_model.weights must be 'imagenet' or null, got {weights!r}")
        self.repeat = 1
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if weights else ((0.5,) * 3, (0.5,) * 3)
        if in_channels == 1:
            if grayscale == "average":
                conv = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
                with torch.no_grad():
                    conv.weight.copy_(net.conv1.weight.mean(dim=1, keepdim=True))
                net.conv1 = conv
                mean, std = (sum(mean) / 3,), (sum(std) / 3,)
            elif grayscale == "repeat":
                self.repeat = 3
            else:
                raise ValueError(f"task_model.grayscale must be repeat or average, got {grayscale!r}")
        elif in_channels != 3:
            raise ValueError(f"images must have 1 or 3 channels, got {in_channels}")
        if stem in ("small", "small_pool"):
            # 3x3 stride-1 first conv (the CIFAR ResNets of DISTIL and MedMNIST at 28 px);
            # small drops the max-pool (layer1 at full resolution), small_pool keeps it
            # (layer1 at half: about 3x cheaper than small, bench/bench_precision.py)
            net.conv1 = nn.Conv2d(net.conv1.in_channels, 64, kernel_size=3, stride=1, padding=1,
                                  bias=False)
            if stem == "small":
                net.maxpool = nn.Identity()
        elif stem != "imagenet":
            raise ValueError(f"task_model.stem must be imagenet, small or small_pool, got {stem!r}")
        net.fc = nn.Linear(FEATURE_DIM, n_outputs)
        self.net = net
        # dropout before the last layer (MC dropout for BALD); p = 0: no layer, no RNG draw
        self.dropout = float(dropout)
        self.drop = nn.Dropout(self.dropout) if self.dropout > 0 else nn.Identity()
        self.input_size = input_size
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    @property
    def classifier(self) -> nn.Linear:
        """The last layer (MC dropout masks its input)."""
        return self.net.fc

    def prepare(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 N×C×H×W (already on the device) -> normalised float input."""
        x = images_uint8.float().div_(255.0)
        if self.input_size and x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False)
        if self.repeat == 3:
            x = x.expand(-1, 3, -1, -1)
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor):
        """Return ``(logits, features, blocks)`` for a prepared batch."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        b1 = n.layer1(x)
        b2 = n.layer2(b1)
        b3 = n.layer3(b2)
        b4 = n.layer4(b3)
        feats = torch.flatten(n.avgpool(b4), 1)
        return n.fc(self.drop(feats)), feats, [b1, b2, b3, b4]
