import keras
import numpy as np
import pytest
from model_checks import descriptor_train_step

from descriptors.errors import ConfigError
from descriptors.models.hardnet import HardNet
from descriptors.models.l2net import L2Net


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return HardNet()


def test_hardnet_defaults(model):
    assert isinstance(model, L2Net)
    assert model.get_layer("dropout").rate == 0.3
    assert model.get_layer("bn1").epsilon == 1e-5 and model.get_layer("bn7").momentum == 0.9
    init = model.get_layer("conv1").kernel_initializer
    assert isinstance(init, keras.initializers.Orthogonal) and init.gain == 0.6
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 1_334_560
    assert model.count_params() == 1_335_712


@pytest.mark.parametrize("batch", [1, 16])
def test_unit_norm_output(model, batch, rng):
    out = model.predict_on_batch(rng.uniform(0, 255, (batch, 32, 32, 1)).astype(np.float32))
    assert out.shape == (batch, 128)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_dropout_only_in_training_mode(model, rng):
    x = rng.uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), np.asarray(model(x, training=False)))
    assert not np.allclose(np.asarray(model(x, training=True)), np.asarray(model(x, training=True)))


def test_config_round_trip_and_save_load(model, checks):
    checks.config_round_trip(model, {"descriptor_dim": 128, "dropout": 0.3, "bn_epsilon": 1e-5,
                                     "kernel_initializer": {"class_name": "Orthogonal", "config": {"gain": 0.6}}})
    loaded = checks.save_load_identical(model)
    assert isinstance(loaded, HardNet) and loaded.get_layer("dropout").rate == 0.3


def test_one_training_step_gives_finite_loss(rng):
    descriptor_train_step(HardNet(descriptor_dim=16), rng)


def test_invalid_option_names_the_class():
    with pytest.raises(ConfigError, match=r"`descriptor_dim` of HardNet must be a positive integer"):
        HardNet(descriptor_dim=1.5)
