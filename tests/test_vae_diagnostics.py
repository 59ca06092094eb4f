"""The representation_diagnostics rule's library call: the kNN row of a representation read back
from the files train_representation saved equals the row of the freshly trained one."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from alvae.representations import diagnostics as diag
from alvae.representations import train_representation


@pytest.mark.parametrize("kind", ["vae", "cvae", "gmvae"])
def test_stored_diagnostics_equal_the_trained_ones(tmp_path, kind):
    d = load_digits()
    images = (d.images[:, None] * 16).clip(0, 255).astype(np.uint8)
    pool, test = slice(0, 300), slice(300, 400)
    labels = d.target.astype(np.int64)
    labeled = np.arange(0, 300, 10) if kind == "cvae" else None
    cfg = {"latent_dim": 4, "epochs": 2, "lr": 1e-3, "weight_decay": 0.0, "batch_size": 64,
           "gmvae": {"components": 3, "pretrain_epochs": 1}}
    res = train_representation(kind, images[pool], labels[pool], labeled, task="multi-class",
                               n_classes=10, rep_cfg=cfg, seed=0)
    torch.save(res.state, tmp_path / "model.pt")
    np.save(tmp_path / "latents.npy", res.latents)
    diag.save_loss_table(res.losses, tmp_path / "losses.csv")
    kw = dict(kind=kind, dataset="digits", scope="shared", seed=0, task="multi-class",
              pool_images=images[pool], pool_labels=labels[pool], test_images=images[test],
              test_labels=labels[test], n_labeled=0)
    fresh = diag.latent_diagnostics(res, **kw)
    stored = diag.stored_diagnostics(tmp_path / "model.pt", tmp_path / "latents.npy",
                                     tmp_path / "losses.csv", **kw)
    assert 0.0 < fresh["knn_acc"] <= 1.0
    for key in ("knn_acc", "knn_acc_pixels", "epochs", "latent_dim"):
        assert stored[key] == fresh[key], key
    assert stored["final_loss"] == pytest.approx(fresh["final_loss"], rel=1e-6, nan_ok=True)
    if kind == "cvae":  # where M2 keeps the class: its soft labels and its head
        assert stored["knn_acc_soft_labels"] == fresh["knn_acc_soft_labels"]
        assert stored["classifier_acc"] == fresh["classifier_acc"]
        assert 0.0 < fresh["knn_acc_soft_labels"] <= 1.0
    else:
        assert np.isnan(fresh["knn_acc_soft_labels"]) and np.isnan(fresh["classifier_acc"])


def test_class_head_diagnostics_on_a_known_head():
    """The head accuracy is the argmax of the soft labels; the soft-label kNN
    concatenates them to the means (here the means carry nothing, the soft labels
    everything, so the kNN is perfect)."""

    class Head(torch.nn.Module):
        def encode_all(self, x):
            n = len(x)
            logits = torch.nn.functional.one_hot(self.y[:n] if n == len(self.y) else self.y_test,
                                                 3).float() * 10
            return None, None, logits

        def soft_labels(self, logits):
            return torch.softmax(logits, 1)

    y_pool = np.array([0, 1, 2] * 10)
    y_test = np.array([0, 1, 2, 2, 1, 0])
    head = Head()
    head.y = torch.from_numpy(y_pool)
    wrong = y_test.copy()
    wrong[0] = 1  # the head gets one of six test points wrong
    head.y_test = torch.from_numpy(wrong)
    images_pool = np.zeros((30, 1, 8, 8), np.uint8)
    images_test = np.zeros((6, 1, 8, 8), np.uint8)
    mu_pool, mu_test = np.zeros((30, 2), np.float32), np.zeros((6, 2), np.float32)
    knn, acc = diag.class_head_diagnostics(head, mu_pool, images_pool, y_pool, mu_test,
                                           images_test, y_test, "multi-class")
    assert acc == pytest.approx(5 / 6)
    assert knn == pytest.approx(5 / 6)  # kNN follows the (one wrong) soft label
    knn_none, acc_none = diag.class_head_diagnostics(torch.nn.Linear(1, 1), mu_pool, images_pool,
                                                     y_pool, mu_test, images_test, y_test,
                                                     "multi-class")
    assert np.isnan(knn_none) and np.isnan(acc_none)
