"""Learning-rate schedules (values at given steps), AdamW and the reduce-on-plateau state."""

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.training.optimizers import PlateauState, build_optimizer, build_schedule


def _at(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_warmup_cosine_values():
    schedule = build_schedule("warmup_cosine", 1.0, 100, warmup_fraction=0.1)  # 10 warm-up, 90 cosine
    assert _at(schedule, 0) == pytest.approx(0.0)
    assert _at(schedule, 5) == pytest.approx(0.5)
    assert _at(schedule, 10) == pytest.approx(1.0)
    assert _at(schedule, 55) == pytest.approx(0.5 * (1 + np.cos(np.pi * 45 / 90)), abs=1e-6)
    assert _at(schedule, 100) == pytest.approx(0.0, abs=1e-7)


def test_linear_decay_and_constant():
    schedule = build_schedule("linear_decay", 0.2, 10)
    assert [_at(schedule, s) for s in (0, 5, 10, 20)] == pytest.approx([0.2, 0.1, 0.0, 0.0], abs=1e-7)
    assert build_schedule("constant", 0.3, 10) == 0.3 and build_schedule("reduce_on_plateau", 0.3, 10) == 0.3
    with pytest.raises(ConfigError, match="`schedule` is unknown"):
        build_schedule("step", 0.1, 10)


def test_adamw_decays_weights_decoupled():
    optimizer = build_optimizer("adamw", 0.1, weight_decay=0.5)
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 0.5
    variable = keras.Variable(np.ones(2, np.float32))
    optimizer.apply_gradients([(keras.ops.zeros(2), variable)])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), [0.95, 0.95], rtol=1e-6)  # 1 - lr * wd
    with pytest.raises(ConfigError, match="`optimizer` is unknown"):
        build_optimizer("lamb", 0.1)


def test_plateau_halves_after_patience():
    optimizer = keras.optimizers.Adam(0.1)
    plateau = PlateauState(patience=2)
    for val in (1.0, 1.0, 1.0, 0.5, 0.6, 0.7):
        plateau.update(val, optimizer)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.025)
    assert plateau.to_dict() == {"best": 0.5, "wait": 0}


def test_denoiser_momentum_is_separate_from_the_descriptor_momentum():
    # the coursework recipe: denoiser SGD with nesterov momentum 0.9, descriptor SGD without momentum
    from descriptors.data.patch_tracks import PatchTracks
    from descriptors.training.config import TrainConfig
    from descriptors.training.trainer import _denoiser_stage

    tracks = PatchTracks(np.zeros((4, 16, 32, 32), np.uint8), np.zeros(4, np.int32), ("v_toy",))
    ids = (np.arange(3), np.arange(3, 4))
    for denoiser_momentum, expected in ((0.9, 0.9), (None, 0.0)):
        config = TrainConfig(denoiser="coursework_shallow_unet", denoiser_optimizer="sgd",
                             denoiser_momentum=denoiser_momentum, optimizer="sgd", momentum=0.0)
        optimizer = _denoiser_stage(config, tracks, tracks, *ids).build_model().optimizer
        assert optimizer.momentum == pytest.approx(expected)
        assert optimizer.nesterov == (expected > 0)
