"""TrainConfig and the CLI's option handling: precedence, round trips, and errors before any work."""

import json

import pytest

from descriptors.errors import ConfigError
from descriptors.train import config_from_args, main
from descriptors.training.config import TrainConfig


def test_round_trip_through_dict_and_file(tmp_path):
    config = TrainConfig(descriptor="l2net", loss="triplet_ratio", epochs=3, learning_rate=0.01)
    assert TrainConfig.from_dict(config.to_dict()) == config
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert TrainConfig.from_file(path) == config


def test_precedence_defaults_then_file_then_flags(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"epochs": 5, "batch_size": 64, "loss": "triplet_margin"}))
    config = config_from_args(["--config", str(path), "--epochs", "7", "--no-augment"])
    assert config.epochs == 7  # flag beats file
    assert config.batch_size == 64  # file beats default
    assert config.loss == "triplet_margin" and config.augment is False
    assert config.optimizer == TrainConfig().optimizer  # default kept


def test_pair_sampling_is_chosen_for_hardest_in_batch_only():
    assert TrainConfig(loss="hardest_in_batch").sampling_kind == "pairs"
    assert TrainConfig(loss="triplet_margin").sampling_kind == "random_triplets"
    with pytest.raises(ConfigError, match="`sampling='pairs'` has no negatives"):
        TrainConfig(loss="triplet_margin", sampling="pairs")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"loss": "nope"}, r"`loss` must be one of .*Received: loss='nope'"),
        ({"epochs": 0}, r"`epochs` must be > 0. Received: epochs=0"),
        ({"learning_rate": -1.0}, r"`learning_rate` must be > 0"),
        ({"data": "/no/such/folder"}, r"`data` must be one of .* or a dataset folder"),
        ({"data": "nhpatches"}, r"`data_dir` must point at the nhpatches folder"),
        ({"data": "hpatches", "data_dir": "."}, r"hpatches-release has no noisy patches"),
        ({"denoiser": "none", "joint_epochs": 1}, r"`joint_epochs` > 0 needs a denoiser"),
        ({"warmup_fraction": 1.5}, r"`warmup_fraction` must be in \[0, 1\)"),
        ({"momentum": 1.0}, r"`momentum` must be in \[0, 1\)\. Received: momentum=1\.0"),
        ({"denoiser_momentum": -0.1}, r"`denoiser_momentum` must be in \[0, 1\)"),
        ({"batch_size": 1}, r"`batch_size` must be at least 2"),
        ({"bogus": 1}, r"Unknown config keys \['bogus'\]"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_message(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(values)


def test_cli_exits_2_on_bad_options_before_any_work(tmp_path, capsys):
    assert main(["--epochs", "0", "--output-dir", str(tmp_path / "run")]) == 2
    assert "`epochs` must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # nothing was created
    with pytest.raises(SystemExit) as exit_info:
        main(["--optimizer", "adagrad"])
    assert exit_info.value.code == 2
    bad_file = tmp_path / "bad.json"
    bad_file.write_text("{not json")
    assert main(["--config", str(bad_file)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
