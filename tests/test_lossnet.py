"""Loss-prediction module, pair margin loss and the lloss strategy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alvae.strategies import SelectionContext, get_strategy
from alvae.training.lossnet import LossPredictionModule, pair_margin_loss


def test_pair_margin_loss_hand_example():
    pred = torch.tensor([0.5, 2.0, 1.0, 0.0, 3.0, 1.5])
    target = torch.tensor([1.0, 0.2, 3.0, 3.0, 0.1, 0.4])
    # pairs (i, 5-i): (0,5), (1,4), (2,3)
    #   (0,5): target 1.0 > 0.4 -> I=+1, p1-p2 = 0.5-1.5 = -1.0 -> max(0, 1.0 + 1) = 2.0
    #   (1,4): target 0.2 < 0.1? no, 0.2 > 0.1 -> I=+1, 2.0-3.0 = -1.0 -> 2.0
    #   (2,3): target equal -> I=-1, 1.0-0.0 = 1.0 -> max(0, 1.0 + 1) = 2.0
    assert pair_margin_loss(pred, target).item() == pytest.approx(2.0)
    pred2 = torch.tensor([3.0, 0.0, 0.2, 0.5, 0.25, 1.0])
    #   (0,5): I=+1, 3.0-1.0 = 2.0 -> max(0, -2 + 1) = 0
    #   (1,4): I=+1, 0.0-0.25 = -0.25 -> 1.25
    #   (2,3): I=-1, 0.2-0.5 = -0.3 -> max(0, -0.3 + 1) = 0.7
    assert pair_margin_loss(pred2, target).item() == pytest.approx((0 + 1.25 + 0.7) / 3)
    assert pair_margin_loss(pred2, target, margin=0.5).item() == pytest.approx((0.75 + 0.2) / 3)


def test_pair_margin_loss_odd_batch_drops_middle_and_grad():
    pred = torch.tensor([1.0, 7.0, 0.0], requires_grad=True)
    target = torch.tensor([0.0, 100.0, 1.0])
    # one pair (0,2): target 0 <= 1 -> I=-1, p1-p2 = 1 -> max(0, 1 + 1) = 2
    loss = pair_margin_loss(pred, target)
    assert loss.item() == pytest.approx(2.0)
    loss.backward()
    assert pred.grad.tolist() == [1.0, 0.0, -1.0]
    assert pair_margin_loss(torch.tensor([1.0]), torch.tensor([2.0])).item() == 0.0


def blocks(batch=5, seed=0, sizes=(8, 4, 2, 1)):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, c, s, s, generator=g) for c, s in zip((64, 128, 256, 512), sizes)]


def test_module_shapes():
    torch.manual_seed(0)
    m = LossPredictionModule()
    assert m(blocks()).shape == (5,)
    m2 = LossPredictionModule(hidden=16, extra_dim=6)
    out = m2(blocks(3), torch.randn(3, 6))
    assert out.shape == (3,)
    with pytest.raises(ValueError):
        m2(blocks(3))
    with pytest.raises(ValueError):
        m(blocks(3), torch.randn(3, 6))


def test_module_is_gap_fc_relu_concat_fc():
    torch.manual_seed(1)
    m = LossPredictionModule(hidden=4, extra_dim=2)
    b, e = blocks(2), torch.randn(2, 2)
    c = torch.cat([torch.relu(b_.mean(dim=(2, 3)) @ fc.weight.T + fc.bias)
                   for fc, b_ in zip(m.fcs, b)], dim=1)
    w = torch.cat([m.fc_c.weight, m.fc_extra.weight], dim=1)
    expected = (torch.cat([c, e], dim=1) @ w.T + m.fc_c.bias).squeeze(1)
    torch.testing.assert_close(m(b, e), expected)


def test_zero_extra_reproduces_plain_module():
    torch.manual_seed(2)
    plain = LossPredictionModule(hidden=32)
    with_extra = LossPredictionModule(hidden=32, extra_dim=8)
    missing, unexpected = with_extra.load_state_dict(plain.state_dict(), strict=False)
    assert missing == ["fc_extra.weight"] and unexpected == []
    b = blocks(7)
    assert torch.equal(with_extra(b, torch.zeros(7, 8)), plain(b))
    assert not torch.equal(with_extra(b, torch.ones(7, 8)), plain(b))


@pytest.mark.parametrize("name", ["lloss", "lloss_vae"])
def test_lloss_picks_highest_predicted_loss(name):
    pred = np.array([0.3, 2.0, -1.0, 2.0, 0.9, 5.0], dtype=np.float32)
    candidates = np.array([4, 8, 15, 16, 23, 42])
    lookup = dict(zip(candidates.tolist(), range(len(candidates))))

    def infer(idx):
        return {"pred_loss": torch.tensor(pred[[lookup[int(i)] for i in idx]]),
                "features": torch.zeros(len(idx), 3), "probs": torch.full((len(idx), 2), 0.5)}

    ctx = SelectionContext(labeled=np.array([1, 2]), candidates=candidates, infer=infer,
                           task="multi-class", latents=np.zeros((50, 2), np.float32))
    strat = get_strategy(name)
    assert strat.trains_loss_module and strat.uses_representation == name.endswith("_vae")
    picked = strat.select(ctx, 3, np.random.default_rng(0))
    assert picked.dtype == np.int64
    assert picked.tolist() == [42, 8, 16]  # 5.0, then the tie 2.0/2.0 by position
