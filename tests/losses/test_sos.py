"""SOSNet's losses against a NumPy oracle that follows the reference code step by step (argsort per row/column,
index scatter into the kNN adjacency, union, symmetrised): yuruntian/HyNet `train.py`, `Loss_SOSNet`."""

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.losses import HardestInBatchLoss, SOSNetLoss, SOSRegularized, TripletMarginLoss, sos_regularizer
from descriptors.losses.registry import build_configured_loss

DIST_TH = 0.008


def _cdist(x, y):
    return np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(-1))


def reference_orders(anchor, positive):
    """(L, R, LR, argsorts of L by row, of R by column, of LR by row and by column) as the reference computes
    them: float64 distances; the diagonal pushed back by 2, then entries still <= 0.008 by 2 more."""
    a, p = anchor.astype(np.float64), positive.astype(np.float64)
    big_l, big_r, big_lr = _cdist(a, a), _cdist(p, p), _cdist(a, p)
    eye = np.eye(len(a))

    def ranked(d):
        d = d + 2 * eye
        return d + 2 * (d <= DIST_TH)

    return (big_l, big_r, big_lr, np.argsort(ranked(big_l), axis=1, kind="stable"),
            np.argsort(ranked(big_r), axis=0, kind="stable"), np.argsort(ranked(big_lr), axis=1, kind="stable"),
            np.argsort(ranked(big_lr), axis=0, kind="stable"))


def oracle(anchor, positive, margin=1.0, knn=8):
    """(first-order per pair, SOSR per pair), float64, literally as the reference computes them."""
    big_l, big_r, big_lr, i_l, i_r, i_lr, i_rl = reference_orders(anchor, positive)
    n = len(anchor)
    eye = np.eye(n)
    first = np.empty(n)
    for i in range(n):
        negative = min(big_l[i, i_l[i, 0]], big_r[i_r[0, i], i], big_lr[i, i_lr[i, 0]], big_lr[i_rl[0, i], i])
        first[i] = max(0.0, margin + big_lr[i, i] - negative) ** 2
    adj_l, adj_r, adj_lr = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
    k = min(knn, n - 1)
    for i in range(n):
        for j in i_l[i, :k]:
            adj_l[i, j] = 1
        for j in i_lr[i, :k]:
            adj_lr[i, j] = 1
    for j in range(n):
        for i in i_r[:k, j]:
            adj_r[i, j] = 1
        for i in i_rl[:k, j]:
            adj_lr[i, j] = 1
    adjacency = sum(((m + m.T) > 0).astype(float) for m in (adj_l, adj_r, adj_lr))
    adjacency = (adjacency > 0) * (1 - eye)
    sos = np.sqrt((((big_l - big_r) * adjacency) ** 2).sum(1) + 1e-8)
    return first, sos


