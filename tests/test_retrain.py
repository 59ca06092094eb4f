"""representation.retrain: per_round: the latents change between rounds, and a killed run
resumes to exactly the uninterrupted result."""

from __future__ import annotations

import numpy as np
import pytest

from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.representations import train_representation
from alvae.representations.retrain import RoundRetrainer, load_representation_state, state_digest
from test_loop import LLOSS, QUIET, SMALL_AL, SMALL_TM, _strip

VAE_CFG = {"latent_dim": 4, "epochs": 1, "lr": 1e-3, "weight_decay": 5e-3, "batch_size": 64}


def _rows(rows):
    """Rows without timings, NaN as None (NaN != NaN once unpickled from a checkpoint)."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in _strip(rows)]


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def pool():
    sub = draw_subset(load_digits_dataset(), 200, seed=1)
    res = {k: train_representation(k, sub.pool_images, sub.pool_labels, None, task=sub.task,
                                   n_classes=sub.n_classes, rep_cfg=VAE_CFG, seed=0, log=QUIET)
           for k in ("vae", "cvae")}
    return sub, res


def _retrainer(res, kind, seed=0):
    return RoundRetrainer(kind, VAE_CFG, 1, res[kind].state, res[kind].latents, seed, log=QUIET)


@pytest.mark.slow
@pytest.mark.parametrize("kind,strategy", [("cvae", "coreset_cvae"), ("vae", "lloss_vae")])
def test_per_round_changes_the_latents_and_resumes_identically(pool, tmp_path, kind, strategy):
    from alvae.al.loop import RunSpec, run_loop

    sub, res = pool
    ref_rt = _retrainer(res, kind)
    ref = run_loop(sub, RunSpec(strategy, 0, SMALL_AL, SMALL_TM, LLOSS), latents=res[kind].latents,
                   state_dir=tmp_path / "ref", log=QUIET, retrainer=ref_rt)
    h = ref_rt.history
    assert sorted(h) == ["round_0", "round_1", "round_2"]
    np.testing.assert_array_equal(h["round_0"], res[kind].latents)
    assert not np.allclose(h["round_0"], h["round_1"])
    assert not np.allclose(h["round_1"], h["round_2"])
    # differs from the run that keeps the round-0 latents
    once = run_loop(sub, RunSpec(strategy, 0, SMALL_AL, SMALL_TM, LLOSS), latents=res[kind].latents,
                    log=QUIET)
    def no_knn(rows):
        return [{k: v for k, v in r.items() if k != "latent_knn_acc"} for r in _rows(rows)]

    assert no_knn(once[0]) != no_knn(ref[0])
    # each round records how well its latents separate the classes (once: NaN)
    from alvae.representations.diagnostics import latent_diagnostics

    knn = [r["latent_knn_acc"] for r in ref[0]]
    assert all(0.0 < k <= 1.0 for k in knn) and len(knn) == 3
    assert knn[0] == latent_diagnostics(
        res[kind], kind=kind, dataset="d", scope="shared", seed=0, task=sub.task,
        pool_images=sub.pool_images, pool_labels=sub.pool_labels, test_images=sub.test_images,
        test_labels=sub.test_labels, n_labeled=0)["knn_acc"]
    assert all(np.isnan(r["latent_knn_acc"]) for r in once[0])

    def kill_in_round_2(msg):
        if "round 2 | picked" in msg:
            raise Killed(msg)

    with pytest.raises(Killed):
        run_loop(sub, RunSpec(strategy, 0, SMALL_AL, SMALL_TM, LLOSS), latents=res[kind].latents,
                 state_dir=tmp_path / "run", log=kill_in_round_2, retrainer=_retrainer(res, kind))
    logs = []
    rt = _retrainer(res, kind)
    out = run_loop(sub, RunSpec(strategy, 0, SMALL_AL, SMALL_TM, LLOSS), latents=res[kind].latents,
                   state_dir=tmp_path / "run", log=logs.append, retrainer=rt)
    assert any("resume: continuing after round 1" in m for m in logs)
    assert not any("round 1 |" in m for m in logs)
    assert _rows(out[0]) == _rows(ref[0])
    for key in ref[1]:
        np.testing.assert_array_equal(out[1][key], ref[1][key])
    for key in h:
        np.testing.assert_array_equal(rt.history[key], h[key])


def test_resume_key_covers_the_representation(pool, tmp_path):
    from alvae.al.loop import RunSpec, run_loop

    sub, res = pool
    with pytest.raises(Killed):
        def kill(msg):
            if "round 2 | picked" in msg:
                raise Killed(msg)
        run_loop(sub, RunSpec("coreset_vae", 0, SMALL_AL, SMALL_TM, LLOSS), latents=res["vae"].latents,
                 state_dir=tmp_path / "st", log=kill, retrainer=_retrainer(res, "vae"))
    logs = []
    other = RoundRetrainer("vae", dict(VAE_CFG, lr=2e-3), 1, res["vae"].state, res["vae"].latents,
                           0, log=QUIET)
    run_loop(sub, RunSpec("coreset_vae", 0, dict(SMALL_AL, final_labels=20), SMALL_TM, LLOSS),
             latents=res["vae"].latents, state_dir=tmp_path / "st", log=logs.append, retrainer=other)
    assert any("refusing the stale state" in m for m in logs)
    assert state_digest(res["vae"].state) != state_digest(res["cvae"].state)


def test_model_file_of_the_thesis_vae_loads_as_a_state(pool, tmp_path):
    import torch

    from alvae.representations.vae import VAE, save_vae

    sub, res = pool
    model = VAE(**res["vae"].state["config"])
    model.load_state_dict(res["vae"].state["state_dict"])
    save_vae(model, tmp_path / "vae.pt")
    state = load_representation_state(tmp_path / "vae.pt", "vae")
    assert state["kind"] == "vae" and state["config"] == res["vae"].state["config"]
    assert state_digest(state) == state_digest(res["vae"].state)
    torch.save(res["cvae"].state, tmp_path / "cvae.pt")
    with pytest.raises(ValueError, match="holds a 'cvae' model"):
        load_representation_state(tmp_path / "cvae.pt", "vae")
