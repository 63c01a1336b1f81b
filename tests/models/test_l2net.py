import keras
import numpy as np
import pytest
from model_checks import descriptor_train_step

from descriptors.errors import ConfigError
from descriptors.models.l2net import L2Net


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return L2Net()


def test_trunk_layout_and_parameter_count(model):
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [
        (32, (3, 3), (1, 1)), (32, (3, 3), (1, 1)), (64, (3, 3), (2, 2)), (64, (3, 3), (1, 1)),
        (128, (3, 3), (2, 2)), (128, (3, 3), (1, 1)), (128, (8, 8), (1, 1))]
    assert not any(c.use_bias for c in convs)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 7 and not any(b.center or b.scale for b in bns) and bns[0].epsilon == 1e-4
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 1_334_560
    assert model.count_params() == 1_335_712  # + 1,152 BN moving statistics


@pytest.mark.parametrize("batch", [1, 16])
def test_unit_norm_output(model, batch, rng):
    out = model.predict_on_batch(rng.uniform(0, 255, (batch, 32, 32, 1)).astype(np.float32))
    assert out.shape == (batch, 128) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_invariant_to_affine_intensity_changes(model, rng):
    x = rng.uniform(0, 255, (3, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(model.predict_on_batch(0.5 * x + 20), model.predict_on_batch(x), atol=1e-4)


def test_descriptor_dim_config_and_save_load(checks):
    small = L2Net(descriptor_dim=32, dropout=0.1)
    assert small.output_shape == (None, 32)
    checks.config_round_trip(small, {"descriptor_dim": 32, "dropout": 0.1, "bn_epsilon": 1e-4, "bn_momentum": 0.9,
                                     "kernel_initializer": "he_normal"})
    checks.save_load_identical(small)


def test_one_training_step_gives_finite_loss(rng):
    descriptor_train_step(L2Net(descriptor_dim=16), rng)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"descriptor_dim": 0}, r"`descriptor_dim` of L2Net must be a positive integer\. Received: descriptor_dim=0"),
        ({"dropout": -0.1}, r"`dropout` of L2Net must be a number in \[0, 1\)"),
        ({"bn_epsilon": 0}, r"`bn_epsilon` of L2Net must be a positive number"),
        ({"bn_momentum": 1.0}, r"`bn_momentum` of L2Net must be a number in \[0, 1\)"),
        ({"kernel_initializer": "nope"}, r"`kernel_initializer` of L2Net must be a Keras initializer"),
    ],
)
def test_invalid_options_raise(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        L2Net(**kwargs)


def test_wrong_input_shape_is_rejected(model):
    with pytest.raises(ValueError, match=r"expected shape=\(None, 32, 32, 1\)"):
        model(np.zeros((1, 64, 64, 1), np.float32))
