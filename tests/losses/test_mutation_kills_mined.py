"""Values, options and messages of `MinedTripletLoss` and the miners, written to kill the mutants that survived the
rest of tests/losses (see docs/mutation_testing.md): per-row values against a float64 brute-force oracle with
track-id labels, defaults, the dtype and reduction, one active pair, boundaries of `difficulty`, whole messages."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses import MINERS, TRIPLET_FORMS, MinedTripletLoss
from descriptors.losses.miners import mine_negatives


# JAX computes in 32 bits unless jax_enable_x64 is set: a float64 dtype policy yields float32 there.
FLOAT64 = keras.backend.backend() != "jax"
needs_float64 = pytest.mark.skipif(not FLOAT64, reason="JAX without jax_enable_x64 computes in float32")


def _np(x):
    """A backend tensor as a numpy array."""
    return ops.convert_to_numpy(x)


def _distance(x, y, kind):
    """Float64 distance of two embeddings: "l2", "sql2" or "snr" (var(y - x) / var(x))."""
    if kind == "snr":
        return np.var(y - x) / max(np.var(x), 1e-12)
    d2 = float(np.sum((x - y) ** 2))
    return d2 if kind == "sql2" else math.sqrt(max(d2, 1e-12))


def _pair_weights(miner, anchor, positive, others, dm, l2, negatives, margin, difficulty, dim):
    """Oracle weights of every embedding as the negative of the pair (anchor, positive).

    Args:
        miner: one of `MINERS`.
        anchor: index of the anchor embedding.
        positive: index of the positive embedding.
        others: indices of every positive of the anchor (the other views of its row).
        dm: (N, N) float64 loss distances.
        l2: (N, N) float64 L2 distances (what ``distance_weighted`` mines on).
        negatives: indices of the valid negatives of the anchor.
        margin: margin of ``opms``.
        difficulty: OPMS lambda.
        dim: descriptor dimension D.

    Returns:
        (N,) float64 weights, summing to 1 or 0.
    """
    w = np.zeros(dm.shape[0])
    if not negatives:
        return w
    d_ap = dm[anchor, positive]
    if miner == "batch_hard":
        if d_ap >= max(dm[anchor, q] for q in others):
            w[min(negatives, key=lambda n: dm[anchor, n])] = 1.0
    elif miner == "semi_hard":
        outside = [n for n in negatives if dm[anchor, n] > d_ap]
        pick = min(outside, key=lambda n: dm[anchor, n]) if outside else max(negatives, key=lambda n: dm[anchor, n])
        w[pick] = 1.0
    elif miner == "distance_weighted":
        valid = [n for n in negatives if max(l2[anchor, n], 0.5) < 1.4]
        if valid:
            d = np.array([max(l2[anchor, n], 0.5) for n in valid])
            logs = (2 - dim) * np.log(d) - (dim - 3) / 2 * np.log(np.maximum(1 - d**2 / 4, 1e-8))
            w[valid] = np.exp(logs - logs.max()) / np.exp(logs - logs.max()).sum()
    else:
        valid = [n for n in negatives if dm[anchor, n] < d_ap + margin]
        if valid:
            gamma = 10.0 * difficulty / max(1 - difficulty, 1e-3)
            scores = np.array([gamma * (d_ap - dm[anchor, n]) for n in valid])
            w[valid] = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    return w


def _oracle_rows(y_pred, loss, miner, margin=1.0, distance="l2", difficulty=1.0, regularization=0.01, ids=None):
    """Per-row values (B,) of `MinedTripletLoss.call` by brute force in float64.

    Args:
        y_pred: (B, K, D) embeddings.
        loss: one of `TRIPLET_FORMS`.
        miner: one of `MINERS`.
        margin: the margin.
        distance: "l2" or "sql2" (``snr`` uses the SNR distance).
        difficulty: OPMS lambda.
        regularization: zero-mean weight of ``snr``.
        ids: (B,) track ids of the rows, or None (every row its own label).

    Returns:
        (B,) float64: the row's summed pair losses * B / (number of active pairs), plus the ``snr`` regulariser.
    """
    b, k, dim = y_pred.shape
    emb = y_pred.reshape(b * k, dim).astype(np.float64)
    label = np.repeat(np.arange(b) if ids is None else np.asarray(ids), k)
    kind = "snr" if loss == "snr" else distance
    n_all = b * k
    dm = np.array([[_distance(emb[i], emb[j], kind) for j in range(n_all)] for i in range(n_all)])
    l2 = np.array([[_distance(emb[i], emb[j], "l2") for j in range(n_all)] for i in range(n_all)])
    sums, active = np.zeros(b), 0
    for i in range(n_all):
        row = i // k
        others = [row * k + v for v in range(k) if row * k + v != i]
        negatives = [n for n in range(n_all) if label[n] != label[i]]
        for p in others:
            w = _pair_weights(miner, i, p, others, dm, l2, negatives, margin, difficulty, dim)
            active += w.sum() > 0
            for n in np.flatnonzero(w):
                d_ap, d_an, d_pn = dm[i, p], dm[i, n], dm[p, n]
                if loss == "triplet_ratio":
                    term = 2 / (1 + np.exp(-(d_ap - d_an))) ** 2
                elif loss == "in_triplet_hard_negative":
                    term = max(0.0, d_ap - min(d_an, d_pn) + margin)
                else:
                    term = max(0.0, d_ap - d_an + margin)
                sums[row] += w[n] * term
    rows = sums * b / max(active, 1)
    if loss == "snr":
        rows += regularization * np.abs(emb.sum(axis=1)).reshape(b, k).mean(axis=1)
    return rows


def _batch(shape, seed):
    """Unit-norm float32 embeddings of `shape` (B, K, D) from `seed`."""
    y = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


def test_mined_loss_defaults_reduction_and_dtype():
    """The default options, name and reduction; `reduction` and `dtype` reach `keras.losses.Loss`."""
    loss = MinedTripletLoss()
    config = loss.get_config()
    assert config["name"] == loss.name == "mined_triplet_loss"
    assert config["reduction"] == "sum_over_batch_size"
    assert {key: config[key] for key in ("loss", "miner", "margin", "distance", "difficulty", "regularization",
                                         "use_labels")} == {
        "loss": "triplet_margin", "miner": "batch_hard", "margin": 1.0, "distance": "l2", "difficulty": 1.0,
        "regularization": 0.01, "use_labels": False}
    y_pred = _batch((4, 2, 5), 21)
    expected = _oracle_rows(y_pred, "triplet_margin", "batch_hard")
    np.testing.assert_allclose(float(_np(loss(None, y_pred))), expected.mean(), rtol=1e-5)
    summed = MinedTripletLoss(reduction="sum")
    assert summed.get_config()["reduction"] == "sum"
    np.testing.assert_allclose(float(_np(summed(None, y_pred))), expected.sum(), rtol=1e-5)
    wide = MinedTripletLoss(dtype="float64")
    value = wide(None, y_pred.astype(np.float64))
    assert wide.dtype == "float64" and _np(value).dtype == (np.float64 if FLOAT64 else np.float32)
    np.testing.assert_allclose(float(_np(value)), expected.mean(), rtol=1e-10 if FLOAT64 else 1e-5)


@pytest.mark.parametrize(("loss", "miner"), list(zip(TRIPLET_FORMS, MINERS)))
def test_mined_loss_per_row_with_track_ids(loss, miner):
    """Per-row values (B,) with `use_labels`: rows sharing a track id are no negatives of each other.

    Rows 0 and 2 share id 7: without labels row 2 would be a negative of row 0 (and the values differ).
    """
    y_pred = _batch((3, 3, 4), 31)
    ids = np.array([7, 3, 7])
    kwargs = {"margin": 0.8, "distance": "sql2", "difficulty": 0.6, "regularization": 0.05}
    labelled = MinedTripletLoss(loss, miner, use_labels=1, **kwargs)
    assert labelled.use_labels is True and labelled.get_config()["use_labels"] is True
    expected = _oracle_rows(y_pred, loss, miner, ids=ids, **kwargs)
    assert not np.allclose(expected, _oracle_rows(y_pred, loss, miner, **kwargs), rtol=1e-3)
    np.testing.assert_allclose(_np(labelled.call(ids.astype(np.float32), y_pred)), expected, rtol=2e-4, atol=1e-6)
    # (B, 2) = (track id, OPMS difficulty): ids from column 0, difficulty averaged from column 1.
    with_difficulty = np.stack([ids, [0.1, 0.2, 0.3]], axis=1).astype(np.float32)
    np.testing.assert_allclose(_np(labelled.call(with_difficulty, y_pred)),
                               _oracle_rows(y_pred, loss, miner, **{**kwargs, "difficulty": 0.2}, ids=ids),
                               rtol=2e-4, atol=1e-6)


def test_mined_loss_rejects_missing_labels_when_use_labels():
    """`use_labels=True` needs `y_true`: None is refused with the whole message."""
    with pytest.raises(ShapeError, match=r"^`y_true` of MinedTripletLoss must be \(B,\) point ids when "
                                         r"use_labels=True\. Received: y_true=None$"):
        MinedTripletLoss(use_labels=True)(None, _batch((2, 2, 3), 1))


def test_mined_loss_one_active_pair_is_not_halved():
    """Exactly one active pair: the loss is its own term (the divisor is max(active, 1) = 1).

    Rows (0, 0), (2, 0) and (0, 1), (0, 1); OPMS with margin 0.1 keeps only the pair (0 -> 1): d_ap = 2 and the
    negatives of row 1 at distance 1 < 2.1, each with weight 1/2. Every other pair is pruned (from view 1:
    sqrt(5) > 2.1; from row 1: d_ap = 0, negatives at >= 1 > 0.1). Loss = relu(2 - 1 + 0.1) = 1.1.
    """
    y_pred = np.array([[[0.0, 0.0], [2.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]], np.float32)
    loss = MinedTripletLoss("triplet_margin", "opms", margin=0.1, difficulty=0.5)
    np.testing.assert_allclose(_np(loss.call(np.zeros(2, np.float32), y_pred)), [2.2, 0.0], rtol=1e-6)
    np.testing.assert_allclose(float(_np(loss(None, y_pred))), 1.1, rtol=1e-6)


def test_mined_loss_difficulty_bounds():
    """`difficulty` accepts 0 and 1 (ints included, stored as floats); OPMS at lambda = 0 weights uniformly."""
    for value in (0, 1, 0.0, 1.0):
        loss = MinedTripletLoss(miner="opms", difficulty=value)
        assert loss.difficulty == float(value) and type(loss.difficulty) is float
    y_pred = _batch((4, 2, 5), 41)
    np.testing.assert_allclose(float(_np(MinedTripletLoss(miner="opms", margin=2.0, difficulty=0)(None, y_pred))),
                               _oracle_rows(y_pred, "triplet_margin", "opms", margin=2.0, difficulty=0.0).mean(),
                               rtol=1e-5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"loss": "contrastive"}, "`loss` of MinedTripletLoss must be one of ['triplet_margin', 'triplet_ratio', "
                              "'in_triplet_hard_negative', 'snr']. Received: loss='contrastive'"),
    ({"miner": "hardest"}, "`miner` of MinedTripletLoss must be one of ['batch_hard', 'semi_hard', "
                           "'distance_weighted', 'opms']. Received: miner='hardest'"),
    ({"margin": -1}, "`margin` of MinedTripletLoss must be a non-negative number. Received: margin=-1"),
    ({"distance": "mean_squared"}, "`distance` of MinedTripletLoss must be one of ['l2', 'sql2']. "
                                   "Received: distance='mean_squared'"),
    ({"difficulty": True}, "`difficulty` of MinedTripletLoss must be in [0, 1]. Received: difficulty=True"),
    ({"difficulty": "0.5"}, "`difficulty` of MinedTripletLoss must be in [0, 1]. Received: difficulty='0.5'"),
    ({"difficulty": -0.1}, "`difficulty` of MinedTripletLoss must be in [0, 1]. Received: difficulty=-0.1"),
    ({"difficulty": 1.5}, "`difficulty` of MinedTripletLoss must be in [0, 1]. Received: difficulty=1.5"),
    ({"difficulty": float("nan")}, "`difficulty` of MinedTripletLoss must be in [0, 1]. Received: difficulty=nan"),
    ({"regularization": -0.5}, "`regularization` of MinedTripletLoss must be a non-negative number. "
                               "Received: regularization=-0.5"),
])
def test_mined_loss_rejects_bad_options_with_whole_messages(kwargs, message):
    """Each bad option is a ConfigError naming the class, the option and the value."""
    with pytest.raises(ConfigError) as info:
        MinedTripletLoss(**kwargs)
    assert str(info.value) == message


def test_mined_loss_rejects_one_view_with_whole_message():
    """`y_pred` with K = 1 is a ShapeError naming the class."""
    with pytest.raises(ShapeError) as info:
        MinedTripletLoss()(None, np.zeros((2, 1, 3), np.float32))
    assert str(info.value) == "`y_pred` of MinedTripletLoss must have shape (B, K>=2, D). Received: y_pred.shape=(2, 1, 3)"


@needs_float64
@pytest.mark.parametrize(("loss", "miner"), list(zip(TRIPLET_FORMS, MINERS)))
def test_mined_loss_in_float64(loss, miner):
    """`dtype="float64"`: every miner's weights stay float64 (a float32 cast fails on the float64 distances)."""
    y_pred = _batch((4, 2, 5), 51).astype(np.float64)
    value = MinedTripletLoss(loss, miner, margin=0.9, difficulty=0.25, dtype="float64")(None, y_pred)
    assert _np(value).dtype == np.float64
    np.testing.assert_allclose(float(_np(value)),
                               _oracle_rows(y_pred, loss, miner, margin=0.9, difficulty=0.25).mean(), rtol=1e-9)


