"""TrainConfig and the CLI's option handling: precedence, round trips, typed fields, and errors before any work."""

import json
import math

import pytest

from descriptors.embeddings.config import EmbedConfig
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
        ({"epochs": 0}, r"^`epochs` must be an integer >= 1\. Received: epochs=0 \(int\)$"),
        ({"learning_rate": -1.0}, r"`learning_rate` must be a finite number > 0\. Received: learning_rate=-1\.0"),
        ({"data": "/no/such/folder"}, r"`data` must be one of .* or a dataset folder"),
        ({"data": ""}, r"`data` must be one of .* or a dataset folder"),
        ({"data": "nhpatches"}, r"`data_dir` must point at the nhpatches folder"),
        ({"data": "hpatches", "data_dir": "."}, r"hpatches-release has no noisy patches"),
        ({"denoiser": "none", "joint_epochs": 1}, r"`joint_epochs` > 0 needs a denoiser"),
        ({"warmup_fraction": 1.5}, r"`warmup_fraction` must be a finite number in \[0, 1\)"),
        ({"momentum": 1.0}, r"`momentum` must be a finite number in \[0, 1\)\. Received: momentum=1\.0 \(float\)"),
        ({"denoiser_momentum": -0.1}, r"`denoiser_momentum` must be a finite number in \[0, 1\) or null"),
        ({"batch_size": 1}, r"`batch_size` must be an integer >= 2\. Received: batch_size=1"),
        ({"max_train_tracks": 0}, r"`max_train_tracks` must be an integer >= 3 or null \(None\)"),
        ({"seed": -1}, r"`seed` must be an integer in \[0, 4294967295\]\. Received: seed=-1"),
        ({"views_per_track": 17}, r"`views_per_track` must be an integer in \[2, 16\]"),
        ({"loss": "ntxent", "views_per_track": 3}, r"`views_per_track` must be 2 for loss='ntxent'"),
        ({"bogus": 1}, r"Unknown config keys \['bogus'\]"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_message(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(values)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"augment": "no"},
         r"^`augment` must be true or false \(not 0/1 or a string\)\. Received: augment='no' \(str\)$"),
        ({"evaluate": 1}, r"`evaluate` must be true or false .*Received: evaluate=1 \(int\)"),
        ({"resume": 0}, r"`resume` must be true or false .*Received: resume=0 \(int\)"),
        ({"denoiser_residual": "yes"}, r"`denoiser_residual` must be true or false .* or null"),
        ({"epochs": "3"}, r"^`epochs` must be an integer >= 1\. Received: epochs='3' \(str\)$"),
        ({"epochs": 3.0}, r"`epochs` must be an integer >= 1\. Received: epochs=3\.0 \(float\)"),
        ({"epochs": True}, r"`epochs` must be an integer >= 1\. Received: epochs=True \(bool\)"),
        ({"epochs": None}, r"`epochs` must be an integer >= 1\. Received: epochs=None \(NoneType\)"),
        ({"batch_size": 3.5}, r"`batch_size` must be an integer >= 2\. Received: batch_size=3\.5 \(float\)"),
        ({"seed": "abc"}, r"`seed` must be an integer in \[0, 4294967295\]\. Received: seed='abc' \(str\)"),
        ({"learning_rate": math.inf}, r"`learning_rate` must be a finite number > 0\. Received: learning_rate=inf"),
        ({"learning_rate": math.nan}, r"`learning_rate` must be a finite number > 0\. Received: learning_rate=nan"),
        ({"weight_decay": math.inf}, r"`weight_decay` must be a finite number >= 0\. Received: weight_decay=inf"),
        ({"learning_rate": "0.1"}, r"`learning_rate` must be a finite number > 0\. Received: learning_rate='0\.1'"),
        ({"margin": [1.0]}, r"`margin` must be a finite number > 0\. Received: margin=\[1\.0\] \(list\)"),
        ({"loss": {"name": "x"}}, r"`loss` must be a string\. Received: loss=\{'name': 'x'\} \(dict\)"),
        ({"split": 3}, r"`split` must be a string or null \(None\)\. Received: split=3 \(int\)"),
        ({"max_train_tracks": 10.5}, r"`max_train_tracks` must be an integer >= 3 or null"),
    ],
)
def test_every_field_is_checked_by_type_naming_it(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(values)


def test_numbers_are_normalised_and_none_is_kept_where_optional():
    config = TrainConfig.from_dict({"learning_rate": 1, "margin": 2, "max_train_tracks": None, "split": None})
    assert config.learning_rate == 1.0 and type(config.learning_rate) is float
    assert type(config.margin) is float and config.max_train_tracks is None
    assert TrainConfig(learning_rate=1) == TrainConfig(learning_rate=1.0)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"augment": True}, r"`augment` must be a string\. Received: augment=True \(bool\)"),
        ({"tsne": 1}, r"`tsne` must be true or false .*Received: tsne=1 \(int\)"),
        ({"p": "3"}, r"`p` must be an integer >= 2\. Received: p='3' \(str\)"),
        ({"margin": math.nan}, r"`margin` must be a finite number >= 0 or null \(None\)\. Received: margin=nan"),
        ({"momentum": 1.5}, r"`momentum` must be a finite number in \[0, 1\)"),
        ({"magnitude": 0}, r"`magnitude` must be a finite number in \(0, 1\]\. Received: magnitude=0 \(int\)"),
        ({"backbone_options": [1]},
         r"`backbone_options` must be a JSON object \(dict\)\. Received: backbone_options=\[1\]"),
        ({"learning_rate": -math.inf}, r"`learning_rate` must be a finite number > 0"),
        ({"val_fraction": 0}, r"`val_fraction` must be a finite number in \(0, 1\)"),
    ],
)
def test_embed_config_fields_are_checked_by_the_same_validator(values, message):
    with pytest.raises(ConfigError, match=message):
        EmbedConfig.from_dict(values)


