"""A NaN/inf loss stops training with a clear message and saves no pipeline (every stage: `run_stage` is shared)."""

import json

import keras
import numpy as np
import pytest

from descriptors import train as train_cli
from descriptors.models.pipeline import DescriptorPipeline
from descriptors.models.registry import build_denoiser, build_descriptor
from descriptors.training.checkpoints import RunState
from descriptors.training.config import TrainConfig
from descriptors.training.stage import Stage, TrainingDivergedError, non_finite_weight, run_stage
from descriptors.training import trainer as trainer_module
from descriptors.training.trainer import train

TINY = dict(batch_size=32, tuples_per_epoch=64, val_tuples=32, max_train_tracks=100,
            evaluate=False, verbose=0, seed=3)


class _Batches(keras.utils.PyDataset):
    """Three batches of a linear regression; batch ``nan_batch`` holds a NaN input (None: all finite)."""

    def __init__(self, nan_batch=None):
        super().__init__()
        rng = np.random.default_rng(0)
        self.x = rng.normal(size=(3, 8, 4)).astype("float32")
        self.y = self.x.sum(axis=-1, keepdims=True)
        if nan_batch is not None:
            self.x[nan_batch, 0, 0] = np.nan

    def __len__(self):
        return 3

    def __getitem__(self, index):
        return self.x[index], self.y[index]


def _tiny_stage(nan_epoch, nan_batch=1, epochs=3):
    def build():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        return model

    return Stage(name="denoiser", build_model=build, epochs=epochs, export=lambda model: model,
                 train_batches=lambda epoch: _Batches(nan_batch if epoch == nan_epoch else None),
                 val_batches=_Batches())


def test_a_nan_batch_loss_stops_the_stage_before_anything_of_that_epoch_is_saved(tmp_path):
    with pytest.raises(TrainingDivergedError, match=r"^training diverged in the denoiser stage: the loss became nan at "
                                                    r"epoch 2, batch 2\. Nothing of that epoch was saved and no "
                                                    r"pipeline was written"):
        run_stage(_tiny_stage(nan_epoch=1), tmp_path, RunState(tmp_path), verbose=0)
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["denoiser"]["epochs_done"] == 1 and not state["denoiser"].get("done")
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["denoiser-epoch1.keras"]
    best = keras.saving.load_model(tmp_path / "denoiser.keras")  # the last finite epoch's model, finite
    assert non_finite_weight(best) is None
    assert (tmp_path / "denoiser_log.csv").read_text().count("\n") == 3  # header, epoch 1, the diverged epoch 2
    # The same stage without the NaN batch runs to the end: the guard does not fire on finite losses.
    (tmp_path / "ok").mkdir()
    run_stage(_tiny_stage(nan_epoch=None), tmp_path / "ok", RunState(tmp_path / "ok"), verbose=0)
    assert json.loads((tmp_path / "ok" / "state.json").read_text())["denoiser"]["epochs_done"] == 3


def test_a_nan_in_the_first_epoch_saves_no_model_at_all(tmp_path):
    with pytest.raises(TrainingDivergedError, match=r"the loss became nan at epoch 1, batch 1"):
        run_stage(_tiny_stage(nan_epoch=0, nan_batch=0), tmp_path, RunState(tmp_path), verbose=0)
    assert not (tmp_path / "denoiser.keras").exists() and not (tmp_path / "state.json").exists()
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").iterdir())


def test_non_finite_weight_names_the_variable():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="head")])
    assert non_finite_weight(model) is None
    kernel = model.get_layer("head").kernel
    kernel.assign(np.where(np.eye(4, 2) > 0, np.inf, 0.0).astype("float32"))
    assert non_finite_weight(model) == kernel.path


@pytest.fixture
def few_sequences(monkeypatch):
    """Training reads only the first two training sequences (the runs below only need a few hundred tracks)."""
    real = trainer_module.load_tracks
    monkeypatch.setattr(trainer_module, "load_tracks", lambda source, names, *a, **k: real(source, names[:2], *a, **k))


