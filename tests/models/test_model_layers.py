import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.layers import L2Normalization, PatchStandardization, PixelClip


def _round_trip(layer, x):
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    return np.asarray(model(x))


def test_patch_standardization_matches_numpy(rng):
    x = rng.uniform(0, 255, (4, 5, 5, 1)).astype(np.float32)
    out = _round_trip(PatchStandardization(epsilon=1e-3), x)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / (std + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)


def test_patch_standardization_is_scale_invariant_and_safe_on_constant_patches():
    layer = PatchStandardization()
    x = np.linspace(0, 1, 2 * 16, dtype=np.float32).reshape(2, 4, 4, 1)
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(layer(255.0 * x)), atol=1e-4)
    constant = np.full((1, 4, 4, 1), 7.0, np.float32)
    np.testing.assert_array_equal(np.asarray(layer(constant)), 0.0)


def test_constant_patch_has_finite_gradient(value_and_gradient):
    weights = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    layer = PatchStandardization()
    constant = np.full((1, 4, 4, 1), 3.0)
    value, grad = value_and_gradient(lambda t: keras.ops.sum(keras.ops.multiply(layer(t), weights)), constant)
    assert value == 0.0
    assert np.all(np.isfinite(grad))


def test_l2_normalization_unit_norm_and_zero_vector(rng):
    x = rng.normal(size=(3, 7)).astype(np.float32)
    x[1] = 0.0
    out = _round_trip(L2Normalization(), x)
    np.testing.assert_allclose(out[[0, 2]], x[[0, 2]] / np.linalg.norm(x[[0, 2]], axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(out[1], 0.0)


def test_pixel_clip():
    x = np.array([[-5.0, 0.0, 100.0, 300.0]], np.float32)
    np.testing.assert_array_equal(_round_trip(PixelClip(), x), [[0.0, 0.0, 100.0, 255.0]])


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: PatchStandardization(epsilon=0), r"`epsilon` of PatchStandardization must be a positive number\. "
                                                  r"Received: epsilon=0"),
        (lambda: L2Normalization(epsilon=-1.0), r"`epsilon` of L2Normalization must be a positive number"),
        (lambda: PixelClip(5, 1), r"`min_value` of PixelClip must be below `max_value`"),
    ],
)
def test_invalid_options_raise(factory, match):
    with pytest.raises(ConfigError, match=match):
        factory()
