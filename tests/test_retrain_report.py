"""alvae.analysis.retrain_report: the per-round kNN table and the first/last-round t-SNE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from alvae.analysis.retrain_report import latent_knn_rounds_table, save_round_tsne, tsne_panels


def test_knn_table_means_and_t_interval_over_seeds():
    rows = []
    for seed, vals in enumerate([(0.80, 0.85), (0.82, 0.90), (0.78, 0.86)]):
        for rnd, v in enumerate(vals):
            rows.append(dict(dataset="d", strategy="coreset_cvae+per_round", seed=seed,
                             round=rnd, n_labels=100 * (rnd + 1), latent_knn_acc=v))
            rows.append(dict(dataset="d", strategy="coreset_cvae", seed=seed, round=rnd,
                             n_labels=100 * (rnd + 1), latent_knn_acc=np.nan))
    t = latent_knn_rounds_table(pd.DataFrame(rows), ["coreset_cvae+per_round", "coreset_cvae"])
    assert t["strategy"].unique().tolist() == ["coreset_cvae+per_round"]  # NaN rows left out
    r1 = t[t["round"] == 1].iloc[0]
    x = np.array([0.85, 0.90, 0.86])
    half = stats.t.ppf(0.975, 2) * x.std(ddof=1) / np.sqrt(3)
    assert (r1["n_labels"], r1["n"]) == (200, 3)
    assert r1["mean"] == pytest.approx(x.mean())
    assert r1["ci_high"] - r1["mean"] == pytest.approx(half)


def test_knn_table_names_a_missing_column():
    runs = pd.DataFrame({"dataset": ["d"], "strategy": ["s"], "round": [0], "n_labels": [1]})
    with pytest.raises(ValueError, match=r"lacks \['latent_knn_acc'\].*rerun them"):
        latent_knn_rounds_table(runs, ["s"])


def test_tsne_panels_take_the_first_and_last_round_in_numeric_order():
    z = np.zeros((3, 2))
    rounds = {f"round_{r}": z + r for r in (0, 1, 2, 10)}
    panels = tsne_panels({"coreset_vae+per_round": rounds, "empty": {}})
    assert [[title for _, title in row] for row in panels] == [
        ["coreset_vae+per_round, round 0", "coreset_vae+per_round, round 10"]]
    assert panels[0][1][0][0, 0] == 10


def test_round_tsne_draws_rows_of_points(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 20)
    lat = {"round_0": rng.normal(size=(40, 3)), "round_1": rng.normal(size=(40, 3)) + labels[:, None]}
    assert save_round_tsne({"a": lat, "b": lat}, labels, tmp_path / "t.png", seed=0) == 2
    assert (tmp_path / "t.png").stat().st_size > 0
    assert save_round_tsne({}, labels, tmp_path / "none.png", seed=0) == 0
    assert (tmp_path / "none.png").stat().st_size > 0
