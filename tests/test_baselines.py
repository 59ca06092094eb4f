"""The six added baselines: brute-force references on tiny data, and runs in the loop
on digits and on a multi-label npz."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch

from alvae.al.loop import RunSpec, run_loop
from alvae.data.loaders import draw_subset, load_digits_dataset, load_npz_dataset
from alvae.strategies import get_strategy
from alvae.strategies.badge import badge_select, gradient_factors, sq_dists_to
from alvae.strategies.bald import bald_scores
from alvae.strategies.least_confidence import least_confidence_scores
from alvae.strategies.margin import margin_scores
from alvae.strategies.probcover import ball_graph, coverage, max_coverage, other_label_distance, purity_delta
from alvae.strategies.typiclust import typicality, typiclust_select
from conftest import medmnist_arrays

QUIET = lambda msg: None  # noqa: E731
TASK_MODEL = {"weights": None, "input_size": None, "lr": 0.001, "momentum": 0.9, "batch_size": 10,
              "epochs_initial": 1, "epochs_per_round": 0, "eval_batch_size": 256,
              "grayscale": "repeat", "train_until": None}
NEW = ["margin", "least_confidence", "bald", "badge", "typiclust", "probcover"]


# ------------------------------------------------------------- uncertainty scores
def test_margin_and_least_confidence_match_loops():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=30)
    m, lc = margin_scores(p, "multi-class"), least_confidence_scores(p, "multi-class")
    for i, row in enumerate(p):
        s = sorted(row, reverse=True)
        assert m[i] == pytest.approx(s[0] - s[1], abs=1e-12)
        assert lc[i] == pytest.approx(1 - s[0], abs=1e-12)
    q = rng.random((20, 3))
    ml, lcl = margin_scores(q, "multi-label"), least_confidence_scores(q, "multi-label")
    for i, row in enumerate(q):
        assert ml[i] == pytest.approx(np.mean([abs(v - (1 - v)) for v in row]), abs=1e-12)
        assert lcl[i] == pytest.approx(-np.log(np.prod([max(v, 1 - v) for v in row])), abs=1e-9)


def test_bald_matches_brute_force():
    rng = np.random.default_rng(1)
    t, n, c = 5, 7, 3
    mc = rng.dirichlet(np.ones(c), size=(t, n))
    got = bald_scores(mc, "multi-class")
    for i in range(n):
        mean = mc[:, i].mean(0)
        h = -sum(v * np.log(v) for v in mean)
        eh = np.mean([-sum(v * np.log(v) for v in mc[s, i]) for s in range(t)])
        assert got[i] == pytest.approx(h - eh, abs=1e-12)
    mcl = rng.random((t, n, 2))
    gotl = bald_scores(mcl, "multi-label")
    hb = lambda v: -(v * np.log(v) + (1 - v) * np.log(1 - v))  # noqa: E731
    for i in range(n):
        ref = sum(hb(mcl[:, i, l].mean()) - np.mean([hb(mcl[s, i, l]) for s in range(t)])
                  for l in range(2))
        assert gotl[i] == pytest.approx(ref, abs=1e-12)
    same = np.repeat(mc[:1], t, axis=0)  # identical passes: no disagreement
    np.testing.assert_allclose(bald_scores(same, "multi-class"), 0.0, atol=1e-12)


# ------------------------------------------------------------------------ BADGE
def test_badge_distances_equal_explicit_embeddings():
    rng = np.random.default_rng(2)
    probs = torch.as_tensor(rng.dirichlet(np.ones(4), size=12))
    h = torch.as_tensor(rng.normal(size=(12, 6)))
    a = gradient_factors(probs, "multi-class")
    g = torch.einsum("nc,nd->ncd", a, h).reshape(12, -1)  # the explicit N × (C·d) embedding
    sq = (a * a).sum(1) * (h * h).sum(1)
    for j in (0, 5, 11):
        ref = ((g - g[j]) ** 2).sum(1)
        torch.testing.assert_close(sq_dists_to(a, h, sq, j, batch_size=5), ref)
    assert torch.all(a[torch.arange(12), probs.argmax(1)] < 0)  # p − 1 at ŷ
    ml = gradient_factors(torch.tensor([[0.2, 0.7]]), "multi-label")
    torch.testing.assert_close(ml, torch.tensor([[0.2, -0.3]], dtype=torch.float64))


def test_badge_kmeanspp_follows_d2_sampling():
    rng = np.random.default_rng(3)
    probs = torch.as_tensor(rng.dirichlet(np.ones(3), size=40))
    h = torch.as_tensor(rng.normal(size=(40, 5)))
    a = gradient_factors(probs, "multi-class")
    picks = badge_select(a, h, 6, np.random.default_rng(7))
    g = torch.einsum("nc,nd->ncd", a, h).reshape(40, -1).numpy()
    assert picks[0] == int(np.argmax((g ** 2).sum(1)))  # largest gradient norm first
    # replay with the same generator and explicit distances
    ref_rng = np.random.default_rng(7)
    ref = [picks[0]]
    d2 = ((g - g[ref[0]]) ** 2).sum(1)
    for _ in range(5):
        d = d2.copy()
        d[ref] = 0
        j = int(ref_rng.choice(40, p=d / d.sum()))
        ref.append(j)
        d2 = np.minimum(d2, ((g - g[j]) ** 2).sum(1))
    assert picks.tolist() == ref
    assert len(set(picks.tolist())) == 6


# -------------------------------------------------------------------- TypiClust
def test_typicality_matches_brute_force():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(15, 3))
    got = typicality(torch.as_tensor(x), 4, block=4).numpy()
    for i in range(15):
        d = sorted(np.linalg.norm(x - x[i], axis=1))[1:5]
        assert got[i] == pytest.approx(1 / (np.mean(d) + 1e-5))


def test_typiclust_picks_dense_centres_of_uncovered_clusters():
    rng = np.random.default_rng(5)
    centres = np.array([[0, 0], [20, 0], [0, 20]], dtype=float)
    x = np.concatenate([c + rng.normal(scale=s, size=(n, 2))
                        for c, s, n in zip(centres, (1, 1, 1), (40, 30, 20))])
    is_lab = np.zeros(len(x), bool)
    is_lab[0] = True  # the largest cluster is covered
    picks = typiclust_select(torch.as_tensor(x), is_lab, 2, seed=0)
    # the two uncovered clusters, larger first, each at its densest point
    assert 40 <= picks[0] < 70 and 70 <= picks[1] < 90
    for p, (lo, hi) in zip(picks, ((40, 70), (70, 90))):
        t = typicality(torch.as_tensor(x[lo:hi]), min(20, (hi - lo) // 2)).numpy()
        assert p == lo + int(np.argmax(t))


# -------------------------------------------------------------------- ProbCover
def test_probcover_graph_and_greedy_match_brute_force():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(25, 2))
    delta = 0.6
    indptr, nbrs = ball_graph(torch.as_tensor(x), delta, block=7)
    dist = np.linalg.norm(x[:, None] - x[None], axis=2)
    for i in range(25):
        assert set(nbrs[indptr[i]:indptr[i + 1]]) == set(np.flatnonzero(dist[i] <= delta))
    is_lab = np.zeros(25, bool)
    is_lab[[0, 1]] = True
    picks = max_coverage(indptr, nbrs, is_lab, 3, np.random.default_rng(0))
    # brute-force greedy: each step maximises the union coverage
    chosen = [0, 1]
    for _ in range(3):
        gains = {u: coverage(indptr, nbrs, chosen + [u]) for u in range(25) if u not in chosen}
        best = max(gains.values())
        chosen.append(min(u for u, v in gains.items() if v == best))
    assert picks.tolist() == chosen[2:]
    # greedy never beats the optimum; on this tiny case check it against all triples
    opt = max(coverage(indptr, nbrs, [0, 1, *t]) for t in itertools.combinations(range(2, 25), 3))
    assert coverage(indptr, nbrs, chosen) >= (1 - 1 / np.e) * opt


def test_purity_delta_is_the_largest_pure_enough_radius():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(60, 2))
    labels = (x[:, 0] > 0).astype(int)
    d_o = other_label_distance(torch.as_tensor(x), labels, block=16)
    dist = np.linalg.norm(x[:, None] - x[None], axis=2)
    ref = np.array([dist[i][labels != labels[i]].min() for i in range(60)])
    np.testing.assert_allclose(d_o, ref, rtol=1e-6)
    delta = purity_delta(d_o, 0.95)

    def purity(dl):
        return np.mean([(labels[dist[i] <= dl] == labels[i]).all() for i in range(60)])

    assert purity(delta) >= 0.95
    bigger = np.sort(ref)[np.sort(ref) > delta]
    assert purity(bigger[0]) < 0.95  # the next candidate radius breaks the rule


# ------------------------------------ TypiClust / ProbCover against the authors' code
# Transliterations of avihu111/TypiClust (deep-al/pycls/al/typiclust.py and
# prob_cover.py, select_samples) in numpy; their features come from
# load_features(..., normalized=True), i.e. each row divided by its L2 norm.
def _normalised(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _typiclust_reference(features, n_lab, budget, clusters, knn=20, min_size=5):
    """TypiClust.select_samples on rows [labeled, unlabeled] with given k-means labels.
    Typicality uses Euclidean distances, the paper's formula (their faiss search
    returns squared ones: a documented deviation)."""
    labels = clusters.copy()
    ids, sizes = np.unique(labels, return_counts=True)
    existing = np.bincount(labels[:n_lab], minlength=len(ids))
    table = [(c, sz, e) for c, sz, e in zip(ids, sizes, existing) if sz > min_size]
    table.sort(key=lambda r: (r[2], -r[1]))  # existing count, then size descending (stable)
    labels[:n_lab] = -1
    selected = []
    for i in range(budget):
        c = table[i % len(table)][0]
        idx = np.flatnonzero(labels == c)
        k = min(knn, len(idx) // 2)
        f = features[idx].astype(np.float64)
        d = np.linalg.norm(f[:, None] - f[None], axis=2)
        np.fill_diagonal(d, np.inf)  # their search drops the point itself
        typ = 1 / (np.sort(d, axis=1)[:, :k].mean(1) + 1e-5)
        pick = idx[typ.argmax()]
        selected.append(pick)
        labels[pick] = -1
    return np.asarray(selected)


def _probcover_reference(features, n_lab, budget, delta):
    """ProbCover.select_samples: edges x -> y iff ‖x − y‖ < δ (over every row; their
    block loop would skip the rows after the last full block of 500)."""
    f = features.astype(np.float64)
    xs, ys = np.nonzero(np.linalg.norm(f[:, None] - f[None], axis=2) < delta)
    covered = np.unique(ys[np.isin(xs, np.arange(n_lab))])
    keep = ~np.isin(ys, covered)
    xs, ys = xs[keep], ys[keep]
    selected = []
    for _ in range(budget):
        cur = np.bincount(xs, minlength=len(f)).argmax()
        new = ys[xs == cur]
        keep = ~np.isin(ys, new)
        xs, ys = xs[keep], ys[keep]
        selected.append(cur)
    return np.asarray(selected)


def _latent_ctx(n_lab=12, n=150, seed=11):
    """Latents with directions and norms that disagree: three directions, norms 0.5-5."""
    rng = np.random.default_rng(seed)
    dirs = _normalised(rng.normal(size=(3, 6)))
    lat = dirs[rng.integers(0, 3, n)] + 0.35 * rng.normal(size=(n, 6))
    lat *= rng.uniform(0.5, 5.0, size=(n, 1))
    lat = lat.astype(np.float32)
    from alvae.strategies import SelectionContext

    ctx = SelectionContext(labeled=np.arange(n_lab), candidates=np.arange(n_lab, n), infer=None,
                           task="multi-class", latents=lat, n_classes=3)
    return ctx, lat


@pytest.mark.parametrize("normalize", [True, False])
def test_typiclust_matches_the_authors_code(normalize):
    from alvae.strategies.typiclust import cluster

    ctx, lat = _latent_ctx()
    strat = get_strategy("typiclust", {} if normalize else {"normalize": False})  # on by default
    budget = 30
    picks = strat.select(ctx, budget, np.random.default_rng(7))
    feats = _normalised(lat) if normalize else lat
    seed = int(np.random.default_rng(7).integers(2**31 - 1))  # the strategy's k-means seed
    clusters = cluster(feats.astype(np.float64), min(12 + budget, 500), seed)
    ref = _typiclust_reference(feats, 12, budget, clusters)
    np.testing.assert_array_equal(picks, ref)
    other = _normalised(lat) if not normalize else lat
    other_ref = _typiclust_reference(other, 12, budget,
                                     cluster(other.astype(np.float64), 12 + budget, seed))
    assert len(np.intersect1d(picks, other_ref)) < budget  # the switch matters here


@pytest.mark.parametrize("normalize", [True, False])
def test_probcover_matches_the_authors_code(normalize):
    ctx, lat = _latent_ctx()
    delta = 0.45 if normalize else 1.2
    strat = get_strategy("probcover", {"delta": delta, **({} if normalize else {"normalize": False})})
    budget = 12
    picks = strat.select(ctx, budget, np.random.default_rng(0))
    feats = _normalised(lat) if normalize else lat
    ref = _probcover_reference(feats, 12, budget, delta)
    np.testing.assert_array_equal(picks, ref)
    other = _probcover_reference(lat if normalize else _normalised(lat), 12, budget, delta)
    assert not np.array_equal(picks, other)


def test_normalize_is_a_schema_default_and_checked():
    from alvae.validation import _schema

    props = _schema()["properties"]
    for name in ("typiclust", "probcover"):
        assert props[name]["properties"]["normalize"] == {
            "type": "boolean", "default": True, "description": props[name]["properties"]
            ["normalize"]["description"]}
        strat = get_strategy(name, {"normalize": "yes"})
        with pytest.raises(ValueError, match=f"{name}.normalize"):
            strat.select(_latent_ctx()[0], 3, np.random.default_rng(0))


# ----------------------------------------------------------------- in the loop
@pytest.fixture(scope="module")
def digits():
    return draw_subset(load_digits_dataset(), 300, seed=0)


@pytest.fixture(scope="module")
def multilabel(tmp_path_factory):
    path = tmp_path_factory.mktemp("ml") / "chest.npz"
    np.savez(path, **medmnist_arrays(n_labels=5, seed=1))
    return draw_subset(load_npz_dataset(path, "chest"), 60, seed=0)


def _latents(n, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("name", NEW)
def test_runs_in_loop_on_digits(digits, name):
    al = {"initial_labels": 30, "labels_per_round": 20, "final_labels": 70}
    cfg = {"bald": {"passes": 4, "dropout": 0.5}}.get(name)
    rows, picks = run_loop(digits, RunSpec(name, 0, al, TASK_MODEL, {}, strategy_options=cfg),
                           latents=_latents(len(digits)), log=QUIET)
    assert [r["n_labels"] for r in rows] == [30, 50, 70]
    allp = np.concatenate(list(picks.values()))
    assert len(np.unique(allp)) == 70
    again = run_loop(digits, RunSpec(name, 0, al, TASK_MODEL, {}, strategy_options=cfg),
                     latents=_latents(len(digits)), log=QUIET)[1]
    for k in picks:  # seeded: the same picks again
        np.testing.assert_array_equal(picks[k], again[k])


@pytest.mark.parametrize("name", NEW)
def test_runs_in_loop_on_multilabel_npz(multilabel, name):
    assert multilabel.task == "multi-label"
    al = {"initial_labels": 20, "labels_per_round": 10, "final_labels": 40}
    cfg = {"typiclust": {"space": "features"}, "probcover": {"space": "features"},
           "bald": {"passes": 3}}.get(name)
    rows, picks = run_loop(multilabel, RunSpec(name, 0, al, TASK_MODEL, {}, strategy_options=cfg), log=QUIET)
    assert [r["n_labels"] for r in rows] == [20, 30, 40]
    assert 0.0 <= rows[-1]["test_acc"] <= 1.0


def test_latent_space_needs_latents(digits):
    al = {"initial_labels": 30, "labels_per_round": 20, "final_labels": 50}
    with pytest.raises(ValueError, match="needs VAE latents"):
        run_loop(digits, RunSpec("typiclust", 0, al, TASK_MODEL, {}), log=QUIET)
    with pytest.raises(ValueError, match="probcover.space"):
        run_loop(digits, RunSpec("probcover", 0, al, TASK_MODEL, {}, strategy_options={"space": "pixels"}),
                 latents=_latents(len(digits)), log=QUIET)


def test_bald_trains_with_dropout_only_for_bald(digits):
    from alvae.training.engine import build_model

    m = build_model("multi-class", 10, 1, TASK_MODEL, 0, "cpu", dropout=0.3)
    assert isinstance(m.drop, torch.nn.Dropout) and m.drop.p == 0.3
    assert isinstance(build_model("multi-class", 10, 1, TASK_MODEL, 0, "cpu").drop,
                      torch.nn.Identity)
    assert get_strategy("bald").mc_dropout and not get_strategy("margin").mc_dropout


@pytest.mark.workflow
def test_baselines_preset_plans_latents_only_where_needed(tmp_path):
    import subprocess
    import sys

    import yaml

    from conftest import REPO

    def plan(configfile):
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile",
                               str(configfile)], cwd=REPO, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    out = plan(REPO / "presets/baselines.yaml")
    runs = [b for b in out.split("rule ") if b.startswith("al_run:")]
    assert len(runs) == 10 * 3
    with_latents = sorted(re.search(r"strategy=(\w+)", b).group(1) for b in runs
                          if "latents.npy" in b.split("output:")[0])
    assert with_latents == ["probcover"] * 3 + ["typiclust"] * 3
    cfg = yaml.safe_load((REPO / "presets/baselines.yaml").read_text())
    cfg["typiclust"]["space"] = cfg["probcover"]["space"] = "features"
    (tmp_path / "f.yaml").write_text(yaml.safe_dump(cfg))
    assert "train_representation" not in plan(tmp_path / "f.yaml")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("name", NEW)
def test_runs_in_loop_on_cuda(digits, name):
    al = {"initial_labels": 30, "labels_per_round": 20, "final_labels": 70}
    rows, picks = run_loop(digits, RunSpec(name, 0, al, TASK_MODEL, {}, strategy_options={"passes": 4}),
                           latents=_latents(len(digits)), device="cuda", log=QUIET)
    assert [r["n_labels"] for r in rows] == [30, 50, 70]
    assert len(np.unique(np.concatenate(list(picks.values())))) == 70


def test_typiclust_says_when_every_cluster_is_below_the_floor():
    """issue 17: the fallback to all clusters was silent."""
    x = torch.as_tensor(np.random.default_rng(0).normal(size=(12, 2)))
    is_lab = np.zeros(12, dtype=bool)
    is_lab[:2] = True
    lines = []
    picks = typiclust_select(x, is_lab, 3, seed=0, min_cluster_size=50, log=lines.append)
    assert len(picks) == 3 and len(lines) == 1
    assert "none of the 5 clusters has more than min_cluster_size (50) points" in lines[0]
