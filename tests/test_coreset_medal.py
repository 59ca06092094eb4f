"""k-center greedy (core-set) and MedAL against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alvae.strategies import SelectionContext, get_strategy
from alvae.strategies.coreset import k_center_greedy
from alvae.strategies.features import concat_latents
from alvae.strategies.medal import medal_greedy


def ref_greedy(cand: np.ndarray, lab: np.ndarray, budget: int, reduce) -> list[int]:
    """The thesis formulas, literally: exact float64 squared distances to the growing
    labeled set, reduced by ``reduce`` (min: core-set, mean: MedAL); ties keep the
    lowest position."""
    cand, lab = cand.astype(np.float64), lab.astype(np.float64)
    labeled, picks = list(lab), []
    for _ in range(budget):
        best, best_val = None, -np.inf
        for i in range(len(cand)):
            if i in picks:
                continue
            dists = [((cand[i] - x) ** 2).sum() for x in labeled]
            val = reduce(dists) if dists else np.inf
            if val > best_val or best is None:  # strict: ties keep the lowest position
                best, best_val = i, val
        picks.append(best)
        labeled.append(cand[best])
    return picks


def ref_coreset(cand: np.ndarray, lab: np.ndarray, budget: int) -> list[int]:
    return ref_greedy(cand, lab, budget, min)


def ref_medal(cand: np.ndarray, lab: np.ndarray, budget: int) -> list[int]:
    return ref_greedy(cand, lab, budget, np.mean)


GREEDY = {"coreset": (k_center_greedy, ref_coreset), "medal": (medal_greedy, ref_medal)}


@pytest.mark.parametrize("method", ["coreset", "medal"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_float32_matches_reference(method, seed):
    fn, ref = GREEDY[method]
    rng = np.random.default_rng(seed)
    cand = rng.normal(size=(60, 5)).astype(np.float32) + 3.0  # off-centre, like ReLU features
    lab = rng.normal(size=(7, 5)).astype(np.float32) + 3.0
    got = fn(torch.from_numpy(cand), torch.from_numpy(lab), 15)
    assert got.dtype == np.int64
    assert got.tolist() == ref(cand, lab, 15)


@pytest.mark.parametrize("method", ["coreset", "medal"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ties_lowest_position_wins(method, dtype):
    fn, ref = GREEDY[method]
    rng = np.random.default_rng(5)
    base = rng.integers(-3, 4, size=(6, 3))
    # exact duplicates among candidates and of labeled points: many exact ties
    cand = np.concatenate([base, base, base[:3], np.zeros((2, 3), int)])
    lab = np.concatenate([base[:2], np.zeros((1, 3), int)])
    budget = len(cand)  # down to the duplicates of labeled points (distance 0)
    got = fn(torch.tensor(cand, dtype=dtype), torch.tensor(lab, dtype=dtype), budget)
    assert got.tolist() == ref(cand, lab, budget)
    assert sorted(got.tolist()) == list(range(len(cand)))


def test_ties_hand_example():
    # candidates 0 and 2 are both at squared distance 4 from the labeled point 0:
    # position 0 wins; then 2 is the farthest from {0, -2}; then 1 (distance 1)
    cand = torch.tensor([[-2.0], [1.0], [2.0]], dtype=torch.float64)
    lab = torch.tensor([[0.0]], dtype=torch.float64)
    assert k_center_greedy(cand, lab, 3).tolist() == [0, 2, 1]
    assert medal_greedy(cand, lab, 3).tolist() == [0, 2, 1]


@pytest.mark.parametrize("method", ["coreset", "medal"])
def test_empty_labeled_set_starts_at_position_0(method):
    fn, ref = GREEDY[method]
    cand = np.random.default_rng(3).normal(size=(20, 4))
    got = fn(torch.from_numpy(cand), torch.zeros((0, 4), dtype=torch.float64), 6)
    assert got[0] == 0
    assert got.tolist() == ref(cand, np.zeros((0, 4)), 6)


def test_k_center_batches_of_labeled_rows_agree():
    rng = np.random.default_rng(4)
    cand = torch.from_numpy(rng.integers(0, 5, (80, 3)).astype(np.float32))
    lab = torch.from_numpy(rng.integers(0, 5, (33, 3)).astype(np.float32))
    full = k_center_greedy(cand, lab, 30, batch_size=1000)
    for bs in (1, 4, 32):
        assert np.array_equal(k_center_greedy(cand, lab, 30, batch_size=bs), full)


def test_budget_checks():
    c = torch.zeros((3, 2))
    with pytest.raises(ValueError):
        k_center_greedy(c, c, 4)
    assert k_center_greedy(c, c, 0).shape == (0,)


# --- strategies on a fake context ---------------------------------------------------

N_POOL, D, Z = 300, 16, 4


def fake_ctx(seed=0, alpha=1.0, n_lab=30, n_cand=120):
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(N_POOL, D)).astype(np.float32)
    latents = rng.normal(size=(N_POOL, Z)).astype(np.float32) * 5
    perm = rng.permutation(N_POOL)
    labeled, candidates = np.sort(perm[:n_lab]), np.sort(perm[n_lab:n_lab + n_cand])
    calls = []

    def infer(idx):
        idx = np.asarray(idx)
        calls.append(idx)
        return {"features": torch.tensor(feats[idx])}

    ctx = SelectionContext(labeled=labeled, candidates=candidates, infer=infer,
                           task="multi-class", latents=latents, alpha=alpha)
    return ctx, feats, latents, calls


@pytest.mark.parametrize("name", ["coreset", "medal"])
def test_strategy_maps_positions_to_pool_indices(name):
    ctx, feats, _, _ = fake_ctx()
    fn = GREEDY[name][0]
    picked = get_strategy(name).select(ctx, 25, np.random.default_rng(0))
    pos = fn(torch.tensor(feats[ctx.candidates]), torch.tensor(feats[ctx.labeled]), 25)
    assert picked.dtype == np.int64
    assert picked.tolist() == ctx.candidates[pos].tolist()
    assert len(set(picked.tolist())) == 25
    assert set(picked.tolist()) <= set(ctx.candidates.tolist())
    assert not set(picked.tolist()) & set(ctx.labeled.tolist())


@pytest.mark.parametrize("name", ["coreset", "medal"])
def test_vae_variant_uses_scaled_latents(name):
    ctx, feats, latents, _ = fake_ctx(alpha=0.7)
    strat = get_strategy(f"{name}_vae")
    assert strat.uses_representation and not strat.trains_loss_module
    assert not get_strategy(name).uses_representation
    fn = GREEDY[name][0]
    aug = np.concatenate([feats, 0.7 * latents], axis=1)
    pos = fn(torch.tensor(aug[ctx.candidates]), torch.tensor(aug[ctx.labeled]), 25)
    picked = strat.select(ctx, 25, np.random.default_rng(0))
    assert picked.tolist() == ctx.candidates[pos].tolist()
    # the latents (×5, ×0.7) do change the choice
    assert picked.tolist() != get_strategy(name).select(ctx, 25, np.random.default_rng(0)).tolist()


@pytest.mark.parametrize("name", ["coreset", "medal"])
def test_alpha_zero_reproduces_plain(name):
    for seed in range(3):
        ctx, *_ = fake_ctx(seed=seed, alpha=0.0)
        plain = get_strategy(name).select(ctx, 40, np.random.default_rng(0))
        vae = get_strategy(f"{name}_vae").select(ctx, 40, np.random.default_rng(0))
        assert np.array_equal(plain, vae)


def test_concat_latents():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    lat = np.array([[9.0], [10.0], [11.0]], dtype=np.float32)
    out = concat_latents(f, lat, np.array([2, 0]), 0.5, "cpu")
    assert out.dtype == torch.float32
    assert out.tolist() == [[1.0, 2.0, 5.5], [3.0, 4.0, 4.5]]
    assert concat_latents(f, lat, np.array([2, 0]), 0.0, "cpu").tolist() == f.tolist()


def _medal_authors(emb_labeled: np.ndarray, emb_unlabeled: np.ndarray, budget: int,
                   count_picks: bool) -> list[int]:
    """Transliteration of the MedAL pick loop the authors released with O-MedAL
    (github.com/adgaudio/O-MedAL, medal/model_configs/medal.py,
    pick_data_points_to_label), run on every candidate: their entropy pre-filter
    (keep the M = 20-50 highest-entropy points first) is not in the thesis or alvae.
    Each pick maximises the Euclidean distance to the centroid N/(N+M)·μ_L + Σ picks/(N+M).
    Their loop never increments M (``count_picks=False``), so after the first pick
    their centroid is μ_L + Σ picks/N; ``count_picks=True`` is the mean of L ∪ picks."""
    n, m = len(emb_labeled), 0
    old = emb_labeled.mean(0)
    new_sum = np.zeros_like(old)
    remaining = np.ones(len(emb_unlabeled), dtype=bool)
    picks = []
    for _ in range(budget):
        centroid = n / (n + m) * old + 1 / (n + m) * new_sum
        items = emb_unlabeled[remaining]
        chosen = int(np.linalg.norm(items - centroid, axis=1).argmax())
        new_sum = new_sum + items[chosen]
        pos = int(np.flatnonzero(remaining)[chosen])
        picks.append(pos)
        remaining[pos] = False
        m += int(count_picks)
    return picks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_medal_is_the_authors_criterion_without_the_entropy_filter(seed):
    rng = np.random.default_rng(seed)
    cand, lab = rng.normal(size=(80, 6)), rng.normal(size=(15, 6)) + 0.5
    picks = medal_greedy(torch.as_tensor(cand), torch.as_tensor(lab), 10).tolist()
    assert picks == _medal_authors(lab, cand, 10, count_picks=True)
    # the first pick is the authors' exactly (the centroids agree until a pick is added)
    assert picks[0] == _medal_authors(lab, cand, 1, count_picks=False)[0]
