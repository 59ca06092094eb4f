"""The frozen-feature task model (task_model.arch linear / mlp, alvae.training.head)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from alvae.al.loop import RunSpec, run_loop
from alvae.checks import ConfigError, load_config
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.strategies.badge import gradient_factors
from alvae.training.engine import build_model
from alvae.training.head import HeadModel, standardize
from conftest import REPO

HEAD = {"arch": "linear", "features": "simclr", "optimizer": "adam", "lr": 0.01,
        "weight_decay": 0.0, "batch_size": 32, "epochs_initial": 20, "epochs_per_round": 0,
        "eval_batch_size": 512, "train_until": None}
AL = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 80}
QUIET = lambda msg: None  # noqa: E731


@pytest.fixture(scope="module")
def digits():
    """Digits with stand-in 'frozen features': a fixed random projection of the pixels
    (pool, test), so that the head has real signal and the test needs no training."""
    sub = draw_subset(load_digits_dataset(), 600, seed=0)
    proj = np.random.default_rng(0).normal(size=(64, 24)).astype(np.float32)
    f = lambda im: (im.reshape(len(im), -1).astype(np.float32) / 255) @ proj  # noqa: E731
    return sub, {"pool": f(sub.pool_images), "test": f(sub.test_images), "val": None}


def test_standardize_uses_the_pool_statistics_only():
    pool = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    test = np.array([[3.0, 6.0]])
    p, t, v = standardize(pool, test, None)
    assert v is None and p.dtype == np.float32
    sd = np.std([1.0, 3.0, 5.0])
    np.testing.assert_allclose(p[:, 0], [-2 / sd, 0, 2 / sd], rtol=1e-6)
    np.testing.assert_allclose(p[:, 1], 0.0)  # a constant dimension is only centred
    np.testing.assert_allclose(t, [[0.0, 1.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="the pool's have 2 columns"):
        standardize(pool, np.ones((2, 3)))


def test_linear_head_features_are_its_input_and_badge_is_its_gradient():
    torch.manual_seed(0)
    model = HeadModel(4, 6, "linear")
    x = torch.randn(5, 6)
    logits, feats, blocks = model(x)
    assert blocks == [] and torch.equal(feats, x)
    # BADGE's embedding (p - onehot(y_hat)) x h is the gradient of the cross-entropy at the
    # predicted label with respect to the last layer's weights
    probs = logits.softmax(1)
    a = gradient_factors(probs.detach(), "multi-class")
    for i in range(5):
        model.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits[i:i + 1], probs[i:i + 1].argmax(1))
        loss.backward(retain_graph=True)
        want = model.fc.weight.grad.double()
        np.testing.assert_allclose(torch.outer(a[i], x[i].double()).numpy(), want.numpy(),
                                   rtol=1e-5, atol=1e-7)
    mlp = HeadModel(4, 6, "mlp", hidden=7)
    assert mlp(x)[1].shape == (5, 7) and (mlp(x)[1] >= 0).all()  # the ReLU hidden layer


def test_build_model_dispatches_on_arch_and_keeps_the_resnet():
    m = build_model("multi-class", 10, 24, HEAD, seed=1, device="cpu")
    assert isinstance(m, HeadModel) and m.fc.in_features == 24
    m2 = build_model("multi-class", 10, 24, HEAD, seed=1, device="cpu")
    assert torch.equal(m.fc.weight, m2.fc.weight)  # seeded
    r = build_model("multi-class", 10, 1, {"weights": None}, seed=1, device="cpu")
    assert type(r).__name__ == "TaskModel" and r.classifier is r.net.fc


@pytest.mark.parametrize("strategy", ["random", "entropy", "margin", "coreset", "coreset_vae",
                                      "badge", "bald", "typiclust", "medal"])
def test_strategies_run_on_a_linear_head(digits, strategy):
    sub, feats = digits
    latents = np.random.default_rng(1).normal(size=(len(sub), 4)).astype(np.float32)
    cfg = {"space": "features"} if strategy == "typiclust" else None
    if strategy == "bald":
        cfg = {"passes": 4, "dropout": 0.2}
    rows, picks = run_loop(sub, RunSpec(strategy, 0, AL, HEAD, {}, alpha=1.0, strategy_options=cfg),
                           latents=latents if strategy.endswith("_vae") else None, log=QUIET,
                           task_features=feats)
    assert [r["n_labels"] for r in rows] == [20, 40, 60, 80]
    assert rows[-1]["test_acc"] > 0.6, rows  # chance is 0.1; a linear probe of 80 labels
    again, picks2 = run_loop(sub, RunSpec(strategy, 0, AL, HEAD, {}, alpha=1.0, strategy_options=cfg),
                             latents=latents if strategy.endswith("_vae") else None, log=QUIET,
                             task_features=feats)
    for key in picks:
        np.testing.assert_array_equal(picks[key], picks2[key])  # deterministic


def test_head_learns_and_mlp_differs(digits):
    sub, feats = digits
    lin, _ = run_loop(sub, RunSpec("random", 0, AL, HEAD, {}), log=QUIET, task_features=feats)
    mlp, _ = run_loop(sub, RunSpec("random", 0, AL, dict(HEAD, arch="mlp", hidden=32), {}), log=QUIET,
                      task_features=feats)
    assert lin[-1]["test_acc"] > lin[0]["test_acc"]  # more labels, better head
    assert lin[-1]["test_acc"] != mlp[-1]["test_acc"]


def test_vaal_trains_on_the_pool_images_beside_a_head(digits):
    sub, feats = digits
    rows, picks = run_loop(sub,
                           RunSpec("vaal", 0, {**AL, "final_labels": 40}, HEAD, {},
                                   strategy_options={"epochs": 1, "width": 8, "latent_dim": 4}),
                           log=QUIET, task_features=feats)
    assert len(picks["round_1"]) == 20 and rows[-1]["n_labels"] == 40


def test_the_loop_refuses_what_a_head_cannot_do(digits):
    sub, feats = digits
    with pytest.raises(ValueError, match="lloss trains a module on the task model's residual "
                                         "blocks; task_model.arch: linear has none"):
        run_loop(sub, RunSpec("lloss", 0, AL, HEAD, {}), log=QUIET, task_features=feats)
    with pytest.raises(ValueError, match="needs the frozen features"):
        run_loop(sub, RunSpec("random", 0, AL, HEAD, {}), log=QUIET)
    with pytest.raises(ValueError, match="test has 5 rows for 297 images"):
        run_loop(sub, RunSpec("random", 0, AL, HEAD, {}), log=QUIET,
                 task_features={**feats, "test": feats["test"][:5]})


def test_run_key_holds_the_features(digits, tmp_path):
    """A run resumed on other features starts over (the features are in its run key)."""
    sub, feats = digits
    logs = []
    run_loop(sub, RunSpec("random", 0, {**AL, "final_labels": 40}, HEAD, {}), state_dir=tmp_path, log=QUIET,
             task_features=feats)
    other = {**feats, "pool": feats["pool"] + 1.0}
    run_loop(sub, RunSpec("random", 0, {**AL, "final_labels": 40}, HEAD, {}), state_dir=tmp_path,
             log=logs.append, task_features=other)
    assert any("changed: task_features" in m for m in logs), logs


def _config(tmp_path, **changes):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), tsne={"datasets": []})
    for key, value in changes.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_config_refuses_each_bad_combination_with_one_line_naming_the_key(tmp_path):
    ok = load_config(_config(tmp_path, task_model={"arch": "linear", "features": "simclr"}))
    assert ok["task_model"]["optimizer"] == "sgd" and ok["task_model"]["hidden"] == 256
    cases = [
        ({"task_model": {"arch": "linear"}}, "task_model.features: task_model.arch: linear trains"),
        ({"task_model": {"features": "vae"}}, "task_model.features ('vae') is read only by"),
        ({"task_model": {"arch": "mlp", "features": "vae"}, "strategies": ["random", "lloss_vae"]},
         "strategies: lloss_vae trains a module on the task model's residual blocks, and "
         "task_model.arch: mlp has none"),
        ({"task_model": {"arch": "linear", "features": "vae", "augment": True}},
         "task_model.augment: crops and flips images"),
        ({"task_model": {"arch": "linear", "features": "vae"}, "tsne": {"datasets": ["digits"], "initial_labels": 100, "candidates": 200, "pick": 20}},
         "tsne.datasets: the t-SNE experiment trains the ResNet"),
        ({"task_model": {"arch": "linear", "features": "pixels"}}, "task_model.features"),
    ]
    for changes, line in cases:
        with pytest.raises(ConfigError) as err:
            load_config(_config(tmp_path, **changes))
        assert line in str(err.value), str(err.value)
        assert len(str(err.value).splitlines()) == 2, str(err.value)  # header + one line


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_a_head_runs_on_cuda_where_images_go_channels_last(digits):
    """On CUDA the engine puts image batches channels-last and autocasts to bf16 (auto);
    feature rows are 2-d and must pass as they are."""
    sub, feats = digits
    for strategy in ("random", "badge", "coreset"):
        rows, picks = run_loop(sub, RunSpec(strategy, 0, AL, HEAD, {}), device="cuda", log=QUIET,
                               task_features=feats)
        assert [r["n_labels"] for r in rows] == [20, 40, 60, 80]
        assert rows[-1]["test_acc"] > 0.5
