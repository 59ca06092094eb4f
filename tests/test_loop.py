"""Algorithm 1: plausibility, determinism, resume after SIGKILL, stale state."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.seeds import initial_labeled
from alvae.training.metrics import accuracy, auc
from conftest import REPO

TASK_MODEL = {"weights": None, "input_size": None, "lr": 0.001, "momentum": 0.9, "batch_size": 32,
              "epochs_initial": 3, "epochs_per_round": 1, "eval_batch_size": 512,
              "grayscale": "repeat", "train_until": None}
LLOSS = {"margin": 1.0, "weight": 1.0, "hidden": 16, "detach_after": 0.6}
QUIET = lambda msg: None  # noqa: E731


@pytest.fixture(scope="module")
def digits():
    return draw_subset(load_digits_dataset(), 1000, seed=0)


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.endswith("_time_s")} for r in rows]


@pytest.mark.slow
def test_random_loop_beats_chance(digits):
    al = {"initial_labels": 100, "labels_per_round": 100, "final_labels": 200}
    tm = dict(TASK_MODEL, epochs_initial=8, epochs_per_round=4)
    rows, picks = run_loop(digits, RunSpec("random", 0, al, tm, LLOSS), log=QUIET)
    assert [r["n_labels"] for r in rows] == [100, 200]
    assert rows[-1]["test_acc"] > 0.5, rows  # chance is 0.1
    assert rows[-1]["test_auc"] > 0.85
    assert [r["epochs"] for r in rows] == [8, 12]
    assert len(np.intersect1d(picks["initial"], picks["round_1"])) == 0
    assert np.isnan(rows[0]["val_acc"])  # digits has no val split


@pytest.mark.slow
def test_same_seed_same_everything(digits):
    al = {"initial_labels": 40, "labels_per_round": 30, "final_labels": 100}
    tm = dict(TASK_MODEL, epochs_initial=1, epochs_per_round=1)
    a = run_loop(digits, RunSpec("random", 3, al, tm, LLOSS), log=QUIET)
    b = run_loop(digits, RunSpec("random", 3, al, tm, LLOSS), log=QUIET)
    assert _strip(a[0]) == _strip(b[0])
    for key in a[1]:
        np.testing.assert_array_equal(a[1][key], b[1][key])
    assert [r["n_labels"] for r in a[0]] == [40, 70, 100]  # last round takes what is left


def test_initial_labels_shared_and_seeded():
    a, b = initial_labeled(1000, 50, 1), initial_labeled(1000, 50, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, initial_labeled(1000, 50, 2))
    assert len(np.unique(a)) == 50


KILL_SCRIPT = r"""
import json, os, signal, sys
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.al.loop import RunSpec, run_loop
cfg = json.loads(sys.argv[1])
kill_at = cfg.pop("kill_at")
sub = draw_subset(load_digits_dataset(), 300, seed=0)
def log(msg):
    print(msg, flush=True)
    if kill_at and kill_at in msg:
        os.kill(os.getpid(), signal.SIGKILL)
rows, picks = run_loop(sub, RunSpec(cfg["strategy"], 0, cfg["al"], cfg["tm"], cfg["lloss"]),
                       state_dir=cfg["state_dir"], log=log)
print("RESULT " + json.dumps({"rows": [{k: v for k, v in r.items() if not k.endswith("_time_s")}
                                       for r in rows],
                              "picks": {k: v.tolist() for k, v in picks.items()}}))