def _views(n, d=16, seed=0, spread=0.4):
    rng = np.random.default_rng(seed)
    anchor = rng.normal(size=(n, d))
    positive = anchor + spread * rng.normal(size=(n, d))
    views = np.stack([anchor, positive], axis=1)
    return (views / np.linalg.norm(views, axis=-1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("n, knn", [(12, 8), (12, 1), (12, 3), (6, 8), (24, 8)])
def test_sosr_and_first_order_equal_the_reference(n, knn):
    views = _views(n, seed=n + knn)
    first, sos = oracle(views[:, 0], views[:, 1], margin=1.0, knn=knn)
    got = keras.ops.convert_to_numpy(sos_regularizer(views[:, 0], views[:, 1], knn=knn))
    np.testing.assert_allclose(got, sos, rtol=1e-4, atol=1e-5)
    loss = SOSNetLoss(knn=knn, sos_weight=0.7)
    np.testing.assert_allclose(float(loss(np.zeros(n), views)), np.mean(first + 0.7 * sos), rtol=1e-4, atol=1e-6)
    assert float(SOSNetLoss(knn=knn, sos_weight=0.0)(None, views)) == pytest.approx(first.mean(), rel=1e-4, abs=1e-6)


def test_near_duplicates_are_never_neighbours_or_negatives():
    views = _views(10, seed=3)
    views[7] = views[2]  # the same patch twice: distance 0 in L, R and LR
    first, sos = oracle(views[:, 0], views[:, 1], margin=1.0, knn=2)
    got = keras.ops.convert_to_numpy(sos_regularizer(views[:, 0], views[:, 1], knn=2))
    np.testing.assert_allclose(got, sos, rtol=1e-4, atol=1e-5)
    assert float(SOSNetLoss(knn=2)(None, views)) == pytest.approx(np.mean(first + sos), rel=1e-4)


def test_identical_geometry_in_both_views_costs_nothing():
    views = _views(9, seed=1)
    rotation = np.linalg.qr(np.random.default_rng(2).normal(size=(16, 16)))[0].astype(np.float32)
    positive = views[:, 0] @ rotation  # an isometry: every distance inside the positives equals the anchors'
    sos = keras.ops.convert_to_numpy(sos_regularizer(views[:, 0], positive, knn=4))
    assert np.all(sos < 1e-3)


def test_regularized_adds_the_weighted_term_to_any_loss_and_round_trips():
    triplets = np.concatenate([_views(8, seed=4), _views(8, seed=5)[:, :1]], axis=1)  # (8, 3, 16)
    _, sos = oracle(triplets[:, 0], triplets[:, 1], knn=8)
    base = TripletMarginLoss(margin=0.5)
    wrapped = SOSRegularized(base, sos_weight=2.0)
    assert float(wrapped(None, triplets)) == pytest.approx(float(base(None, triplets)) + 2.0 * sos.mean(), rel=1e-4)
    again = keras.losses.deserialize(keras.losses.serialize(wrapped))
    assert isinstance(again.loss, TripletMarginLoss) and again.loss.margin == 0.5 and again.sos_weight == 2.0
    assert float(again(None, triplets)) == pytest.approx(float(wrapped(None, triplets)), rel=1e-6)
    sosnet = keras.losses.deserialize(keras.losses.serialize(SOSNetLoss(margin=0.8, knn=5, sos_weight=0.3)))
    assert (sosnet.margin, sosnet.knn, sosnet.sos_weight) == (0.8, 5, 0.3)


def test_configured_losses_and_bad_arguments():
    assert isinstance(build_configured_loss("sos"), SOSNetLoss) and build_configured_loss("sos").sos_weight == 1.0
    assert build_configured_loss("sos", sos_weight=0.0).sos_weight == 0.0
    wrapped = build_configured_loss("hardest_in_batch", sos_weight=0.5)
    assert isinstance(wrapped, SOSRegularized) and isinstance(wrapped.loss, HardestInBatchLoss)
    assert isinstance(build_configured_loss("hardest_in_batch", sos_weight=0.0), HardestInBatchLoss)
    for bad in ({"knn": 0}, {"knn": 2.5}, {"sos_weight": -1.0}, {"sos_weight": float("inf")}, {"margin": -1.0}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            SOSNetLoss(**bad)


def test_gradients_are_finite_with_duplicates():
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("gradient tape of the TensorFlow backend")
    views = tf.Variable(_views(8, seed=6))
    with tf.GradientTape() as tape:
        value = SOSNetLoss(knn=3)(None, tf.concat([views[:1], views], axis=0))  # a duplicated row
    assert np.all(np.isfinite(tape.gradient(value, views).numpy()))


def test_trains_in_a_compiled_fit_with_a_short_last_batch():
    from descriptors.training.tuple_encoder import TupleEncoder

    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(8),
                                keras.layers.UnitNormalization()])
    model = TupleEncoder(encoder)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=SOSNetLoss(knn=8))
    x = np.random.default_rng(0).normal(size=(35, 2, 4, 4, 1)).astype(np.float32)  # batches of 16, 16, 3
    history = model.fit(x, np.zeros(35, np.float32), batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert np.all(np.isfinite(history.history["loss"]))
