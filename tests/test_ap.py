"""alvae.training.metrics.average_precision against scikit-learn on hand examples."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from alvae.training.metrics import average_precision, scores


def test_multilabel_ap_by_hand_and_sklearn():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    p = np.array([[0.9, 0.2], [0.4, 0.3], [0.35, 0.8], [0.1, 0.6]])
    # label 0: ranking 0.9 (+), 0.4 (-), 0.35 (+), 0.1 (-): AP = (1/1 + 2/3) / 2 = 5/6
    # label 1: ranking 0.8 (+), 0.6 (-), 0.3 (+), 0.2 (-): AP = (1 + 2/3) / 2 = 5/6
    assert average_precision(p, y, "multi-label") == pytest.approx(5 / 6)
    ref = np.mean([average_precision_score(y[:, j], p[:, j]) for j in range(2)])
    assert average_precision(p, y, "multi-label") == pytest.approx(ref)
    assert average_precision(p, y, "multi-label") == pytest.approx(
        average_precision_score(y, p, average="macro"))


def test_multilabel_ap_skips_labels_without_positives():
    y = np.array([[1, 0], [0, 0], [1, 0]])
    p = np.array([[0.9, 0.2], [0.4, 0.3], [0.35, 0.8]])
    assert average_precision(p, y, "multi-label") == pytest.approx(
        average_precision_score(y[:, 0], p[:, 0]))
    assert np.isnan(average_precision(p, np.zeros_like(y), "multi-label"))


def test_binary_and_multiclass_ap():
    y = np.array([0, 1, 1, 0, 1])
    p1 = np.array([0.2, 0.7, 0.4, 0.5, 0.9])
    probs = np.stack([1 - p1, p1], axis=1)
    assert average_precision(probs, y, "binary") == pytest.approx(average_precision_score(y, p1))
    yc = np.array([0, 1, 2, 2, 1, 0])
    pc = np.random.default_rng(0).dirichlet(np.ones(3), size=6)
    ref = np.mean([average_precision_score(yc == c, pc[:, c]) for c in range(3)])
    assert average_precision(pc, yc, "multi-class") == pytest.approx(ref)
    assert set(scores(pc, yc, "multi-class")) == {"acc", "auc", "ap"}


def test_our_average_differs_from_sklearn_macro_and_counts_the_labels_left_out():
    """A label with no positive in the split: scikit-learn's macro AP scores it 0 (with a
    warning), ours leaves it out, and left_out counts it; AUC leaves out labels without
    both classes (scikit-learn's macro AUC is undefined then)."""
    import warnings

    from alvae.training.metrics import auc, left_out

    y = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 1], [0, 0, 1]])
    p = np.array([[0.9, 0.2, 0.5], [0.4, 0.3, 0.6], [0.35, 0.8, 0.7], [0.1, 0.6, 0.2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = average_precision_score(y, p, average="macro")
    ours = average_precision(p, y, "multi-label")
    per = [average_precision_score(y[:, j], p[:, j]) for j in (0, 2)]
    assert ours == pytest.approx(np.mean(per))  # labels 0 and 2
    assert sk == pytest.approx((per[0] + 0.0 + per[1]) / 3)  # label 1 scored 0
    assert sk < ours
    # AUC: label 1 has no positive, label 2 no negative: only label 0 is scored
    assert auc(p, y, "multi-label") == pytest.approx(0.75)
    assert left_out(y, "multi-label") == {"n_outputs": 3, "auc_left_out": 2, "ap_left_out": 1}
    assert left_out(np.array([0, 1, 1, 3]), "multi-class", 5) == {
        "n_outputs": 5, "auc_left_out": 2, "ap_left_out": 2}
    assert left_out(np.array([0, 1, 1]), "binary", 2)["auc_left_out"] == 0
