"""The training run on real default-dataset patches: learning happens, runs resume exactly, outputs are complete."""

import json

import keras
import numpy as np
import pytest

from descriptors.data.formats import HPatchesRelease
from descriptors.data.patch_tracks import load_tracks
from descriptors.errors import ConfigError
from descriptors.losses.registry import build_loss
from descriptors.models.registry import build_descriptor
from descriptors.training.batches import TupleBatches, epoch_rng, plan_tuples
from descriptors.training.checkpoints import RunState
from descriptors.training.config import TrainConfig
from descriptors.training.trainer import PATCH_STORE, train
from descriptors.training.tuple_encoder import TupleEncoder

SMALL = dict(
    denoiser="none", descriptor="hardnet", epochs=2, batch_size=32, tuples_per_epoch=256, val_tuples=64,
    max_train_tracks=400, evaluate=False, verbose=0, seed=3,
)


@pytest.fixture(scope="module")
def train_tracks(default_dataset_root):
    source = HPatchesRelease(default_dataset_root / "nhpatches", noisy=True)
    splits = json.loads((default_dataset_root / "tasks" / "splits" / "splits.json").read_text())
    return load_tracks(source, splits["default"]["train"][:4], verbose=False)


# One loss per sampling path (pair batches, random triplets); every loss's values are oracle-tested in tests/losses.
@pytest.mark.parametrize("loss_name", ["hardest_in_batch", "triplet_margin"])
def test_training_steps_lower_the_loss_on_real_patches(train_tracks, loss_name):
    keras.utils.set_random_seed(0)
    arity = 2 if loss_name == "hardest_in_batch" else 3
    sampling = "pairs" if arity == 2 else "random_triplets"
    plan = plan_tuples(train_tracks.num_tracks, 64, 64, arity, sampling, epoch_rng(0, 0))
    batch = TupleBatches(train_tracks.patches, plan, batch_size=64)[0]
    model = TupleEncoder(build_descriptor("hardnet", dropout=0.0))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=build_loss(loss_name))
    losses = [float(model.train_on_batch(*batch)) for _ in range(12)]  # training-mode loss before each step
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


def test_tuple_batches_carry_anchor_track_ids(train_tracks):
    plan = plan_tuples(train_tracks.num_tracks, 64, 32, 2, "pairs", epoch_rng(0, 0))
    x, y = TupleBatches(train_tracks.patches, plan, batch_size=32)[1]
    assert x.shape == (32, 2, 32, 32, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(y, plan[32:64, 0, 0])
    np.testing.assert_array_equal(x[5, 1, ..., 0], train_tracks.patches[plan[37, 1, 0], plan[37, 1, 1]])


def test_run_writes_config_logs_checkpoints_and_pipeline(tmp_path):
    result = train(TrainConfig(**SMALL, output_dir=str(tmp_path / "run")))
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text()) == result.config.to_dict()
    state = json.loads((run / "state.json").read_text())
    assert state["descriptor"]["epochs_done"] == 2 and state["descriptor"]["done"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["descriptor-epoch2.keras"]
    log = (run / "descriptor_log.csv").read_text().strip().splitlines()
    assert log[0].startswith("epoch") and len(log) == 3
    assert (run / "pipeline" / "pipeline.json").is_file() and (run / "descriptor.keras").is_file()
    machine = json.loads((run / "machine.json").read_text())["starts"]
    assert len(machine) == 1 and machine[0]["keras_backend"] == keras.config.backend()
    assert machine[0]["deterministic"] is True and machine[0]["packages"]["keras"] == keras.__version__
    assert machine[0]["cpu"]["count"] >= 1 and isinstance(machine[0]["cpu"]["flags"], list)
    with pytest.raises(ConfigError, match="already holds a run: pass --resume"):
        train(TrainConfig(**SMALL, output_dir=str(run)))
    with pytest.raises(ConfigError, match=r"Cannot resume .* with different options \['epochs'\]"):
        train(TrainConfig(**{**SMALL, "epochs": 3}, output_dir=str(run), resume=True))


def test_resume_after_an_interruption_gives_the_same_weights(tmp_path, monkeypatch):
    straight = train(TrainConfig(**SMALL, output_dir=str(tmp_path / "straight")))

    original = RunState.record_epoch

    def record_then_die(self, name, model, epoch, **extra):
        original(self, name, model, epoch, **extra)
        if epoch == 0:  # killed right after the first epoch's checkpoint
            raise KeyboardInterrupt

    monkeypatch.setattr(RunState, "record_epoch", record_then_die)
    # The interrupted run keeps its patches memory-mapped (same numbers; the option does not affect results).
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**SMALL, output_dir=str(tmp_path / "resumed"), memory_map="on"))
    monkeypatch.setattr(RunState, "record_epoch", original)
    state = json.loads((tmp_path / "resumed" / "state.json").read_text())
    assert state["descriptor"]["epochs_done"] == 1
    assert not (tmp_path / "resumed" / PATCH_STORE).exists()  # removed even on an interruption
    resumed = train(TrainConfig(**SMALL, output_dir=str(tmp_path / "resumed"), resume=True, memory_map="on"))
    assert not (tmp_path / "resumed" / PATCH_STORE).exists()

    straight_last = keras.saving.load_model(tmp_path / "straight" / "checkpoints" / "descriptor-epoch2.keras")
    resumed_last = keras.saving.load_model(tmp_path / "resumed" / "checkpoints" / "descriptor-epoch2.keras")
    for a, b in zip(straight_last.get_weights(), resumed_last.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert straight.descriptor.count_params() == resumed.descriptor.count_params()
