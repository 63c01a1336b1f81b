"""FRN, TLU and the HyNet network: NumPy oracles, the published layout and weight count, save/load equality."""

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.frn import FilterResponseNormalization, ThresholdedLinearUnit
from descriptors.models.hynet import HyNet
from descriptors.models.registry import build_descriptor


def test_frn_and_tlu_equal_numpy():
    x = np.random.default_rng(0).normal(size=(3, 5, 4, 2)).astype(np.float32) * 7
    frn = FilterResponseNormalization(epsilon=1e-3)
    frn.build(x.shape)
    frn.gamma.assign([2.0, -0.5])
    frn.beta.assign([0.1, 0.3])
    nu2 = (x.astype(np.float64) ** 2).mean(axis=(1, 2), keepdims=True)
    expected = x / np.sqrt(nu2 + 1e-3) * np.array([2.0, -0.5]) + np.array([0.1, 0.3])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(frn(x)), expected, rtol=1e-5, atol=1e-5)
    learned = FilterResponseNormalization(epsilon=0.5, learnable_epsilon=True, center=False, scale=False)
    learned.build(x.shape)
    learned.learned_epsilon.assign(-0.25)  # |eps| is used
    np.testing.assert_allclose(keras.ops.convert_to_numpy(learned(x)), x / np.sqrt(nu2 + 0.25), rtol=1e-5, atol=1e-5)
    tlu = ThresholdedLinearUnit()
    tlu.build(x.shape)
    tlu.tau.assign([0.5, -2.0])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(tlu(x)), np.maximum(x, np.array([0.5, -2.0], np.float32)))
    fresh = keras.ops.convert_to_numpy(ThresholdedLinearUnit()(x[:1, :1, :1])).ravel()
    np.testing.assert_array_equal(fresh, np.maximum(x[0, 0, 0], -1.0))  # tau starts at -1 (HyNet)
    with pytest.raises(ConfigError, match="epsilon"):
        FilterResponseNormalization(epsilon=0)
    with pytest.raises(ConfigError, match="center"):
        FilterResponseNormalization(center="yes")


def test_layout_weights_and_scale_invariance():
    model = build_descriptor("hynet")
    assert model.count_params() == 1_336_611 and len(model.trainable_weights) == 7 + 6 + 2 * 7 + 7
    assert [layer.strides for layer in model.layers if isinstance(layer, keras.layers.Conv2D)] == [
        (1, 1), (1, 1), (2, 2), (1, 1), (2, 2), (1, 1), (1, 1)]
    patches = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    codes = keras.ops.convert_to_numpy(model(patches))
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)
    # FRN divides by the root mean square: the pixel scale does not matter (up to its epsilon).
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(patches / 255.0)), codes, atol=2e-3)
    padded = HyNet(pytorch_compatible=True)
    assert any(isinstance(layer, keras.layers.ZeroPadding2D) for layer in padded.layers)


def test_save_load_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = HyNet(descriptor_dim=32, dropout=0.3)
    patches = np.random.default_rng(2).uniform(0, 255, (3, 32, 32, 1)).astype(np.float32)
    model.save(tmp_path / "h.keras")
    loaded = keras.saving.load_model(tmp_path / "h.keras", safe_mode=True)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(patches)), keras.ops.convert_to_numpy(model(patches)))
    with pytest.raises(ConfigError, match="dropout"):
        HyNet(dropout=1.0)
