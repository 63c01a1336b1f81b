"""`python -m descriptors.train` never prints a flagged HPatches score bare."""

from pathlib import Path

import descriptors.training.trainer as trainer_module
from descriptors.train import main
from descriptors.training.config import TrainConfig
from descriptors.training.trainer import RunResult

SUMMARY = {"verification": 0.9, "matching": 0.6, "retrieval": 0.8, "mean": 0.7667}


def _fake_train(flags):
    def train(config):
        return RunResult(run_dir=Path("runs/x"), config=config, denoiser=None, descriptor=None,
                         summary=dict(SUMMARY), flags=flags)

    return train


def test_flags_of_the_evaluation_are_printed_with_the_scores(monkeypatch, capsys):
    flags = [{"code": "retrieval_short_pools", "message": "m"}, {"code": "collapsed_sequences", "message": "c"},
             {"code": "retrieval_short_pools", "message": "m2"}]
    monkeypatch.setattr(trainer_module, "train", _fake_train(flags))
    assert main(["--epochs", "1", "--output-dir", "runs/x"]) == 0
    line = [text for text in capsys.readouterr().out.splitlines() if text.startswith("HPatches mAP")][0]
    assert line.endswith("mean 0.7667  [FLAGGED: collapsed_sequences, retrieval_short_pools; see "
                         f"{Path('runs/x') / 'results.json'}]")


def test_unflagged_scores_print_plainly(monkeypatch, capsys):
    monkeypatch.setattr(trainer_module, "train", _fake_train([]))
    assert main(["--epochs", "1", "--output-dir", "runs/x"]) == 0
    line = [text for text in capsys.readouterr().out.splitlines() if text.startswith("HPatches mAP")][0]
    assert line.endswith("mean 0.7667") and TrainConfig().epochs == 10
