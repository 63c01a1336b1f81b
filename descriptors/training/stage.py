"""One resumable training stage: an epoch loop around `model.fit` with checkpoints, logs and best-model export."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import keras

from descriptors.training.checkpoints import RunState, atomic_save_model
from descriptors.training.optimizers import PlateauState


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


def run_stage(stage: Stage, run_dir: Path, state: RunState, verbose: int = 1) -> keras.Model:
    """Runs (or resumes) ``stage`` and returns its best exported model.

    A stage already finished in ``state`` is not run again: its best model is loaded from the run folder.
    """
    run_dir = Path(run_dir)
    best_path = run_dir / f"{stage.name}.keras"
    recorded = state.stage(stage.name)
    if recorded.get("done") and best_path.is_file():
        return keras.saving.load_model(best_path, compile=False)
    start = int(recorded.get("epochs_done", 0))
    if start:
        model = keras.saving.load_model(run_dir / recorded["checkpoint"])
        _restore_seed_states(model, recorded.get("seed_states"))
        if verbose:
            print(f"[{stage.name}] resuming after epoch {start}/{stage.epochs}", flush=True)
    else:
        model = stage.build_model()
    best = recorded.get("best_val")
    plateau = PlateauState(**recorded.get("plateau", {})) if stage.plateau else None
    callbacks = [
        keras.callbacks.CSVLogger(str(run_dir / f"{stage.name}_log.csv"), append=True),
    ]
    if keras.config.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(str(run_dir / "tensorboard" / stage.name), write_graph=False))
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
        val_loss = float(history.history["val_loss"][-1])
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
    return keras.saving.load_model(best_path, compile=False)  # inference models: no optimizer state
