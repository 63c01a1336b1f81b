"""One resumable training stage: an epoch loop around `model.fit` with checkpoints, logs and best-model export.

A loss or weight that is not finite (NaN or inf, e.g. from a learning rate far too high) stops the stage with
`TrainingDivergedError` before anything of that epoch is saved: the run folder keeps the checkpoints and best
model of the last finite epoch, and no pipeline is written.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from descriptors.models.pipeline import load_model_file
from descriptors.training.checkpoints import RunState, atomic_save_model
from descriptors.training.optimizers import PlateauState


class TrainingDivergedError(RuntimeError):
    """The training loss or the weights became NaN or infinite; nothing of the diverged epoch was saved."""


class StageProgressBar(keras.callbacks.ProgbarLogger):
    """Keras' per-epoch progress bar without Keras' own "Epoch k/n" line.

    A stage calls ``fit`` once per epoch (``initial_epoch=k-1, epochs=k``) and prints ``[stage] epoch k/N`` itself;
    Keras would follow it with a misleading ``Epoch k/k``.
    """

    def set_params(self, params):
        super().set_params(params)
        self.epochs = 1  # ProgbarLogger prints the epoch line only when there is more than one


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Like `keras.callbacks.TerminateOnNaN`, but remembers where the loss became NaN/inf so the stage can fail.

    It is dispatched asynchronously (``async_safe``), so it adds no host sync per batch: the loss is read in
    Keras' callback thread and training stops a few batches later at most (the epoch end waits for it).

    Attributes:
        found: ``(epoch, batch, loss)`` of the first non-finite batch loss, or None.
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.found = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and self.found is None and not math.isfinite(float(loss)):
            self.found = (self.epoch, batch, float(loss))
            self.model.stop_training = True


@dataclasses.dataclass
class Stage:
    """What a stage trains and on what.

    Attributes:
        name: stage name (file names in the run folder).
        build_model: returns a freshly built, compiled training model (called when there is no checkpoint).
        train_batches: epoch -> the `PyDataset` of that epoch (must be a pure function of the epoch).
        val_batches: the fixed validation `PyDataset`.
        epochs: number of epochs.
        export: training model -> the model saved as ``<name>.keras`` when validation improves.
        plateau: reduce the learning rate on validation plateaus.
    """

    name: str
    build_model: Callable[[], keras.Model]
    train_batches: Callable[[int], keras.utils.PyDataset]
    val_batches: keras.utils.PyDataset
    epochs: int
    export: Callable[[keras.Model], keras.Model]
    plateau: bool = False


def _seed_states(model) -> list:
    """Values of the random-seed variables of ``model`` (dropout masks...): `.keras` files do not store them."""
    return [keras.ops.convert_to_numpy(v).tolist() for v in model.variables if "seed_generator_state" in v.path]


def _restore_seed_states(model, values) -> None:
    variables = [v for v in model.variables if "seed_generator_state" in v.path]
    if values is None or len(values) != len(variables):
        return
    for variable, value in zip(variables, values):
        variable.assign(keras.ops.convert_to_tensor(value, dtype=variable.dtype))


def _diverged(stage: Stage, where: str) -> TrainingDivergedError:
    return TrainingDivergedError(
        f"training diverged in the {stage.name} stage: {where}. Nothing of that epoch was saved and no pipeline "
        "was written; lower the learning rate (or check the data) and start a new run")


def non_finite_weight(model) -> str | None:
    """The path of the first floating-point variable of ``model`` holding NaN or inf, or None when all are finite."""
    for variable in model.weights:
        value = keras.ops.convert_to_numpy(variable)
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            return variable.path
    return None


def run_stage(stage: Stage, run_dir: Path, state: RunState, verbose: int = 1) -> keras.Model:
    """Runs (or resumes) ``stage`` and returns its best exported model.

    A stage already finished in ``state`` is not run again: its best model is loaded from the run folder.

    Raises:
        TrainingDivergedError: a batch loss, the validation loss or a weight became NaN or infinite.
        ModelFileError: a checkpoint or best model of the run folder cannot be loaded (named in the message).
    """
    run_dir = Path(run_dir)
    best_path = run_dir / f"{stage.name}.keras"
    recorded = state.stage(stage.name)
    if recorded.get("done") and best_path.is_file():
        return load_model_file(best_path, compile=False)
    start = int(recorded.get("epochs_done", 0))
    if start:
        model = load_model_file(run_dir / recorded["checkpoint"], compile=True)
        _restore_seed_states(model, recorded.get("seed_states"))
        if verbose:
            print(f"[{stage.name}] resuming after epoch {start}/{stage.epochs}", flush=True)
    else:
        model = stage.build_model()
    best = recorded.get("best_val")
    plateau = PlateauState(**recorded.get("plateau", {})) if stage.plateau else None
    nan_guard = StopOnNonFiniteLoss()
    callbacks = [
        nan_guard,
        keras.callbacks.CSVLogger(str(run_dir / f"{stage.name}_log.csv"), append=True),
    ]
    if keras.config.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard" / stage.name), write_graph=False))
    if verbose:
        callbacks.append(StageProgressBar())
    for epoch in range(start, stage.epochs):
        if verbose:
            print(f"[{stage.name}] epoch {epoch + 1}/{stage.epochs}", flush=True)
        history = model.fit(
            stage.train_batches(epoch),
            validation_data=stage.val_batches,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,  # batches are already a seeded function of the epoch; Keras' shuffle uses global state
            callbacks=callbacks,
            verbose=verbose,
        )
        if nan_guard.found is not None:
            epoch_found, batch, loss = nan_guard.found
            raise _diverged(stage, f"the loss became {loss} at epoch {epoch_found + 1}, batch {batch + 1}")
        train_loss = float(history.history["loss"][-1])  # the epoch's mean: NaN if any batch was
        if not math.isfinite(train_loss):
            raise _diverged(stage, f"the loss became {train_loss} in epoch {epoch + 1}")
        val_loss = float(history.history["val_loss"][-1])
        if not math.isfinite(val_loss):
            raise _diverged(stage, f"the validation loss became {val_loss} at epoch {epoch + 1}")
        bad = non_finite_weight(model)
        if bad is not None:
            raise _diverged(stage, f"the weights {bad!r} are not finite after epoch {epoch + 1}")
        if plateau is not None:
            plateau.update(val_loss, model.optimizer)
        if best is None or val_loss < best:
            best = val_loss
            atomic_save_model(stage.export(model), best_path)
        extra = {"best_val": best, "seed_states": _seed_states(model)}
        if plateau is not None:
            extra["plateau"] = plateau.to_dict()
        state.record_epoch(stage.name, model, epoch, **extra)
    if not best_path.is_file():  # zero epochs: export the untrained model
        atomic_save_model(stage.export(model), best_path)
    state.mark_done(stage.name)
    return load_model_file(best_path, compile=False)  # inference models: no optimizer state
