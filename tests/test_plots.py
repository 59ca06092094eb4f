"""alvae.plots: the figures exist, open, have the expected size and are not blank."""

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from alvae.plots import (_significant_budgets, learning_curves, selection_points, tsne_embed,
                         tsne_figure, tsne_pair)


def check_png(path, min_w, max_w, min_h, max_h, min_ink=0.03):
    img = mpimg.imread(path)
    h, w = img.shape[:2]
    assert min_w <= w <= max_w and min_h <= h <= max_h, (w, h)
    rgb = (img[..., :3] * 255).round().astype(int)
    non_white = np.any(rgb < 245, axis=-1).mean()
    colours = len(np.unique(rgb.reshape(-1, 3) // 16, axis=0))
    assert non_white > min_ink, non_white
    assert colours >= 8, colours
    return img


def summary(metrics=("test_acc", "test_auc")):
    rows = []
    for s, off in (("coreset", 0.0), ("coreset_vae", 0.01), ("random", -0.02)):
        for m in metrics:
            for n in (1000, 2000, 3000, 4000):
                mean = 0.6 + 0.05 * n / 1000 + off + (0.1 if m == "test_auc" else 0)
                rows.append(dict(dataset="chest", strategy=s, n_labels=n, metric=m, mean=mean,
                                 std=0.02, n=5, ci_low=mean - 0.02, ci_high=mean + 0.02))
    return pd.DataFrame(rows)


def make_tests_table():
    return pd.DataFrame({"dataset": "chest", "strategy_a": "coreset", "strategy_b": "coreset_vae",
                         "metric": "test_acc", "n_labels": [1000, 2000, 3000, 4000],
                         "p_holm": [0.5, 0.01, 0.2, 0.04]})


def test_significant_budgets():
    t = make_tests_table()
    fam = ["coreset", "coreset_vae"]
    assert _significant_budgets(t, "chest", fam, "test_acc", 0.05) == [2000, 4000]
    assert _significant_budgets(t, "chest", ["coreset", "coreset_vae"], "test_auc", 0.05) == []
    assert _significant_budgets(t, "mnist", ["coreset", "coreset_vae"], "test_acc", 0.05) == []
    assert _significant_budgets(None, "chest", ["coreset"], "test_acc", 0.05) == []


def test_learning_curves_two_panels(tmp_path):
    png, pdf = learning_curves(summary(), "chest", ["coreset", "coreset_vae"],
                               ["test_acc", "test_auc"], tests_df=make_tests_table(),
                               baseline=0.947,
                               out_png=tmp_path / "c.png", out_pdf=tmp_path / "c.pdf")
    # 12 x 4.4 in at 150 dpi, cropped tight
    img = check_png(png, 1400, 1900, 550, 720)
    assert img.shape[1] > 2 * img.shape[0]
    with open(pdf, "rb") as fh:
        assert fh.read(5) == b"%PDF-"


def test_learning_curves_one_panel(tmp_path):
    png, _ = learning_curves(summary(["test_acc"]), "chest", ["coreset", "coreset_vae"], "test_acc",
                             out_png=tmp_path / "c.png", out_pdf=tmp_path / "c.pdf")
    check_png(png, 700, 1000, 550, 720)


def test_learning_curves_no_data_raises(tmp_path):
    with pytest.raises(ValueError, match="no summary rows"):
        learning_curves(summary(), "mnist", ["lloss"], "test_acc", reference=None,
                        out_png=tmp_path / "c.png", out_pdf=tmp_path / "c.pdf")


def selection(rng):
    return {"labeled_features": rng.normal(size=(40, 12)),
            "candidate_features": rng.normal(size=(80, 12)) + 1.0,
            "labeled_latents": rng.normal(size=(40, 4)),
            "candidate_latents": rng.normal(size=(80, 4)),
            "alpha": np.array(2.0), "picked_coreset": np.arange(0, 80, 8),
            "picked_coreset_vae": np.arange(1, 80, 8)}


def test_selection_points():
    sel = selection(np.random.default_rng(0))
    lab, cand, picked = selection_points(sel, "coreset")
    assert lab.shape == (40, 12) and cand.shape == (80, 12) and picked.tolist()[:2] == [0, 8]
    lab, cand, picked = selection_points(sel, "coreset_vae")
    assert lab.shape == (40, 16) and cand.shape == (80, 16)
    assert np.allclose(cand[:, 12:], 2.0 * sel["candidate_latents"])
    assert np.allclose(lab[:, :12], sel["labeled_features"])


def test_tsne_figures(tmp_path):
    sel = selection(np.random.default_rng(1))
    lab, cand, picked = selection_points(sel, "coreset")
    emb = tsne_embed(lab, cand, seed=0, threads=1)
    assert emb.shape == (120, 2) and np.isfinite(emb).all()
    assert np.allclose(emb, tsne_embed(lab, cand, seed=0, threads=1))  # seeded: reproducible
    png, pdf = tsne_figure(lab, cand, picked, "core-set", 0, tmp_path / "t.png", tmp_path / "t.pdf",
                           embedding=emb)
    # a scatter of 120 points: sparse ink, but blue, grey, red and black marks
    check_png(png, 700, 950, 650, 880, min_ink=0.015)
    vlab, vcand, vpicked = selection_points(sel, "coreset_vae")
    panels = [dict(labeled=lab, candidates=cand, picked=picked, title="core-set", embedding=emb),
              dict(labeled=vlab, candidates=vcand, picked=vpicked, title="VAE core-set")]
    png, pdf = tsne_pair(panels, 0, tmp_path / "p.png", tmp_path / "p.pdf", title="pair",
                         threads=1)
    img = check_png(png, 1400, 1850, 650, 900, min_ink=0.015)
    assert img.shape[1] > 1.5 * img.shape[0]
    assert (tmp_path / "p.pdf").stat().st_size > 1000
