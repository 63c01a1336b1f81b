import keras
import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses.hardnet import HardestInBatchLoss, hardest_in_batch_loss


def _oracle(anchor, positive, margin=1.0, anchor_swap=True, min_distance=0.008, labels=None):
    """Brute force over all (i, j), float64; a pair without a valid negative contributes 0."""
    b = len(anchor)
    dist = np.array([[np.linalg.norm(anchor[i].astype(np.float64) - positive[j]) for j in range(b)] for i in range(b)])

    def valid(i, j):
        return i != j and dist[i, j] >= min_distance and (labels is None or labels[i] != labels[j])

    losses = []
    for i in range(b):
        candidates = [dist[i, j] for j in range(b) if valid(i, j)]
        if anchor_swap:
            candidates += [dist[j, i] for j in range(b) if valid(j, i)]
        losses.append(max(0.0, margin + dist[i, i] - min(candidates)) if candidates else 0.0)
    return np.array(losses)


def _unit(rng, shape):
    x = rng.normal(size=shape)
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("anchor_swap", [True, False])
@pytest.mark.parametrize("margin", [0.2, 1.0, 2.5])
def test_matches_brute_force(anchor_swap, margin):
    rng = np.random.default_rng(5)
    y = _unit(rng, (8, 2, 6))
    expected = _oracle(y[:, 0], y[:, 1], margin, anchor_swap)
    loss = HardestInBatchLoss(margin=margin, anchor_swap=anchor_swap)
    assert float(loss(None, y)) == pytest.approx(expected.mean(), rel=1e-5, abs=1e-6)
    per_pair = HardestInBatchLoss(margin=margin, anchor_swap=anchor_swap, reduction=None)(None, y)
    np.testing.assert_allclose(ops.convert_to_numpy(per_pair), expected, rtol=1e-5, atol=1e-5)


def test_hand_built_matrix():
    # D = [[1, sqrt(9.25)], [sqrt(10), 0.5]]
    a = np.array([[0, 0], [3, 0]], np.float32)
    p = np.array([[0, 1], [3, 0.5]], np.float32)
    d01, d10 = 9.25**0.5, 10**0.5
    swap = ops.convert_to_numpy(hardest_in_batch_loss(a, p, margin=3.0))
    np.testing.assert_allclose(swap, [3 + 1 - d01, 3 + 0.5 - d01], rtol=1e-6)
    no_swap = ops.convert_to_numpy(hardest_in_batch_loss(a, p, margin=3.0, anchor_swap=False))
    np.testing.assert_allclose(no_swap, [3 + 1 - d01, 3 + 0.5 - d10], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(hardest_in_batch_loss(a, p, margin=1.0)), [0.0, 0.0])


def test_extra_embeddings_are_ignored():
    rng = np.random.default_rng(2)
    y = _unit(rng, (5, 3, 4))
    assert float(HardestInBatchLoss()(None, y)) == pytest.approx(float(HardestInBatchLoss()(None, y[:, :2])))


def test_labels_mask_same_point_pairs():
    rng = np.random.default_rng(3)
    anchor = _unit(rng, (6, 4))
    anchor[1] = anchor[0] + 0.1 * anchor[1]  # pair 1 is another view of point 0: the hardest "negative" of pair 0
    positive = anchor + 0.2 * _unit(rng, (6, 4))
    y = np.stack([anchor, positive], axis=1)
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    labels = np.array([0, 0, 1, 2, 2, 3])
    expected = _oracle(y[:, 0], y[:, 1], labels=labels)
    loss = HardestInBatchLoss(use_labels=True)
    assert float(loss(labels.astype(np.float32), y)) == pytest.approx(expected.mean(), rel=1e-5)
    assert not np.isclose(expected.mean(), _oracle(y[:, 0], y[:, 1]).mean())
    # y_true is ignored unless use_labels: dummy zero targets do not mask anything.
    assert float(HardestInBatchLoss()(np.zeros(6), y)) == pytest.approx(_oracle(y[:, 0], y[:, 1]).mean(), rel=1e-5)


def test_near_duplicates_are_not_negatives():
    a = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)
    p = np.array([[0, 1.0], [0.6, 0.8], [1, 0]], np.float32)  # p0 == a1 exactly: D[1, 0] = 0 is masked
    expected = _oracle(a, p)
    np.testing.assert_allclose(ops.convert_to_numpy(hardest_in_batch_loss(a, p)), expected, rtol=1e-5)
    unmasked = ops.convert_to_numpy(hardest_in_batch_loss(a, p, min_distance=0.0))
    assert unmasked[0] > expected[0]


@pytest.mark.parametrize("case", ["single", "all_same_label"])
def test_no_valid_negative_gives_zero_and_finite_gradient(case, value_and_gradient):
    rng = np.random.default_rng(4)
    y = _unit(rng, (1 if case == "single" else 4, 2, 8))
    loss = HardestInBatchLoss(use_labels=case != "single")
    labels = None if case == "single" else np.zeros(4, np.float32)
    value, grad = value_and_gradient(lambda t: loss(labels, t), y)
    assert value == 0.0
    assert np.all(np.isfinite(grad))


def test_gradient_is_finite_with_duplicates(value_and_gradient):
    y = np.tile(np.array([[[1.0, 0.0]]], np.float32), (3, 2, 1))
    value, grad = value_and_gradient(lambda t: HardestInBatchLoss()(None, t), y)
    assert value == pytest.approx(0.0)  # every off-diagonal distance is below 0.008: nothing to push
    assert np.all(np.isfinite(grad))


def test_config_round_trip():
    loss = HardestInBatchLoss(margin=0.5, anchor_swap=False, min_distance=0.0, use_labels=True, distance="sql2")
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(clone) is HardestInBatchLoss and clone.get_config() == loss.get_config()
    assert {k: loss.get_config()[k] for k in ("margin", "anchor_swap", "min_distance", "use_labels", "distance")} == {
        "margin": 0.5, "anchor_swap": False, "min_distance": 0.0, "use_labels": True, "distance": "sql2"}


def test_errors():
    with pytest.raises(ShapeError, match=r"`y_pred` of HardestInBatchLoss must have shape \(B, K>=2, D\)\. "
                                         r"Received: y_pred.shape=\(4, 1, 8\)"):
        HardestInBatchLoss()(None, np.zeros((4, 1, 8), np.float32))
    with pytest.raises(ShapeError, match=r"`y_true` of HardestInBatchLoss must be \(B,\) point ids when "
                                         r"use_labels=True\. Received: y_true=None"):
        HardestInBatchLoss(use_labels=True)(None, np.zeros((4, 2, 8), np.float32))
    with pytest.raises(ConfigError, match=r"`min_distance` of HardestInBatchLoss must be a non-negative number"):
        HardestInBatchLoss(min_distance=-0.1)
    with pytest.raises(ConfigError, match=r"`anchor_swap` of HardestInBatchLoss must be a bool"):
        HardestInBatchLoss(anchor_swap="yes")
    with pytest.raises(ConfigError, match=r"`distance` of HardestInBatchLoss must be one of \['l2', 'sql2'\]"):
        HardestInBatchLoss(distance="mean_squared")
