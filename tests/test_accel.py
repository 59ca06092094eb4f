"""task_model.deterministic and task_model.compile, on the CPU."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.training import accel, determinism
from alvae.training.engine import DevicePool, TrainConfig, build_model, infer, train_model

TM = {"weights": None, "grayscale": "repeat", "input_size": None}
QUIET = lambda msg: None  # noqa: E731


@pytest.fixture
def restore_determinism():
    before = determinism.current()
    env = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    yield
    torch.use_deterministic_algorithms(before["deterministic"],
                                       warn_only=before["deterministic_warn_only"])
    torch.backends.cudnn.deterministic = before["cudnn_deterministic"]
    torch.backends.cudnn.benchmark = before["cudnn_benchmark"]
    if env is None:
        os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    else:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = env


def test_configure_sets_every_flag(restore_determinism, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    torch.backends.cudnn.benchmark = True
    lines = []
    state = determinism.configure(True, lines.append)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic is True
    assert torch.backends.cudnn.benchmark is False
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert state == {"deterministic": True, "deterministic_warn_only": True,
                     "cudnn_deterministic": True, "cudnn_benchmark": False,
                     "cublas_workspace_config": ":4096:8"}
    assert lines and "deterministic=True" in lines[0]
    off = determinism.configure(False)
    assert off["deterministic"] is False and not torch.are_deterministic_algorithms_enabled()


def test_run_records_determinism_in_its_settings(tmp_path, restore_determinism):
    sub = draw_subset(load_digits_dataset(), 80, seed=0)
    al = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 40}
    tm = dict(TM, lr=0.001, momentum=0.9, batch_size=16, epochs_initial=1, epochs_per_round=0,
              eval_batch_size=256, deterministic=True)
    run_loop(sub, RunSpec("random", 0, al, tm, {}), state_dir=tmp_path, log=QUIET)
    state = torch.load(tmp_path / "state.pt", weights_only=False)
    rec = state["settings"]["determinism"]
    assert rec["deterministic"] and rec["cudnn_deterministic"] and not rec["cudnn_benchmark"]
    assert rec["cublas_workspace_config"] == ":4096:8"
    assert torch.are_deterministic_algorithms_enabled()
    # switching it off is a different setting: a different hash, so no stale resume
    run_loop(sub, RunSpec("random", 0, al, dict(tm, deterministic=False), {}), state_dir=tmp_path / "b",
             log=QUIET)
    other = torch.load(tmp_path / "b" / "state.pt", weights_only=False)
    assert other["settings"]["determinism"]["deterministic"] is False
    assert other["config_hash"] != state["config_hash"]


def test_deterministic_mode_changes_no_cpu_result(restore_determinism):
    sub = draw_subset(load_digits_dataset(), 100, seed=2)
    al = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 40}
    tm = dict(TM, lr=0.01, momentum=0.9, batch_size=16, epochs_initial=1, epochs_per_round=0,
              eval_batch_size=256)
    strip = lambda rows: [{k: v for k, v in r.items() if not k.endswith("_time_s")}  # noqa: E731
                          for r in rows]
    a = run_loop(sub, RunSpec("coreset", 1, al, dict(tm, deterministic=True), {}), log=QUIET)
    b = run_loop(sub, RunSpec("coreset", 1, al, dict(tm, deterministic=False), {}), log=QUIET)
    assert strip(a[0]) == strip(b[0])
    np.testing.assert_array_equal(a[1]["round_1"], b[1]["round_1"])


def test_compile_mode_is_checked_and_cudagraphs_falls_back_on_cpu():
    with pytest.raises(ValueError, match="task_model.compile"):
        accel.effective_mode("fast", "cpu")
    lines = []
    assert accel.effective_mode("cudagraphs", "cpu", lines.append) == "default"
    assert "cudagraphs needs CUDA" in lines[0]
    assert accel.effective_mode("none", "cpu") == "none"


def test_eager_holder_is_a_no_op():
    holder = accel.Compiled("none", "cpu", {16})
    model = build_model("multi-class", 10, 1, TM, 0, "cpu")
    assert holder.adopt(model) is model
    x = torch.zeros(16, 3, 8, 8)
    torch.testing.assert_close(accel.forward(model, x)[0], model.eval()(x)[0])


def _train_once(mode: str, data, seeds=(0, 1), backend="inductor"):
    """Rounds of one job: a fresh seeded model each, one epoch on 40 8×8 images
    in batches of 16 (the last batch of 8: eager), then the pass over 56
    images in batches of 32 (the last 24: eager). Returns per round the
    module, train stats, probabilities and dynamo's graph count so far."""
    from torch._dynamo.utils import counters

    images, labels = data
    pool = DevicePool(images, labels, "multi-class", "cpu")
    cfg = TrainConfig.from_config({"lr": 0.01, "batch_size": 16, "eval_batch_size": 32, "precision": "fp32"})
    holder = accel.Compiled(mode, "cpu", {16, 32}, QUIET, backend=backend)
    out = []
    for rs in seeds:
        model = holder.adopt(build_model("multi-class", 10, 1, TM, rs, "cpu"))
        stats = train_model(model, pool, np.arange(40), 1, cfg, rs, log=QUIET)
        probs = infer(model, pool, np.arange(len(images)), cfg)["probs"]
        out.append((model, stats, probs, counters["stats"]["unique_graphs"]))
    accel.release(holder)
    return out


@pytest.mark.slow
def test_compiled_training_matches_eager_and_is_compiled_once():
    """torch.compile against eager over two rounds of one job. Tolerance: train
    loss within 1e-4 relative, class probabilities within 1e-4 absolute.

    The backend here is ``aot_eager``: the same dynamo capture, guards and
    AOTAutograd graphs (forward, backward, batch-norm buffer updates) as the
    default ``inductor``, without its C++ code generation, which takes 2–3
    minutes for ResNet-18 on this 2-core machine. Inductor itself was run on
    the CPU by hand on the same kind of case (64 8×8 images, batch 32, one
    epoch: probabilities within 3e-8, train loss within 3e-7 relative) and by
    ``bench/bench_training.py --compile-modes none default``, which reports how
    far a whole epoch drifts (see bench/RESULTS.md)."""
    from torch._dynamo.utils import counters

    rng = np.random.default_rng(0)
    data = (rng.integers(0, 256, (56, 1, 8, 8), dtype=np.uint8), rng.integers(0, 10, 56))
    eager = _train_once("none", data)
    counters.clear()
    compiled = _train_once("default", data, backend="aot_eager")
    assert compiled[0][0] is compiled[1][0]  # one module for the job, reused
    assert compiled[0][3] >= 1  # compiled in round 0 ...
    assert compiled[1][3] == compiled[0][3]  # ... and nothing new in round 1
    for (_, se, pe, _), (_, sc, pc, _) in zip(eager, compiled):
        assert sc["train_loss"] == pytest.approx(se["train_loss"], rel=1e-4)
        torch.testing.assert_close(pc, pe, atol=1e-4, rtol=0)
    assert not torch.equal(eager[0][2], eager[1][2])  # the rounds did differ
