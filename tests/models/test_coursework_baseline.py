import keras
import numpy as np
import pytest
from model_checks import descriptor_train_step

from descriptors.models.coursework_baseline import CourseworkBaseline


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(7)
    return CourseworkBaseline()


def test_exact_parameter_count_and_layout(model):
    assert model.count_params() == 1_336_928
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 1_336_032
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 32, 64, 64, 128, 128, 128] and all(c.use_bias for c in convs)
    assert all(isinstance(c.kernel_initializer, keras.initializers.HeNormal) for c in convs)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(bns) == 6 and all(b.center and b.scale and b.epsilon == 1e-3 and b.momentum == 0.99 for b in bns)
    assert model.get_layer("dropout").rate == 0.3


@pytest.mark.parametrize("batch", [1, 16])
def test_output_is_unnormalised_128d(model, batch, rng):
    out = model.predict_on_batch(rng.uniform(0, 255, (batch, 32, 32, 1)).astype(np.float32))
    assert out.shape == (batch, 128)
    assert not np.allclose(np.linalg.norm(out, axis=1), 1.0)


def test_config_round_trip_and_save_load(model, checks):
    checks.config_round_trip(model, {"name": "coursework_baseline"})
    checks.save_load_identical(model)


def test_one_training_step_gives_finite_loss(rng):
    descriptor_train_step(CourseworkBaseline(), rng)