def test_flags_are_typed_too(capsys):
    with pytest.raises(ConfigError, match=r"`learning_rate` must be a finite number > 0\. Received: learning_rate=inf"):
        config_from_args(["--learning-rate", "inf"])
    with pytest.raises(ConfigError, match=r"`denoiser_learning_rate` must be a finite number > 0.*=nan"):
        config_from_args(["--denoiser-learning-rate", "nan"])
    assert main(["--learning-rate", "inf"]) == 2
    assert main(["--epochs", "3.5"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("python -m descriptors.train: error: `learning_rate` must be a finite number > 0. "
                      "Received: learning_rate=inf (float)")
    assert err[1].startswith("python -m descriptors.train: error: argument --epochs: invalid int value: '3.5'")


def test_config_file_types_are_checked(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"augment": "no"}')
    with pytest.raises(ConfigError, match=r"`augment` must be true or false"):
        TrainConfig.from_file(path)
    path.write_text('{"learning_rate": NaN}')
    with pytest.raises(ConfigError, match=r"is not valid JSON: NaN is not a JSON number"):
        TrainConfig.from_file(path)
    path.write_text('[1, 2]')
    with pytest.raises(ConfigError, match=r"must hold a JSON object\. Received: list"):
        TrainConfig.from_file(path)


def test_cli_exits_2_on_bad_options_before_any_work(tmp_path, capsys):
    assert main(["--epochs", "0", "--output-dir", str(tmp_path / "run")]) == 2
    assert "`epochs` must be an integer >= 1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # nothing was created
    assert main(["--optimizer", "adagrad"]) == 2
    assert "argument --optimizer: invalid choice: 'adagrad'" in capsys.readouterr().err
    bad_file = tmp_path / "bad.json"
    bad_file.write_text("{not json")
    assert main(["--config", str(bad_file)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


@pytest.mark.parametrize("module_name", ["train", "embed"])
def test_ctrl_c_exits_130_with_the_resume_command(module_name, tmp_path, monkeypatch, capsys):
    import importlib

    cli = importlib.import_module(f"descriptors.{module_name}")
    trainer = importlib.import_module("descriptors.training.trainer" if module_name == "train"
                                      else "descriptors.embeddings.trainer")

    def interrupted(config, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "train" if module_name == "train" else "train_embedding", interrupted)
    run = tmp_path / "run"
    assert cli.main(["--epochs", "2", "--output-dir", str(run)]) == 130
    assert capsys.readouterr().err == (f"python -m descriptors.{module_name}: error: interrupted; continue with: "
                                       f"python -m descriptors.{module_name} --resume --output-dir {run} "
                                       "(and the same options)\n")