def test_cli_divergence_exits_1_with_one_line_and_no_pipeline(default_dataset_root, tmp_path, capsys, few_sequences):
    run = tmp_path / "run"
    argv = ["--data", str(default_dataset_root), "--denoiser", "none", "--epochs", "2", "--batch-size", "32",
            "--tuples-per-epoch", "64", "--val-tuples", "32", "--max-train-tracks", "100", "--no-evaluate",
            "--verbose", "0", "--learning-rate", "1e30", "--output-dir", str(run)]
    assert train_cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m descriptors.train: error: training diverged in the "
                                               "descriptor stage: the ")
    assert "no pipeline was written" in err[0] and "Traceback" not in err[0]
    assert not (run / "pipeline").exists() and not (run / "descriptor.keras").exists()
    assert not (run / "state.json").exists()  # the first epoch diverged: no checkpoint recorded


@pytest.fixture
def saved_pipeline(tmp_path):
    keras.utils.set_random_seed(11)
    saved = DescriptorPipeline(build_descriptor("coursework_baseline"),
                               denoiser=build_denoiser("coursework_shallow_unet"))
    saved.describe(np.zeros((1, 32, 32), np.uint8), verbose=False)
    return str(saved.save(tmp_path / "saved"))


def _warm(default_dataset_root, saved_pipeline, tmp_path, **options):
    """A run that only exports the warm-start models (0 epochs: no fit) plus ``options``."""
    return TrainConfig(**{**TINY, "epochs": 0, "max_train_tracks": 20}, data=str(default_dataset_root),
                       descriptor="coursework_baseline", init_from=saved_pipeline, denoiser="coursework_shallow_unet",
                       denoiser_epochs=0, inputs="clean", output_dir=str(tmp_path / "run"), **options)


def test_a_diverged_joint_stage_writes_no_pipeline(default_dataset_root, saved_pipeline, tmp_path, monkeypatch,
                                                   few_sequences):
    # The joint stage runs through the same `run_stage` as the tests above; here its divergence is simulated
    # (a real joint fit costs ~20 s of graph tracing) to check that the run then writes no pipeline.
    real_run_stage = trainer_module.run_stage

    def diverging_joint(stage, *args, **kwargs):
        if stage.name == "joint":
            raise TrainingDivergedError("training diverged in the joint stage: simulated")
        return real_run_stage(stage, *args, **kwargs)

    monkeypatch.setattr(trainer_module, "run_stage", diverging_joint)
    with pytest.raises(TrainingDivergedError, match=r"training diverged in the joint stage"):
        train(_warm(default_dataset_root, saved_pipeline, tmp_path, joint_epochs=1))
    run = tmp_path / "run"
    assert not (run / "pipeline").exists()
    state = json.loads((run / "state.json").read_text())
    assert state["denoiser"]["done"] and state["descriptor"]["done"] and "joint" not in state


def test_the_pipeline_is_never_saved_from_non_finite_weights(default_dataset_root, saved_pipeline, tmp_path,
                                                             monkeypatch, few_sequences):
    # Defence in depth: whatever a stage returns, a model with a non-finite weight is not saved as a pipeline.
    real_run_stage = trainer_module.run_stage

    def poisoned(stage, *args, **kwargs):
        model = real_run_stage(stage, *args, **kwargs)
        if stage.name == "descriptor":
            model.weights[0].assign(np.full(model.weights[0].shape, np.nan, "float32"))
        return model

    monkeypatch.setattr(trainer_module, "run_stage", poisoned)
    with pytest.raises(TrainingDivergedError, match=r"the trained descriptor has non-finite weights \('.*'\); no "
                                                    r"pipeline was written"):
        train(_warm(default_dataset_root, saved_pipeline, tmp_path))
    assert not (tmp_path / "run" / "pipeline").exists()
    assert (tmp_path / "run" / "descriptor.keras").is_file()  # the control: the stages themselves did run
