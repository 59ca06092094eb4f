"""Task model: outputs the strategies need, weights, grayscale adaptation."""

from __future__ import annotations

import pytest
import torch

from alvae.training.model import TaskModel, WeightsError


def test_outputs_blocks_and_features():
    torch.manual_seed(0)
    m = TaskModel(14, in_channels=1, input_size=28)
    x = m.prepare(torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8))
    assert x.shape == (3, 3, 28, 28)  # resized and repeated
    logits, feats, blocks = m(x)
    assert logits.shape == (3, 14) and feats.shape == (3, 512)
    assert [b.shape[1] for b in blocks] == [64, 128, 256, 512]


def _fake_checkpoint(tmp_path, monkeypatch):
    from torchvision.models import resnet18

    torch.manual_seed(1)
    ref = resnet18(weights=None)
    ckpt = tmp_path / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    torch.save(ref.state_dict(), ckpt / "resnet18-f37072fd.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return ref


def test_imagenet_weights_from_cache_and_average_filter(tmp_path, monkeypatch):
    ref = _fake_checkpoint(tmp_path, monkeypatch)
    rep = TaskModel(10, 1, weights="imagenet", grayscale="repeat")
    torch.testing.assert_close(rep.net.conv1.weight, ref.conv1.weight)
    torch.testing.assert_close(rep.net.layer3[0].conv1.weight, ref.layer3[0].conv1.weight)
    avg = TaskModel(10, 1, weights="imagenet", grayscale="average")
    assert avg.net.conv1.weight.shape == (64, 1, 7, 7)
    torch.testing.assert_close(avg.net.conv1.weight, ref.conv1.weight.mean(1, keepdim=True))
    x = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    assert avg.prepare(x).shape == (2, 1, 28, 28)


def test_weights_offline_error_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    import torch.hub

    def offline(*a, **k):
        raise OSError("Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(WeightsError) as err:
        TaskModel(10, 1, weights="imagenet")
    msg = str(err.value)
    assert "resnet18-f37072fd.pth" in msg and str(tmp_path / "hub" / "checkpoints") in msg
