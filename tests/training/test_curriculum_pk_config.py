"""OPMS difficulty schedule, curriculum batches, PK sampling, and the new config options / CLI flags."""

import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.train import config_from_args
from descriptors.training.config import TrainConfig
from descriptors.training.curriculum import CurriculumBatches, opms_difficulty
from descriptors.training.pk_sampling import pk_batches
from hpatches_eval.cli_contract import UsageError


def test_opms_difficulty_is_linear_in_the_epoch():
    assert [opms_difficulty(e, 5, 0.2) for e in range(5)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert opms_difficulty(0, 1, 0.2) == 1.0 and opms_difficulty(9, 3, 0.5) == 1.0
    with pytest.raises(ConfigError, match=r"`start` must be in \[0, 1\]"):
        opms_difficulty(0, 3, 1.5)
    with pytest.raises(ConfigError, match="`epochs` must be >= 1"):
        opms_difficulty(0, 0)


def test_curriculum_batches_append_the_difficulty():
    inner = [(np.zeros((2, 2, 1)), np.array([3.0, 4.0]))]
    out = CurriculumBatches(inner, 0.4)
    x, y = out[0]
    assert len(out) == 1 and y.tolist() == [[3.0, 0.4000000059604645], [4.0, 0.4000000059604645]]


def test_pk_batches_distinct_tracks_and_views():
    plan = pk_batches(10, 20, 5, 4, np.random.default_rng(0))
    assert plan.shape == (20, 4, 2)
    for batch in plan.reshape(4, 5, 4, 2):
        assert len(set(batch[:, 0, 0])) == 5
    assert all(len(set(row[:, 1])) == 4 and len(set(row[:, 0])) == 1 for row in plan)
    with pytest.raises(ValueError, match=r"`views` must be in 2..16"):
        pk_batches(10, 20, 5, 17, np.random.default_rng(0))


def test_config_new_options():
    config = TrainConfig(loss="triplet_margin", miner="opms", views_per_track=4)
    assert config.sampling_kind == "pairs" and config.tuple_arity == 4
    assert TrainConfig(loss="snr").tuple_arity == 3 and TrainConfig(loss="supcon").sampling_kind == "pairs"
    with pytest.raises(ConfigError, match="`miner` works with the losses"):
        TrainConfig(loss="supcon", miner="batch_hard")
    with pytest.raises(ConfigError, match=r"`views_per_track` must be 2 for loss='ntxent'\. Received: views_per_track=3"):
        TrainConfig(loss="ntxent", views_per_track=3)
    with pytest.raises(ConfigError, match="`views_per_track` > 2 needs a view loss"):
        TrainConfig(loss="triplet_margin", views_per_track=3)
    with pytest.raises(ConfigError, match="A mined loss supports distance 'l2' or 'sql2'"):
        TrainConfig(loss="triplet_margin", miner="batch_hard", distance="mean_squared")
    with pytest.raises(ConfigError, match=r"`views_per_track` must be an integer in \[2, 16\]\. Received: views_per_track=17"):
        TrainConfig(loss="supcon", views_per_track=17)
    with pytest.raises(ConfigError, match=r"`difficulty_start` must be a finite number in \[0, 1\]"):
        TrainConfig(difficulty_start=2.0)
    with pytest.raises(ConfigError, match="`distribute` must be one of"):
        TrainConfig(distribute="horovod")


def test_cli_flags_reach_the_config():
    config = config_from_args(["--loss", "snr", "--miner", "semi_hard", "--views-per-track", "3",
                               "--temperature", "0.2", "--distribute", "mirrored"])
    assert (config.loss, config.miner, config.views_per_track, config.temperature, config.distribute) == (
        "snr", "semi_hard", 3, 0.2, "mirrored")
    with pytest.raises(UsageError, match=r"argument --miner: invalid choice: 'hardest'"):
        config_from_args(["--miner", "hardest"])
