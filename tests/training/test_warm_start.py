"""`init_from`: training starts from a saved pipeline's weights, and a mismatched folder is refused up front."""

from pathlib import Path

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.pipeline import DescriptorPipeline
from descriptors.models.registry import build_denoiser, build_descriptor
from descriptors.training.config import TrainConfig
from descriptors.training.trainer import train

SMALL = dict(
    descriptor="hardnet", epochs=1, batch_size=32, tuples_per_epoch=64, val_tuples=32,
    max_train_tracks=200, evaluate=False, verbose=0, seed=3,
)


def _saved_pipeline(folder, descriptor="hardnet", denoiser=None):
    keras.utils.set_random_seed(11)
    built = DescriptorPipeline(build_descriptor(descriptor), denoiser=build_denoiser(denoiser) if denoiser else None)
    built.descriptor(np.zeros((1, 32, 32, 1), "float32"))
    if built.denoiser is not None:
        built.denoiser(np.zeros((1, 32, 32, 1), "float32"))
    return built.save(folder)


def _trainable(model):
    return [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]


def test_descriptor_and_denoiser_start_from_the_saved_weights(tmp_path):
    folder = _saved_pipeline(tmp_path / "saved", denoiser="shallow_unet")
    saved = DescriptorPipeline.load(folder)
    # A learning rate of 1e-9 moves Adam's weights by ~1e-9 per step: the trained weights stay the saved ones.
    warm = train(TrainConfig(**SMALL, init_from=str(folder), denoiser="shallow_unet", denoiser_epochs=0,
                             learning_rate=1e-9, output_dir=str(tmp_path / "warm")))
    cold = train(TrainConfig(**SMALL, denoiser="none", learning_rate=1e-9, output_dir=str(tmp_path / "cold")))
    for a, b in zip(_trainable(warm.descriptor), _trainable(saved.descriptor)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    for a, b in zip(warm.denoiser.get_weights(), saved.denoiser.get_weights()):
        np.testing.assert_array_equal(a, b)  # zero denoiser epochs: kept exactly
    first_cold, first_saved = _trainable(cold.descriptor)[0], _trainable(saved.descriptor)[0]
    assert np.abs(first_cold - first_saved).max() > 1e-3  # a cold start is a different network


def test_a_folder_that_is_not_a_pipeline_is_refused_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match=r"`init_from` must be a saved pipeline folder .*Received: init_from="):
        TrainConfig(init_from=str(tmp_path))


def test_a_different_architecture_is_refused(tmp_path):
    folder = _saved_pipeline(tmp_path / "l2net", descriptor="l2net")
    with pytest.raises(ConfigError, match=r"holds a L2Net descriptor .*not the configured descriptor='hardnet'"):
        train(TrainConfig(**SMALL, denoiser="none", init_from=str(folder), output_dir=str(tmp_path / "run")))
    with pytest.raises(ConfigError, match=r"has no denoiser to start denoiser='shallow_unet' from"):
        train(TrainConfig(**{**SMALL, "descriptor": "l2net"}, denoiser="shallow_unet", init_from=str(folder),
                          output_dir=str(tmp_path / "run2")))
    with pytest.raises(ConfigError, match=r"holds a ShallowUNet denoiser \(residual=True, input_scale="):
        other = _saved_pipeline(tmp_path / "unet", denoiser="shallow_unet")
        train(TrainConfig(**SMALL, denoiser="coursework_shallow_unet", init_from=str(other),
                          output_dir=str(tmp_path / "run3")))


def test_zero_descriptor_epochs_keep_the_saved_descriptor_and_a_joint_fine_tune_moves_both(tmp_path):
    folder = _saved_pipeline(tmp_path / "saved", denoiser="shallow_unet")
    saved = DescriptorPipeline.load(folder)
    kept = train(TrainConfig(**{**SMALL, "epochs": 0}, init_from=str(folder), denoiser="shallow_unet",
                             denoiser_epochs=0, output_dir=str(tmp_path / "kept")))
    for a, b in zip(kept.descriptor.get_weights(), saved.descriptor.get_weights()):
        np.testing.assert_array_equal(a, b)
    joint = train(TrainConfig(**{**SMALL, "epochs": 0}, init_from=str(folder), denoiser="shallow_unet",
                              denoiser_epochs=0, joint_epochs=1, joint_learning_rate=1e-3,
                              output_dir=str(tmp_path / "joint")))
    assert np.abs(_trainable(joint.descriptor)[0] - _trainable(saved.descriptor)[0]).max() > 1e-5
    assert np.abs(_trainable(joint.denoiser)[0] - _trainable(saved.denoiser)[0]).max() > 1e-5


def test_zero_descriptor_epochs_need_a_warm_start():
    shipped = Path(__file__).resolve().parents[2] / "descriptors" / "weights" / "default"
    with pytest.raises(ConfigError, match=r"`epochs` must be an integer >= 1. Received: epochs=0"):
        TrainConfig(epochs=0)
    with pytest.raises(ConfigError, match=r"`epochs` must be an integer >= 0. Received: epochs=-1"):
        TrainConfig(epochs=-1, init_from=str(shipped))
