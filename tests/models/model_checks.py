"""Helpers of the model tests (a uniquely named module, imported as `from model_checks import ...`)."""

import json

import keras
import numpy as np


def _pixels(rng, batch):
    return rng.uniform(0.0, 255.0, size=(batch, 32, 32, 1)).astype(np.float32)


class ModelChecks:
    """Assertions shared by every model test module (one instance per test, via the `checks` fixture)."""

    def __init__(self, tmp_path, rng):
        self.tmp_path = tmp_path
        self.rng = rng

    def pixels(self, batch):
        return _pixels(self.rng, batch)

    def config_round_trip(self, model, expected_arguments):
        config = model.get_config()
        for key, value in expected_arguments.items():
            assert config[key] == value, key
        json.dumps(config)  # JSON-serialisable
        clone = type(model).from_config(config)
        assert type(clone) is type(model)
        assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
        assert clone.count_params() == model.count_params()

    def save_load_identical(self, model, batch=3):
        x = self.pixels(batch)
        path = self.tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert type(loaded) is type(model)
        np.testing.assert_array_equal(loaded.predict_on_batch(x), model.predict_on_batch(x))
        return loaded

    def train_step_finite(self, model, loss, y):
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=loss)
        before = [w.numpy().copy() for w in model.trainable_weights]
        value = model.train_on_batch(self.pixels(len(y)), y)
        assert np.isfinite(value)
        after = [w.numpy() for w in model.trainable_weights]
        assert all(np.all(np.isfinite(w)) for w in after)
        assert any(not np.array_equal(b, a) for b, a in zip(before, after)), "no weight changed"
        return value


def triplet_wrapper(descriptor):
    """A 3-input model stacking descriptor(a), descriptor(p), descriptor(n) as (B, 3, D) (the loss convention)."""
    dim = descriptor.output_shape[-1]
    inputs = [keras.Input((32, 32, 1), name=n) for n in ("anchor", "positive", "negative")]
    outs = [keras.layers.Reshape((1, dim))(descriptor(x)) for x in inputs]
    return keras.Model(inputs, keras.layers.Concatenate(axis=1)(outs))


def descriptor_train_step(descriptor, rng, batch=4):
    """One SGD step of `descriptor` with the triplet margin loss; returns the finite loss value."""
    from descriptors.losses.triplet import TripletMarginLoss

    model = triplet_wrapper(descriptor)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=TripletMarginLoss(margin=1.0))
    before = [w.numpy().copy() for w in descriptor.trainable_weights]
    x = [_pixels(rng, batch) for _ in range(3)]
    value = model.train_on_batch(x, np.zeros((batch,), np.float32))
    assert np.isfinite(value) and value > 0
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, descriptor.trainable_weights))
    assert all(np.all(np.isfinite(w.numpy())) for w in descriptor.trainable_weights)
    return value
