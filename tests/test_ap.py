"""alvae.metrics.average_precision against scikit-learn on hand examples."""

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from alvae.metrics import average_precision, scores


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
