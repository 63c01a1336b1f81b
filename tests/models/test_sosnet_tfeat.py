"""`SOSNet` and `TFeatDescriptor`: layouts, parameter counts, the instance norm input, config and `.keras` round trips."""

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models import HardNet, PatchStandardization, SOSNet, TFeatDescriptor
from descriptors.models.registry import build_descriptor


def test_sosnet_is_hardnet_with_instance_norm_and_dropout_01(checks):
    model = build_descriptor("sosnet")
    assert type(model) is SOSNet and isinstance(model, HardNet)
    assert model.get_layer("dropout").rate == 0.1 and model.get_layer("bn7").epsilon == 1e-5
    norm = model.get_layer("instance_normalization")
    assert (norm.epsilon, norm.ddof, norm.epsilon_placement) == (1e-5, 0, "variance")
    assert model.count_params() == 1_335_712  # HardNet's count: the same trunk
    assert not any(layer.name.startswith("pad") for layer in model.layers)
    compatible = SOSNet(descriptor_dim=16, pytorch_compatible=True)
    assert [layer.name for layer in compatible.layers if layer.name.startswith("pad")] == ["pad3", "pad5"]
    checks.config_round_trip(compatible, {"descriptor_dim": 16, "dropout": 0.1, "pytorch_compatible": True})
    loaded = checks.save_load_identical(compatible)
    assert type(loaded) is SOSNet and loaded.pytorch_compatible is True


def test_symmetric_padding_keeps_the_shapes_and_moves_the_window():
    """Same weights, same output shape; the stride-2 convs see a window shifted by one pixel, so outputs differ."""
    keras.utils.set_random_seed(0)
    keras_like = HardNet(descriptor_dim=8)
    torch_like = HardNet(descriptor_dim=8, pytorch_compatible=True)
    torch_like.set_weights(keras_like.get_weights())
    assert torch_like.get_layer("conv3").output.shape == keras_like.get_layer("conv3").output.shape == (None, 16, 16, 64)
    x = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype("float32")
    assert np.abs(np.asarray(torch_like(x)) - np.asarray(keras_like(x))).max() > 1e-3
    assert torch_like.get_layer("patch_standardization").ddof == 1


def test_tfeat_descriptor_layout_and_round_trip(checks):
    model = build_descriptor("tfeat")
    assert type(model) is TFeatDescriptor and model.output_shape == (None, 128)
    # conv 7x7 1->32 (1,600) + conv 6x6 32->64 (73,792) + dense 4096->128 (524,416)
    assert model.count_params() == 1_600 + 73_792 + 524_416 == 599_808
    x = checks.pixels(3)
    out = np.asarray(model.predict_on_batch(x))
    assert np.all(np.abs(out) < 1.0) and not np.allclose(np.linalg.norm(out, axis=1), 1.0)
    normalized = TFeatDescriptor(descriptor_dim=16, filters=(8, 16), normalize=True)
    np.testing.assert_allclose(np.linalg.norm(normalized.predict_on_batch(x), axis=1), 1.0, rtol=1e-5)
    checks.config_round_trip(normalized, {"descriptor_dim": 16, "filters": [8, 16], "normalize": True})
    assert type(checks.save_load_identical(normalized)) is TFeatDescriptor


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"filters": (32,)}, r"`filters` of TFeatDescriptor must be two positive integers"),
    ({"normalize": "yes"}, r"`normalize` of TFeatDescriptor must be true or false\. Received: normalize='yes'"),
    ({"descriptor_dim": 0}, r"`descriptor_dim` of TFeatDescriptor must be a positive integer"),
])
def test_tfeat_descriptor_bad_options(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TFeatDescriptor(**kwargs)


def test_patch_standardization_variants_by_hand():
    """A 2x2 patch [0, 1, 2, 5]: mean 2, squared deviations 4, 1, 0, 9 (sum 14): population var 3.5, sample var
    14/3."""
    x = np.array([0.0, 1.0, 2.0, 5.0], "float32").reshape(1, 2, 2, 1)
    centred = np.array([-2.0, -1.0, 0.0, 3.0])

    def run(**kwargs):
        return np.asarray(PatchStandardization(**kwargs)(x)).ravel()

    np.testing.assert_allclose(run(), centred / (np.sqrt(3.5) + 1e-7), rtol=1e-6)
    np.testing.assert_allclose(run(ddof=1), centred / (np.sqrt(14 / 3) + 1e-7), rtol=1e-6)
    np.testing.assert_allclose(run(epsilon=0.5, epsilon_placement="variance"), centred / np.sqrt(3.5 + 0.5),
                               rtol=1e-6)
    np.testing.assert_allclose(run(epsilon=0.5, ddof=1, epsilon_placement="variance"),
                               centred / np.sqrt(14 / 3 + 0.5), rtol=1e-6)
    layer = PatchStandardization(epsilon=0.5, ddof=1, epsilon_placement="variance")
    assert PatchStandardization.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ConfigError, match=r"`ddof` of PatchStandardization must be 0 or 1\. Received: ddof=2"):
        PatchStandardization(ddof=2)
    with pytest.raises(ConfigError, match=r"`epsilon_placement`.*Received: epsilon_placement='sqrt'"):
        PatchStandardization(epsilon_placement="sqrt")
