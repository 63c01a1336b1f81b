"""`--mixed-precision` and `--jit-compile`: one training step equal within tolerance on CPU, the options reach
Keras' compile, and a mixed-precision run saves an ordinary float32 pipeline."""

import json

import keras
import numpy as np
import pytest

from descriptors.losses.registry import build_loss
from descriptors.models.pipeline import DescriptorPipeline
from descriptors.models.registry import build_descriptor
from descriptors.training.config import TrainConfig
from descriptors.training.precision import float32_copy, precision_policy, rebuilt_with_policy
from descriptors.training.trainer import train
from descriptors.training.tuple_encoder import TupleEncoder


def _policies(model):
    return {layer.dtype_policy.name for layer in model._flatten_layers(include_self=True)
            if not isinstance(layer, keras.layers.InputLayer)}


@pytest.fixture(scope="module")
def batch():
    """16 pairs of smooth random patches (pixels 0..255) and their track ids."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 255, (16, 8, 8)).repeat(4, 1).repeat(4, 2)
    pairs = np.stack([base, np.clip(base + rng.normal(0, 8, base.shape), 0, 255)], 1)
    return pairs.astype("float32")[..., None], np.arange(16)


def _one_step(batch, mode="off", jit=False):
    """Loss and weight updates of one SGD step of L2-Net (no dropout: the same computation in every mode)."""
    keras.utils.set_random_seed(1)
    with precision_policy(mode):
        model = TupleEncoder(build_descriptor("l2net", descriptor_dim=16))
        before = [np.asarray(w, np.float32) for w in model.get_weights()]
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=build_loss("hardest_in_batch"), jit_compile=jit)
        loss = float(model.train_on_batch(*batch))
    after = model.get_weights()
    assert all(w.dtype == np.float32 for w in after)  # float32 variables in every mode
    return loss, [w - b for w, b in zip(after, before)]


@pytest.fixture(scope="module")
def float32_step(batch):
    return _one_step(batch)


def test_policy_is_restored_and_models_are_rebuilt_with_the_same_weights(batch):
    patches = batch[0][:, 0]
    keras.utils.set_random_seed(1)
    model = build_descriptor("l2net", descriptor_dim=16)
    with precision_policy("bfloat16"):
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
        mixed = build_descriptor("l2net", descriptor_dim=16)
    assert keras.config.dtype_policy().name == "float32"
    assert _policies(mixed) == {"mixed_bfloat16"} and _policies(model) == {"float32"}
    assert float32_copy(model) is model and rebuilt_with_policy(mixed, "bfloat16") is mixed
    mixed.set_weights(model.get_weights())
    back = float32_copy(mixed)
    assert type(back) is type(model) and _policies(back) == {"float32"}
    np.testing.assert_array_equal(back.predict_on_batch(patches), model.predict_on_batch(patches))
    low = np.asarray(keras.ops.convert_to_numpy(mixed(patches)), np.float32)
    assert (low * np.asarray(model(patches))).sum(1).min() > 0.98  # bfloat16 compute: close, not equal


def test_jit_compile_step_equals_the_plain_step(batch, float32_step):
    loss, updates = float32_step
    jit_loss, jit_updates = _one_step(batch, jit=True)
    assert abs(jit_loss - loss) < 1e-5
    for a, b in zip(jit_updates, updates):  # XLA sums in another order: float32 rounding apart
        assert np.linalg.norm(a - b) < 5e-3 * np.linalg.norm(b), (np.linalg.norm(a - b), np.linalg.norm(b))


@pytest.mark.parametrize(("mode", "tolerance", "min_cosine"), [("float16", 0.01, 0.98), ("bfloat16", 0.05, 0.9)])
def test_mixed_precision_step_is_close_to_float32(batch, float32_step, mode, tolerance, min_cosine):
    """Loss within 1 % (float16) / 5 % (bfloat16) of float32; the weight update points the same way (low-precision
    distances can pick another hardest negative for a few rows, so the updates are not equal)."""
    loss, updates = float32_step
    mixed_loss, mixed_updates = _one_step(batch, mode)
    assert abs(mixed_loss - loss) < tolerance * loss, (mixed_loss, loss)
    a, b = np.concatenate([u.ravel() for u in mixed_updates]), np.concatenate([u.ravel() for u in updates])
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > min_cosine


def test_a_mixed_precision_run_with_xla_saves_a_float32_pipeline(tmp_path, batch):
    config = TrainConfig(denoiser="none", descriptor="l2net", epochs=1, batch_size=32, tuples_per_epoch=64,
                         val_tuples=32, max_train_tracks=100, evaluate=False, verbose=0, seed=5,
                         mixed_precision="bfloat16", jit_compile="on", deterministic=False,
                         output_dir=str(tmp_path / "run"))
    result = train(config)
    assert keras.config.dtype_policy().name == "float32"
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (saved["mixed_precision"], saved["jit_compile"]) == ("bfloat16", "on")
    pipeline = DescriptorPipeline.load(tmp_path / "run" / "pipeline")
    assert _policies(pipeline.descriptor) == _policies(result.descriptor) == {"float32"}
    patches = batch[0][:, 0]
    np.testing.assert_array_equal(pipeline.describe(patches, verbose=False),
                                  result.descriptor.predict_on_batch(patches))
