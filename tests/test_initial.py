"""al.initial_selection: cold-start initial labels chosen without labels (alvae.al.initial)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alvae.al.initial import select_initial
from alvae.al.loop import RunSpec, run_loop
from alvae.checks import ConfigError, load_config
from alvae.data.loaders import draw_subset, load_digits_dataset
from alvae.seeds import initial_labeled
from conftest import REPO

QUIET = lambda msg: None  # noqa: E731


def blobs(n_per=60, k=5, seed=0):
    """k well separated Gaussian blobs of unequal spread; blob of each point."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=20.0, size=(k, 6))
    x = np.concatenate([c + rng.normal(scale=0.5 + i * 0.2, size=(n_per, 6))
                        for i, c in enumerate(centres)]).astype(np.float32)
    return x, np.repeat(np.arange(k), n_per), centres


@pytest.mark.parametrize("method", ["typiclust", "centroids"])
def test_one_representative_per_cluster(method):
    x, blob, centres = blobs()
    opts = {"normalize": False, "min_cluster_size": 5}
    picks = select_initial(method, len(x), 5, seed=3, latents=x, typiclust=opts)
    assert picks.dtype == np.int64 and np.all(np.diff(picks) > 0)
    assert sorted(blob[picks]) == [0, 1, 2, 3, 4]  # every blob covered, once
    # each pick is central in its blob: nearer its blob's mean than most of the blob
    for j in picks:
        members = x[blob == blob[j]]
        mean = members.mean(0)
        d = np.linalg.norm(members - mean, axis=1)
        assert np.linalg.norm(x[j] - mean) <= np.quantile(d, 0.25)
    again = select_initial(method, len(x), 5, seed=3, latents=x, typiclust=opts)
    np.testing.assert_array_equal(picks, again)  # seeded
    # random draws cover the blobs less well: over 20 seeds, some draw misses one
    misses = sum(len(set(blob[initial_labeled(len(x), 5, s)])) < 5 for s in range(20))
    assert misses > 0


def test_random_is_the_seeds_draw_and_bad_input_is_named():
    np.testing.assert_array_equal(select_initial("random", 100, 7, seed=4),
                                  initial_labeled(100, 7, 4))
    with pytest.raises(ValueError, match="typiclust needs the latents of al.initial_space"):
        select_initial("typiclust", 100, 7, seed=4)
    with pytest.raises(ValueError, match="al.initial_selection must be one of"):
        select_initial("best", 100, 7, seed=4)


def test_the_loop_starts_from_the_given_set_and_keys_it(tmp_path):
    sub = draw_subset(load_digits_dataset(), 300, seed=0)
    al = {"initial_labels": 20, "labels_per_round": 20, "final_labels": 40}
    tm = {"weights": None, "input_size": None, "batch_size": 16, "epochs_initial": 1,
          "epochs_per_round": 0}
    chosen = np.arange(0, 300, 15, dtype=np.int64)
    rows, picks = run_loop(sub, RunSpec("random", 0, al, tm, {}), log=QUIET, initial=chosen)
    np.testing.assert_array_equal(picks["initial"], chosen)
    assert rows[0]["n_labels"] == 20
    with pytest.raises(ValueError, match="has 19 points"):
        run_loop(sub, RunSpec("random", 0, al, tm, {}), log=QUIET, initial=chosen[:19])
    logs = []
    run_loop(sub, RunSpec("random", 0, al, tm, {}), state_dir=tmp_path, log=QUIET, initial=chosen)
    run_loop(sub, RunSpec("random", 0, al, tm, {}), state_dir=tmp_path, log=logs.append,
             initial=chosen[::-1] + 1)
    assert any("changed: initial" in m for m in logs)


def _config(tmp_path, **changes):
    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), tsne={"datasets": []})
    for key, value in changes.items():
        cfg[key] = {**cfg.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_config_refuses_with_one_line(tmp_path):
    ok = load_config(_config(tmp_path, al={"initial_selection": "centroids", "initial_space": "vae"}))
    assert ok["al"]["initial_space"] == "vae"
    for changes, line in [
        ({"al": {"initial_selection": "typiclust"}}, "al.initial_space: al.initial_selection: "
                                                     "typiclust clusters the pool"),
        ({"al": {"initial_space": "vae"}}, "al.initial_space ('vae') is read only by"),
        ({"al": {"initial_selection": "typiclust", "initial_space": "cvae"}}, "al.initial_space"),
        ({"al": {"initial_selection": "typiclust", "initial_space": "vae"},
          "strategies": ["random", "coreset_cvae"]}, "strategies: coreset_cvae trains its "
                                                     "representation on the seed's initial labels"),
    ]:
        with pytest.raises(ConfigError) as err:
            load_config(_config(tmp_path, **changes))
        lines = str(err.value).splitlines()
        assert len(lines) == 2 and line in lines[1], lines


@pytest.mark.workflow
def test_the_chosen_set_is_honoured_and_shared_by_every_strategy_of_a_seed(tmp_path):
    """Through Snakemake: one initial_labels job per seed, its set is every strategy's round
    0, it is the set select_initial gives on the trained latents, and the report says so."""
    from test_workflow import job_counts, smk

    cfg = yaml.safe_load((REPO / "tests/configs/tiny.yaml").read_text())
    cfg.update(out_dir=str(tmp_path / "out"), gpu={"lock_dir": str(tmp_path / "locks")},
               tsne={"datasets": []}, strategies=["random", "entropy", "coreset"],
               ceiling={"enabled": False},
               al={"initial_labels": 10, "labels_per_round": 10, "final_labels": 30,
                   "seeds": [0, 1], "initial_selection": "typiclust", "initial_space": "vae"},
               task_model={"arch": "linear", "features": "vae", "optimizer": "adam", "lr": 0.01,
                           "batch_size": 16, "epochs_initial": 10, "epochs_per_round": 0})
    cfg["datasets"]["digits"]["subset_size"] = 300
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = smk("-n", "--cores", "2", "--configfile", str(path))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert job_counts(proc.stdout + proc.stderr)["initial_labels"] == 2
    proc = smk("--cores", "2", "--resources", "gpu=2", "--configfile", str(path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    out = Path(cfg["out_dir"])
    latents = np.load(out / "representation/digits/vae/shared/latents.npy")
    sets = {}
    for seed in (0, 1):
        chosen = np.load(out / f"initial/digits/seed{seed}.npy")
        want = select_initial("typiclust", 300, 10, seed, latents, load_config(path)["typiclust"])
        np.testing.assert_array_equal(chosen, want)  # honoured: TypiClust on the vae latents
        for s in cfg["strategies"]:
            with np.load(out / f"runs/digits/{s}/seed{seed}/picked.npz") as picks:
                np.testing.assert_array_equal(picks["initial"], chosen)  # shared by all
        sets[seed] = chosen
        assert not np.array_equal(chosen, initial_labeled(300, 10, seed))
    assert not np.array_equal(sets[0], sets[1])  # one set per seed
    runs = pd.read_csv(out / "results/runs.csv")
    assert (runs[runs["n_labels"] == 10].groupby("seed")["test_acc"].nunique() == 1).all()
    summary = (out / "report/summary.rst").read_text()
    assert ("``al.initial_selection: typiclust``): each seed's 10 initial labels were chosen "
            "without labels by TypiClust's cold start") in summary
    assert "in the ``vae`` representation (VAE)" in summary
