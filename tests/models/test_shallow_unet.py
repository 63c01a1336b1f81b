import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.shallow_unet import ShallowUNet


def test_coursework_layout_and_parameter_count():
    model = ShallowUNet()
    assert model.count_params() == 59_777
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (32, 32, 16) and shapes["pool1"] == (16, 16, 16) and shapes["conv2"] == (16, 16, 32)
    assert shapes["up3"] == (32, 32, 64) and shapes["merge3"] == (32, 32, 80) and shapes["conv4"] == (32, 32, 1)
    assert model.get_layer("up3").kernel.shape == (2, 2, 32, 64)
    assert model.get_layer("conv4").activation is keras.activations.linear
    assert not any(isinstance(layer, keras.layers.Rescaling) for layer in model.layers)


@pytest.mark.parametrize("batch", [1, 16])
def test_output_shape(batch, checks):
    out = ShallowUNet(residual=True, input_scale=1 / 255).predict_on_batch(checks.pixels(batch))
    assert out.shape == (batch, 32, 32, 1) and out.dtype == np.float32


def test_residual_and_scale_wrap_the_same_body(checks):
    x = checks.pixels(2)
    plain = ShallowUNet()
    scaled = ShallowUNet(residual=True, input_scale=0.5)
    assert scaled.count_params() == plain.count_params()
    scaled.set_weights(plain.get_weights())
    body = plain.predict_on_batch(0.5 * x)  # f(s * x)
    np.testing.assert_allclose(scaled.predict_on_batch(x), x - body / 0.5, rtol=1e-4, atol=1e-3)


def test_config_round_trip_and_save_load(checks):
    model = ShallowUNet(residual=True, input_scale=1 / 255, name="su")
    checks.config_round_trip(model, {"residual": True, "input_scale": 1 / 255, "name": "su"})
    checks.save_load_identical(model)


def test_one_training_step_gives_finite_loss(checks):
    checks.train_step_finite(ShallowUNet(residual=True, input_scale=1 / 255), "mae", checks.pixels(4))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"residual": 1}, r"`residual` of ShallowUNet must be a bool\. Received: residual=1"),
        ({"input_scale": 0}, r"`input_scale` of ShallowUNet must be a positive number\. Received: input_scale=0"),
    ],
)
def test_invalid_options_raise(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ShallowUNet(**kwargs)


def test_wrong_input_shape_is_rejected():
    with pytest.raises(ValueError, match=r"expected shape=\(None, 32, 32, 1\)"):
        ShallowUNet()(np.zeros((1, 31, 31, 1), np.float32))
