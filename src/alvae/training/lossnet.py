"""Loss-prediction module and pair margin loss (Yoo & Kweon, "Learning Loss for
Active Learning", CVPR 2019; thesis section 2.1.1 (2) and chapter 3).

Each of the ResNet's four residual-block outputs is global-average-pooled and
mapped by a fully connected layer + ReLU to ``hidden`` units; the four are
concatenated into c (4·hidden), optionally extended by the extra vector α·V(u)
(``lloss_vae``), and one more fully connected layer maps that to the predicted
loss.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn


class LossPredictionModule(nn.Module):
    """P(blocks, extra) -> predicted loss [B].

    The last layer is ``Linear(4·hidden + extra_dim, 1)`` on ``c ⌢ extra``,
    stored as two blocks (``fc_c`` with the bias, ``fc_extra`` without) and
    initialised like one ``nn.Linear`` of that fan-in. The split makes
    ``extra = 0`` give bit-identical outputs to a module with ``extra_dim = 0``
    and the same ``fc_c`` weights (α = 0 reproduces plain lloss).
    """

    def __init__(self, in_channels: Sequence[int] = (64, 128, 256, 512), hidden: int = 128,
                 extra_dim: int = 0):
        super().__init__()
        self.in_channels, self.hidden, self.extra_dim = tuple(in_channels), hidden, int(extra_dim)
        self.fcs = nn.ModuleList(nn.Linear(c, hidden) for c in self.in_channels)
        n_c = hidden * len(self.in_channels)
        self.fc_c = nn.Linear(n_c, 1)
        self.fc_extra = nn.Linear(self.extra_dim, 1, bias=False) if self.extra_dim > 0 else None
        bound = 1.0 / math.sqrt(n_c + self.extra_dim)
        with torch.no_grad():
            self.fc_c.weight.uniform_(-bound, bound)
            self.fc_c.bias.uniform_(-bound, bound)
            if self.fc_extra is not None:
                self.fc_extra.weight.uniform_(-bound, bound)

    def forward(self, blocks: Sequence[torch.Tensor],
                extra: Optional[torch.Tensor] = None) -> torch.Tensor:
        if len(blocks) != len(self.fcs):
            raise ValueError(f"expected {len(self.fcs)} block outputs, got {len(blocks)}")
        c = torch.cat([torch.relu(fc(b.mean(dim=(2, 3)))) for fc, b in zip(self.fcs, blocks)],
                      dim=1)
        out = self.fc_c(c)
        if self.fc_extra is not None:
            if extra is None:
                raise ValueError(f"this module expects an extra input of width {self.extra_dim}")
            out = out + self.fc_extra(extra.to(out.dtype))
        elif extra is not None:
            raise ValueError("extra input given to a module built with extra_dim=0")
        return out.squeeze(1)


def pair_margin_loss(pred: torch.Tensor, target: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Pair ranking loss of learning loss:

        L_pair(p, p̃) = max(0, −I(p)·(p̃⁽¹⁾ − p̃⁽²⁾) + ξ),  I(p) = +1 if p⁽¹⁾ > p⁽²⁾ else −1,

    averaged over the pairs. As in the reference implementation the batch is
    paired first half against the reversed second half (``pred[i]`` with
    ``pred[B-1-i]`` for i < B//2; an odd batch leaves the middle element out);
    the batch order is already random. ``target`` (true losses) gets no gradient.
    """
    pred, target = pred.reshape(-1), target.reshape(-1).detach()
    half = pred.shape[0] // 2
    if half == 0:
        return pred.sum() * 0.0
    dp = (pred - pred.flip(0))[:half]
    dt = (target - target.flip(0))[:half]
    sign = torch.where(dt > 0, 1.0, -1.0).to(dp.dtype)
    return torch.clamp(margin - sign * dp, min=0).mean()
