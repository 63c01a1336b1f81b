"""SupCon and NT-Xent against numpy oracles written from the papers' formulas."""

import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses import NTXentLoss, SupConLoss


def _supcon_oracle(y_pred, temperature, labels=None):
    b, k, _ = y_pred.shape
    z = y_pred.reshape(b * k, -1)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    labels = np.repeat(np.arange(b) if labels is None else labels, k)
    sim = z @ z.T / temperature
    terms = []
    for i in range(b * k):
        others = [a for a in range(b * k) if a != i]
        denominator = np.log(np.sum(np.exp(sim[i, others])))
        positives = [p for p in others if labels[p] == labels[i]]
        terms.append(-np.mean([sim[i, p] - denominator for p in positives]) if positives else 0.0)
    return np.mean(terms)


def _ntxent_oracle(y_pred, temperature):
    """SimCLR: 2B views, view i's positive is its twin, the denominator all 2B - 1 others."""
    b = y_pred.shape[0]
    z = np.concatenate([y_pred[:, 0], y_pred[:, 1]])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    sim = z @ z.T / temperature
    total = 0.0
    for i in range(2 * b):
        twin = (i + b) % (2 * b)
        total += -np.log(np.exp(sim[i, twin]) / (np.exp(sim[i]).sum() - np.exp(sim[i, i])))
    return total / (2 * b)


@pytest.mark.parametrize("shape", [(3, 2, 4), (2, 4, 3)])
@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_supcon_matches_oracle(shape, temperature):
    y_pred = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    value = float(ops.convert_to_numpy(SupConLoss(temperature)(None, y_pred)))
    np.testing.assert_allclose(value, _supcon_oracle(y_pred, temperature), rtol=1e-4)


def test_supcon_with_labels_and_config():
    y_pred = np.random.default_rng(4).normal(size=(3, 2, 4)).astype(np.float32)
    labels = np.array([1, 1, 2])
    value = float(ops.convert_to_numpy(SupConLoss(0.2, use_labels=True)(labels.astype(np.float32), y_pred)))
    np.testing.assert_allclose(value, _supcon_oracle(y_pred, 0.2, labels), rtol=1e-4)
    loss = SupConLoss(0.3, use_labels=True)
    assert SupConLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    with pytest.raises(ConfigError, match="`temperature` of SupConLoss must be a positive number"):
        SupConLoss(0.0)


@pytest.mark.parametrize("temperature", [0.1, 1.0])
def test_ntxent_matches_simclr_oracle(temperature):
    y_pred = np.random.default_rng(5).normal(size=(4, 2, 6)).astype(np.float32)
    value = float(ops.convert_to_numpy(NTXentLoss(temperature)(None, y_pred)))
    np.testing.assert_allclose(value, _ntxent_oracle(y_pred, temperature), rtol=1e-4)


def test_ntxent_needs_two_views():
    with pytest.raises(ShapeError, match=r"`y_pred` of NTXentLoss must have shape \(B, 2, D\)"):
        NTXentLoss()(None, np.zeros((2, 3, 4), np.float32))
    loss = NTXentLoss(0.25)
    assert NTXentLoss.from_config(loss.get_config()).temperature == 0.25