"""


def _run(cfg, kill_at=None):
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, json.dumps(dict(cfg, kill_at=kill_at))],
                          capture_output=True, text=True, env=env, timeout=600)
    return proc


@pytest.mark.slow
def test_sigkill_resumes_identically(tmp_path):
    # lloss: the resumed round needs both the task model and the loss module back
    cfg = {"strategy": "lloss", "al": {"initial_labels": 30, "labels_per_round": 30, "final_labels": 90},
           "tm": dict(TASK_MODEL, epochs_initial=1, epochs_per_round=1), "lloss": LLOSS}
    ref = _run(dict(cfg, state_dir=str(tmp_path / "ref")))
    assert ref.returncode == 0, ref.stderr
    killed = _run(dict(cfg, state_dir=str(tmp_path / "run")), kill_at="round 2 labels 90 epoch 1/")
    assert killed.returncode == -9, killed.stdout[-2000:] + killed.stderr[-2000:]
    assert "round 1 | labels 60" in killed.stdout and "RESULT" not in killed.stdout
    resumed = _run(dict(cfg, state_dir=str(tmp_path / "run")))
    assert resumed.returncode == 0, resumed.stderr
    assert "resume: continuing after round 1 (60 labels)" in resumed.stdout
    assert "round 0 |" not in resumed.stdout and "round 1 |" not in resumed.stdout  # never repeated
    res = lambda p: json.loads(p.stdout.split("RESULT ", 1)[1])  # noqa: E731
    assert res(resumed) == res(ref)


@pytest.mark.slow
def test_changed_config_refuses_stale_state(tmp_path):
    cfg = {"strategy": "random", "al": {"initial_labels": 30, "labels_per_round": 30, "final_labels": 90},
           "tm": dict(TASK_MODEL, epochs_initial=1, epochs_per_round=0), "lloss": LLOSS,
           "state_dir": str(tmp_path / "st")}
    killed = _run(cfg, kill_at="round 2 | picked")
    assert killed.returncode == -9
    changed = dict(cfg, tm=dict(cfg["tm"], lr=0.01))
    out = _run(changed)
    assert out.returncode == 0, out.stderr
    assert "refusing the stale state and starting from round 0" in out.stdout
    assert "round 0 | labels 30" in out.stdout
    fresh = _run(dict(changed, state_dir=str(tmp_path / "fresh")))
    assert out.stdout.split("RESULT ", 1)[1] == fresh.stdout.split("RESULT ", 1)[1]


def test_multilabel_metrics_by_hand():
    labels = np.array([[1, 0], [0, 0], [1, 1], [0, 1]])
    probs = np.array([[0.9, 0.2], [0.6, 0.1], [0.4, 0.8], [0.3, 0.7]])
    # label 0 decisions at 0.5: 1,1,0,0 vs 1,0,1,0 -> 2/4; label 1: 0,0,1,1 vs 0,0,1,1 -> 4/4
    assert accuracy(probs, labels, "multi-label") == pytest.approx((0.5 + 1.0) / 2)
    # label 0 AUC: positives {0.9, 0.4}, negatives {0.6, 0.3}: pairs won 0.9>0.6, 0.9>0.3, 0.4>0.3 -> 3/4
    assert auc(probs, labels, "multi-label") == pytest.approx((0.75 + 1.0) / 2)


def test_multiclass_metrics_by_hand():
    labels = np.array([0, 1, 2, 1])
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]])
    assert accuracy(probs, labels, "multi-class") == pytest.approx(0.5)


SMALL_AL = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 60}
SMALL_TM = dict(TASK_MODEL, epochs_initial=1, epochs_per_round=0, batch_size=16)


@pytest.fixture(scope="module")
def small():
    sub = draw_subset(load_digits_dataset(), 200, seed=1)
    latents = np.random.default_rng(0).normal(size=(len(sub), 4)).astype(np.float32)
    return sub, latents


@pytest.mark.parametrize("strategy", ["random", "entropy", "coreset", "coreset_vae", "medal",
                                      "medal_vae", "lloss", "lloss_vae"])
@pytest.mark.slow
def test_every_strategy_runs_in_the_loop(small, strategy):
    sub, latents = small
    rows, picks = run_loop(sub, RunSpec(strategy, 0, SMALL_AL, SMALL_TM, LLOSS, alpha="auto"),
                           latents=latents, log=QUIET)
    assert [r["n_labels"] for r in rows] == [20, 40, 60]
    chosen = np.concatenate([picks["initial"], picks["round_1"], picks["round_2"]])
    assert len(np.unique(chosen)) == 60 and chosen.max() < len(sub)
    assert all(0.0 <= r["test_acc"] <= 1.0 for r in rows)


@pytest.mark.slow
@pytest.mark.parametrize("plain", ["coreset", "medal", "lloss"])
def test_alpha_zero_reproduces_the_plain_strategy_in_the_loop(small, plain):
    sub, latents = small
    a = run_loop(sub, RunSpec(plain, 2, SMALL_AL, SMALL_TM, LLOSS), log=QUIET)
    b = run_loop(sub, RunSpec(f"{plain}_vae", 2, SMALL_AL, SMALL_TM, LLOSS, alpha=0.0), latents=latents,
                 log=QUIET)
    # latent_share: NaN without a latent block; 0 for a distance strategy's zero block
    shares = [r.pop("latent_share") for r in b[0]]
    assert all(np.isnan(r.pop("latent_share")) for r in a[0])
    assert np.isnan(shares[0]) and all((s == 0.0) if plain != "lloss" else np.isnan(s)
                                       for s in shares[1:])
    assert _strip(a[0]) == _strip(b[0])
    for key in a[1]:
        np.testing.assert_array_equal(a[1][key], b[1][key])


def test_vae_features_change_the_picks(small):
    sub, latents = small
    a = run_loop(sub, RunSpec("coreset", 2, SMALL_AL, SMALL_TM, LLOSS), log=QUIET)
    b = run_loop(sub, RunSpec("coreset_vae", 2, SMALL_AL, SMALL_TM, LLOSS, alpha=50.0), latents=latents,
                 log=QUIET)
    assert not np.array_equal(a[1]["round_1"], b[1]["round_1"])


def test_candidate_pool_bounds_the_choice(small):
    sub, _ = small
    al = dict(SMALL_AL, candidate_pool=30)
    rows, picks = run_loop(sub, RunSpec("entropy", 0, al, SMALL_TM, LLOSS), log=QUIET)
    assert [r["n_labels"] for r in rows] == [20, 40, 60]
    # round 1's candidates: 30 unlabeled points drawn with the round's seeded generator
    unlabeled = np.setdiff1d(np.arange(len(sub)), picks["initial"])
    cand = np.random.default_rng([0, 1, 1]).choice(unlabeled, size=30, replace=False)
    assert np.isin(picks["round_1"], cand).all()


def test_train_until_trains_each_round_to_the_rule_and_records_it(small):
    """task_model.train_until: a round trains past its planned epoch until the rule holds;
    metrics.csv's epochs and train_acc say where each round stopped."""
    sub, _ = small
    tm = dict(SMALL_TM, lr=0.05, train_until={"train_acc": 0.8, "max_epochs": 40, "patience": None})
    lines = []
    rows, _ = run_loop(sub, RunSpec("random", 0, dict(SMALL_AL, final_labels=40), tm, LLOSS),
                       log=lines.append)
    for row in rows:  # at the target, or at the cap
        assert row["epochs"] > 1 and (row["train_acc"] >= 0.8 or row["epochs"] == 40), row
    assert sum("stopped after" in line for line in lines) == len(rows)
