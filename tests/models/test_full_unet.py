import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.full_unet import FullUNet


def _conv_widths(model):
    return [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
            and not isinstance(layer, keras.layers.Conv2DTranspose) and layer.name.endswith("conv1")]


def test_default_is_a_four_level_32_to_256_unet():
    model = FullUNet()
    assert _conv_widths(model) == [32, 64, 128, 256, 128, 64, 32]
    assert tuple(model.get_layer("bottleneck_relu2").output.shape[1:]) == (4, 4, 256)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]) == 14
    assert model.count_params() == 1_929_249


@pytest.mark.parametrize("batch", [1, 16])
def test_output_shape(batch, checks):
    model = FullUNet(base_filters=4, depth=3)
    assert model.predict_on_batch(checks.pixels(batch)).shape == (batch, 32, 32, 1)


@pytest.mark.parametrize("upsampling", ["bilinear", "nearest"])
def test_resize_upsampling_variants(upsampling, checks):
    model = FullUNet(base_filters=4, depth=2, batch_norm=False, upsampling=upsampling, dropout=0.5)
    assert model.predict_on_batch(checks.pixels(2)).shape == (2, 32, 32, 1)
    assert model.get_layer("up0_resize").interpolation == upsampling


def test_identity_with_zero_head_when_residual(checks):
    model = FullUNet(base_filters=4, depth=2)
    head = model.get_layer("head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    x = checks.pixels(2)
    np.testing.assert_allclose(model.predict_on_batch(x), x, rtol=1e-5, atol=1e-3)


def test_config_round_trip_save_load_and_training_step(checks):
    model = FullUNet(base_filters=4, depth=3, upsampling="bilinear", dropout=0.1)
    checks.config_round_trip(model, {"base_filters": 4, "depth": 3, "upsampling": "bilinear", "dropout": 0.1,
                                     "batch_norm": True, "residual": True, "input_scale": 1 / 255})
    checks.save_load_identical(model)
    checks.train_step_finite(model, "mse", checks.pixels(4))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"depth": 7}, r"`depth` of FullUNet must be an integer in 1\.\.6\. Received: depth=7"),
        ({"base_filters": 0}, r"`base_filters` of FullUNet must be a positive integer"),
        ({"upsampling": "bicubic"}, r"`upsampling` of FullUNet must be one of \['transpose', 'bilinear', 'nearest'\]"),
        ({"dropout": 1.0}, r"`dropout` of FullUNet must be a number in \[0, 1\)"),
        ({"batch_norm": "yes"}, r"`batch_norm` of FullUNet must be a bool"),
        ({"residual": None}, r"`residual` of FullUNet must be a bool"),
    ],
)
def test_invalid_options_raise(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        FullUNet(**kwargs)
