"""SNR distance, its pairwise form and the SNR triplet loss against numpy."""

import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses import SNRTripletLoss, pairwise_snr, snr_distance


def _snr(a, b):
    return np.var(b - a) / np.var(a)


def test_snr_distance_by_hand():
    a = np.array([[1.0, -1.0, 1.0, -1.0]], np.float32)  # var 1
    b = np.array([[1.0, -1.0, 1.0, 1.0]], np.float32)  # b - a = (0, 0, 0, 2): var 0.75
    np.testing.assert_allclose(ops.convert_to_numpy(snr_distance(a, b)), [0.75], rtol=1e-6)


def test_pairwise_snr_matches_rowwise():
    x = np.random.default_rng(6).normal(size=(4, 5)).astype(np.float32)
    y = np.random.default_rng(7).normal(size=(3, 5)).astype(np.float32)
    expected = np.array([[_snr(xi, yj) for yj in y] for xi in x])
    np.testing.assert_allclose(ops.convert_to_numpy(pairwise_snr(x, y)), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("regularization", [0.0, 0.1])
def test_snr_triplet_loss_matches_oracle(regularization):
    y_pred = np.random.default_rng(8).normal(size=(5, 3, 6)).astype(np.float32)
    terms = [max(0.0, _snr(t[0], t[1]) - _snr(t[0], t[2]) + 0.5)
             + regularization * np.mean([abs(v.sum()) for v in t]) for t in y_pred]
    value = float(ops.convert_to_numpy(SNRTripletLoss(0.5, regularization)(None, y_pred)))
    np.testing.assert_allclose(value, np.mean(terms), rtol=1e-4)


def test_snr_config_and_errors():
    loss = SNRTripletLoss(0.3, 0.02)
    assert SNRTripletLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    with pytest.raises(ConfigError, match="`regularization` of SNRTripletLoss must be a non-negative number"):
        SNRTripletLoss(regularization=-1.0)
    with pytest.raises(ShapeError, match=r"must have shape \(B, 3, D\)"):
        SNRTripletLoss()(None, np.zeros((2, 2, 3), np.float32))
