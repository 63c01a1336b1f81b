"""ContrastiveLoss against a brute-force numpy oracle over every pair; pair label 1 = same point."""

import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses import ContrastiveLoss, contrastive_pair_loss


def _oracle(y_pred, margin, reduction, labels=None):
    b, k, _ = y_pred.shape
    emb = y_pred.reshape(b * k, -1)
    labels = np.repeat(np.arange(b) if labels is None else labels, k)
    per = []
    for i in range(b * k):
        pos, neg, both = [], [], []
        for j in range(b * k):
            if i == j:
                continue
            d = np.linalg.norm(emb[i] - emb[j])
            same = labels[i] == labels[j]
            term = d**2 if same else max(0.0, margin - d) ** 2
            (pos if same else neg).append(term)
            both.append(term)
        if reduction == "mean":
            per.append(np.mean(both))
        else:
            per.append((np.mean(pos) if pos else 0.0) + (np.mean(neg) if neg else 0.0))
    return np.mean(per)


@pytest.mark.parametrize("reduction", ["balanced", "mean"])
@pytest.mark.parametrize("shape", [(3, 2, 4), (2, 3, 5)])
def test_contrastive_matches_oracle(reduction, shape):
    y_pred = np.random.default_rng(1).normal(size=shape).astype(np.float32) * 0.4
    loss = ContrastiveLoss(margin=1.0, pair_reduction=reduction)
    value = float(ops.convert_to_numpy(loss(None, y_pred)))
    np.testing.assert_allclose(value, _oracle(y_pred, 1.0, reduction), rtol=1e-5, atol=1e-6)


def test_contrastive_use_labels_merges_rows_of_one_track():
    y_pred = np.random.default_rng(2).normal(size=(3, 2, 4)).astype(np.float32) * 0.4
    labels = np.array([5, 5, 7])
    value = float(ops.convert_to_numpy(ContrastiveLoss(use_labels=True)(labels.astype(np.float32), y_pred)))
    np.testing.assert_allclose(value, _oracle(y_pred, 1.0, "balanced", labels), rtol=1e-5)


def test_pair_label_one_means_same_point():
    dist = np.array([0.5, 0.5], np.float32)
    out = ops.convert_to_numpy(contrastive_pair_loss(dist, np.array([1, 0]), margin=2.0))
    np.testing.assert_allclose(out, [0.25, 2.25])  # y=1: d^2 ; y=0: (m - d)^2


def test_far_negatives_and_identical_views_give_zero():
    y_pred = np.zeros((2, 2, 2), np.float32)
    y_pred[0] = [1.0, 0.0]
    y_pred[1] = [-1.0, 0.0]  # distance 2 > margin 1
    assert float(ops.convert_to_numpy(ContrastiveLoss()(None, y_pred))) == pytest.approx(0.0, abs=1e-6)


def test_contrastive_config_and_errors():
    loss = ContrastiveLoss(margin=0.5, pair_reduction="mean", use_labels=True)
    assert ContrastiveLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    with pytest.raises(ConfigError, match="`pair_reduction` of ContrastiveLoss must be one of"):
        ContrastiveLoss(pair_reduction="sum")
    with pytest.raises(ShapeError, match=r"must have shape \(B, K>=2, D\)"):
        ContrastiveLoss()(None, np.zeros((2, 1, 3), np.float32))
    with pytest.raises(ShapeError, match="`y_true` of ContrastiveLoss must be"):
        ContrastiveLoss(use_labels=True)(None, np.zeros((2, 2, 3), np.float32))
