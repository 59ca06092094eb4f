"""alvae.analysis.plots: the figures exist, open, have the expected size and are not blank."""

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from alvae.analysis.plots import (
    _significant_budgets,
    cd_figure,
    curves_figure,
    curves_title,
    learning_curves,
    ppm_figure,
    selection_points,
    tsne_embed,
    tsne_figure,
    tsne_pair,
)


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
                         "p_adj": [0.5, 0.01, 0.2, 0.04]})


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


def _texts(fig):
    legend = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]
    return fig._suptitle.get_text(), legend


def test_titles_for_every_family():
    assert curves_title("d", ["coreset", "coreset_vae"], True) == \
        "d: core-set vs its VAE variant and random sampling"
    assert curves_title("d", ["coreset", "coreset_vae", "coreset_cvae"], False) == \
        "d: core-set vs its VAE variants"
    assert curves_title("d", ["entropy"], True) == "d: entropy vs random sampling"
    assert curves_title("d", ["entropy"], False) == "d: entropy"
    assert curves_title("d", ["random"], True) == "d: random sampling"
    assert "random vs random" not in curves_title("d", ["random"], True)


def test_one_strategy_one_budget_draws_error_bars():
    s = summary(["test_acc"])
    s = s[(s["strategy"] == "random") & (s["n_labels"] == 1000)]
    fig = curves_figure(s, "chest", ["random"], "test_acc", baseline=0.625,
                        baseline_name="majority-class")
    title, legend = _texts(fig)
    assert title == "chest: random sampling\n(mean over seeds, error bar 95% CI)"
    assert "majority-class baseline (0.625)" in legend
    ax = fig.axes[0]
    # the error bar spans the CI of the single point
    segs = [c for c in ax.collections if hasattr(c, "get_segments") and c.get_segments()]
    assert segs and np.allclose(segs[0].get_segments()[0][:, 1], [0.61, 0.65])


def test_stars_follow_p_adj_and_name_the_method():
    fig = curves_figure(summary(), "chest", ["coreset", "coreset_vae"], ["test_acc"],
                        tests_df=make_tests_table(), correction="bh")
    _, legend = _texts(fig)
    assert "BH-adjusted p < 0.05 (plain vs VAE)" in legend
    stars = [l for l in fig.axes[0].lines if l.get_marker() == "*"]
    assert list(stars[0].get_xdata()) == [2000, 4000]


def test_ppm_and_cd_figures(tmp_path):
    m = pd.DataFrame([[np.nan, 1.0, 0.5], [0.0, np.nan, 0.0], [0.5, 0.5, np.nan]],
                     index=list("abc"), columns=list("abc"))
    png, pdf = ppm_figure(m, "test_acc", 4, 0.05, tmp_path / "p.png", tmp_path / "p.pdf")
    check_png(png, 250, 900, 250, 900)
    info = {"n_blocks": 4, "friedman_p": 0.03, "nemenyi_cd": 1.2}
    png, _ = cd_figure({"a": 1.25, "b": 2.5, "c": 2.25}, [["c", "b"]], "test_acc", info, 0.05,
                       tmp_path / "c.png", tmp_path / "c.pdf")
    check_png(png, 700, 1300, 200, 500, min_ink=0.01)
    # nothing to rank: still a figure that says so
    png, _ = cd_figure({"a": 1.0}, [], "test_ap", {"n_blocks": 0}, 0.05, tmp_path / "e.png",
                       tmp_path / "e.pdf")
    assert mpimg.imread(png).shape[0] > 50


def test_cd_figure_says_when_no_pair_can_be_separated(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figs = []
    monkeypatch.setattr("alvae.analysis.plots._save", lambda fig, a, b: figs.append(fig) or (a, b))
    info = {"n_blocks": 3, "friedman_p": 0.05, "nemenyi_cd": 1.9, "separable": False,
            "min_p_wilcoxon": 0.25, "min_p_holm": 1.0, "n_pairs": 3}
    cd_figure({"a": 1.0, "b": 2.0, "c": 3.0}, [["a", "b", "c"]], "primary", info, 0.05,
              tmp_path / "c.png", tmp_path / "c.pdf")
    ax = figs[0].axes[0]
    text = " ".join(t.get_text() for t in ax.texts) + ax.get_title()
    assert "No pair can be separated: with 3 block(s)" in text and "Wilcoxon p is 0.25" in text
    assert "no bars" in ax.get_title()
    assert not [l for l in ax.lines if l.get_linewidth() == 3.5]  # no clique bar drawn
    figs.clear()
    cd_figure({"a": 1.0, "b": 2.0, "c": 3.0}, [["a", "b"]], "test_acc",
              {**info, "separable": True, "n_blocks": 12}, 0.05, tmp_path / "d.png",
              tmp_path / "d.pdf")
    assert [l for l in figs[0].axes[0].lines if l.get_linewidth() == 3.5]
    plt.close("all")