@needs_float64
@pytest.mark.parametrize("miner", MINERS)
def test_mine_negatives_keeps_float64(miner):
    """`mine_negatives` on float64 distances returns float64 weights equal to the oracle's.

    One pair (anchor 0, positive 1) of a batch of 2 rows x 2 views; negatives 2 and 3 (row 1), a fourth
    column 1 is the positive itself (not a negative). L2 distances of unit vectors, so every miner has a choice.
    The difficulty 0.25 is exact in float32 (`ops.cast` of a Python float goes through float32).
    """
    d_ap = np.array([0.9, 0.9], np.float64)
    d_an = np.array([[0.0, 0.9, 1.2, 0.8], [0.9, 0.0, 0.7, 1.3]], np.float64)
    negative = np.array([[False, False, True, True], [False, False, True, True]])
    weights = _np(mine_negatives(miner, d_ap, d_an, negative, 2, margin=0.5, difficulty=0.25, dim=4))
    assert weights.dtype == np.float64
    dm = np.zeros((4, 4))
    dm[0], dm[1] = d_an
    expected = [_pair_weights(miner, a, p, [p], dm, dm, [2, 3], 0.5, 0.25, 4) for a, p in ((0, 1), (1, 0))]
    np.testing.assert_allclose(weights, expected, rtol=1e-12, atol=1e-300)
