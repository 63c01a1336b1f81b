"""Miners and MinedTripletLoss against brute-force numpy: every (anchor, positive) pair of views in a row."""

import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses import MINERS, TRIPLET_FORMS, MinedTripletLoss, anchor_positive_pairs, build_loss


def _dist(x, y, kind):
    if kind == "snr":
        return np.var(y - x) / np.var(x)
    d2 = np.sum((x - y) ** 2)
    return d2 if kind == "sql2" else np.sqrt(max(d2, 1e-12))


def _weights(miner, i, p, dm, l2, negatives, pos_of_anchor, margin, difficulty, dim):
    """Oracle weight of every candidate negative of the pair (i, p)."""
    w = np.zeros(dm.shape[0])
    if not negatives:
        return w
    d_ap = dm[i, p]
    if miner == "batch_hard":
        if d_ap >= max(dm[i, q] for q in pos_of_anchor):
            w[min(negatives, key=lambda n: dm[i, n])] = 1.0
    elif miner == "semi_hard":
        outside = [n for n in negatives if dm[i, n] > d_ap]
        w[min(outside, key=lambda n: dm[i, n]) if outside else max(negatives, key=lambda n: dm[i, n])] = 1.0
    elif miner == "distance_weighted":
        valid = [n for n in negatives if max(l2[i, n], 0.5) < 1.4]
        if valid:
            logs = {n: (2 - dim) * np.log(max(l2[i, n], 0.5)) - (dim - 3) / 2 * np.log(max(1 - max(l2[i, n], 0.5) ** 2 / 4, 1e-8))
                    for n in valid}
            top = max(logs.values())
            for n in valid:
                w[n] = np.exp(logs[n] - top)
            w /= w.sum()
    else:  # opms
        valid = [n for n in negatives if dm[i, n] < d_ap + margin]
        if valid:
            gamma = 10.0 * difficulty / max(1 - difficulty, 1e-3)
            scores = np.array([gamma * (d_ap - dm[i, n]) for n in valid])
            probs = np.exp(scores - scores.max())
            w[valid] = probs / probs.sum()
    return w


def _oracle(y_pred, loss, miner, margin=1.0, distance="l2", difficulty=1.0, regularization=0.01):
    b, k, dim = y_pred.shape
    emb = y_pred.reshape(b * k, dim).astype(np.float64)
    kind = "snr" if loss == "snr" else distance
    n_all = b * k
    dm = np.array([[_dist(emb[i], emb[j], kind) for j in range(n_all)] for i in range(n_all)])
    l2 = np.array([[_dist(emb[i], emb[j], "l2") for j in range(n_all)] for i in range(n_all)])
    total, active = 0.0, 0
    for i in range(n_all):
        row = i // k
        positives = [row * k + v for v in range(k) if row * k + v != i]
        negatives = [n for n in range(n_all) if n // k != row]
        for p in positives:
            w = _weights(miner, i, p, dm, l2, negatives, positives, margin, difficulty, dim)
            if w.sum() == 0:
                continue
            active += 1
            for n in np.flatnonzero(w):
                d_ap, d_an, d_pn = dm[i, p], dm[i, n], dm[p, n]
                if loss == "triplet_ratio":
                    term = 2 * (1 / (1 + np.exp(-(d_ap - d_an)))) ** 2
                elif loss == "in_triplet_hard_negative":
                    term = max(0.0, d_ap - min(d_an, d_pn) + margin)
                else:
                    term = max(0.0, d_ap - d_an + margin)
                total += w[n] * term
    value = total / max(active, 1)
    if loss == "snr":
        value += regularization * np.mean(np.abs(emb.sum(axis=1)))
    return value


def _batch(shape, seed):
    y = np.random.default_rng(seed).normal(size=shape).astype(np.float32)
    return y / np.linalg.norm(y, axis=-1, keepdims=True)


@pytest.mark.parametrize("miner", MINERS)
@pytest.mark.parametrize("loss", TRIPLET_FORMS)
def test_mined_loss_matches_oracle(loss, miner):
    y_pred = _batch((4, 2, 5), 11)
    value = float(ops.convert_to_numpy(MinedTripletLoss(loss, miner, margin=0.5, difficulty=0.5)(None, y_pred)))
    np.testing.assert_allclose(value, _oracle(y_pred, loss, miner, margin=0.5, difficulty=0.5), rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("miner", MINERS)
def test_mined_loss_with_three_views_and_sql2(miner):
    y_pred = _batch((3, 3, 4), 12)
    loss = MinedTripletLoss("triplet_margin", miner, margin=1.0, distance="sql2", difficulty=0.3)
    np.testing.assert_allclose(float(ops.convert_to_numpy(loss(None, y_pred))),
                               _oracle(y_pred, "triplet_margin", miner, 1.0, "sql2", 0.3), rtol=2e-4, atol=1e-6)


def test_opms_difficulty_is_read_from_y_true():
    y_pred = _batch((4, 2, 5), 13)
    y_true = np.stack([np.arange(4), np.full(4, 0.2)], axis=1).astype(np.float32)
    loss = MinedTripletLoss("triplet_margin", "opms", difficulty=1.0)
    np.testing.assert_allclose(float(ops.convert_to_numpy(loss(y_true, y_pred))),
                               _oracle(y_pred, "triplet_margin", "opms", difficulty=0.2), rtol=2e-4)


def test_opms_prunes_triplets_that_satisfy_the_margin():
    y_pred = np.zeros((2, 2, 2), np.float32)
    y_pred[0] = [1.0, 0.0]
    y_pred[1] = [-1.0, 0.0]  # d_an = 2 >= d_ap + margin: every triplet pruned -> 0
    assert float(ops.convert_to_numpy(MinedTripletLoss("triplet_margin", "opms")(None, y_pred))) == 0.0


def test_anchor_positive_pairs_layout():
    anchors, positives = anchor_positive_pairs(2, 3)
    assert ops.convert_to_numpy(anchors).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert ops.convert_to_numpy(positives).tolist() == [1, 2, 0, 2, 0, 1, 4, 5, 3, 5, 3, 4]


def test_build_loss_composes_and_rejects():
    loss = build_loss("in_triplet_hard_negative", miner="semi_hard", margin=0.7)
    assert isinstance(loss, MinedTripletLoss) and loss.loss == "in_triplet_hard_negative" and loss.margin == 0.7
    assert MinedTripletLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    with pytest.raises(ConfigError, match="`miner` works with the losses"):
        build_loss("supcon", miner="batch_hard")
    with pytest.raises(ConfigError, match="`miner` of MinedTripletLoss must be one of"):
        MinedTripletLoss(miner="hardest")
    with pytest.raises(ConfigError, match="`loss` of MinedTripletLoss must be one of"):
        MinedTripletLoss(loss="contrastive")
    with pytest.raises(ConfigError, match=r"`difficulty` of MinedTripletLoss must be in \[0, 1\]"):
        MinedTripletLoss(difficulty=1.5)
