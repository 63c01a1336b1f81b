import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.distances import (
    pairwise_l2,
    pairwise_squared_l2,
    rowwise_distance,
    rowwise_l2,
    rowwise_mean_squared,
    rowwise_squared_l2,
)


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32)


def _brute(x, y):
    return np.array([[np.sum((a.astype(np.float64) - b) ** 2) for b in y] for a in x])


def test_pairwise_matches_brute_force(xy):
    x, y = xy
    np.testing.assert_allclose(ops.convert_to_numpy(pairwise_squared_l2(x, y)), _brute(x, y), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(pairwise_l2(x, y)), np.sqrt(_brute(x, y)), rtol=1e-5, atol=1e-5)


def test_hand_computed_values():
    a = np.array([[0.0, 0.0], [1.0, 1.0]], np.float32)
    b = np.array([[3.0, 4.0], [1.0, 1.0]], np.float32)
    np.testing.assert_allclose(ops.convert_to_numpy(rowwise_l2(a, b)), [5.0, 1e-6], rtol=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(rowwise_squared_l2(a, b)), [25.0, 0.0])
    np.testing.assert_allclose(ops.convert_to_numpy(rowwise_mean_squared(a, b)), [12.5, 0.0])
    np.testing.assert_allclose(ops.convert_to_numpy(pairwise_l2(a, b)), [[5.0, np.sqrt(2)], [np.sqrt(13), 1e-6]],
                               rtol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(rowwise_distance(a, b, "mean_squared")), [12.5, 0.0])


def test_rowwise_matches_diagonal_of_pairwise(xy):
    x, _ = xy
    y = x[::-1].copy()
    np.testing.assert_allclose(ops.convert_to_numpy(rowwise_l2(x, y)),
                               np.diag(ops.convert_to_numpy(pairwise_l2(x, y))), rtol=1e-4)


def test_gradient_is_finite_at_zero_distance(value_and_gradient):
    x = np.array([[1.0, 2.0], [1.0, 2.0]], np.float32)
    total, grad = value_and_gradient(lambda t: ops.sum(pairwise_l2(t, t)) + ops.sum(rowwise_l2(t, t)), x)
    assert total == pytest.approx(0.0, abs=1e-3)
    assert np.all(np.isfinite(grad))


def test_unknown_distance():
    with pytest.raises(ConfigError, match=r"`distance` of rowwise_distance must be one of \['l2', 'sql2', "
                                          r"'mean_squared'\]\. Received: distance='cosine'"):
        rowwise_distance(np.zeros((1, 2)), np.zeros((1, 2)), "cosine")
