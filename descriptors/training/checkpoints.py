"""Run-folder bookkeeping: atomic writes, per-epoch checkpoints and the resumable run state.

Layout of a run folder::

    .patch-descriptors.json          the marker of a run folder written by this tool (kind "run")
    config.json                      the resolved TrainConfig
    state.json                       per stage: epochs done, checkpoint file, best validation loss, plateau state
    checkpoints/<stage>-epoch<k>.keras   the training model (weights + optimizer) after epoch k; only the newest kept
    <stage>.keras                    the best model of the stage by validation loss
    <stage>_log.csv, tensorboard/    per-epoch logs

A checkpoint is written under its final, epoch-numbered name before ``state.json`` points at it, and
``state.json`` itself is replaced atomically, so a kill at any moment leaves a consistent state that loses at
most the epoch in progress. A folder damaged otherwise (a ``state.json`` or checkpoint truncated or edited by
hand, a disk that filled up) is refused by `RunState` / `RunState.check_files` with `RunFolderError` naming the
file, before any work.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from pathlib import Path

from hpatches_eval.output_safety import new_temp_file


class RunFolderError(ValueError):
    """A run folder cannot be resumed: its ``state.json``, ``config.json`` or a model file in it is damaged."""


def atomic_write_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = new_temp_file(path, suffix=".tmp")
    try:
        with open(temp, "w") as stream:
            stream.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def atomic_save_model(model, path: Path) -> None:
    """Saves a Keras model to ``path`` (.keras) through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(temp)
    os.replace(temp, path)


class RunState:
    """The resumable state of a run folder (``state.json``)."""

    def __init__(self, run_dir: Path):
        """Reads ``run_dir/state.json`` (empty state when absent).

        Raises:
            RunFolderError: ``state.json`` is not valid JSON of the expected shape (named in the message).
        """
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "state.json"
        self.stages = _read_state(self.path) if self.path.exists() else {}

    def check_files(self) -> None:
        """Checks that every model file a resume will load is a complete `.keras` archive (CRC-checked).

        Raises:
            RunFolderError: a checkpoint or best model is missing, truncated or damaged (named in the message).
        """
        for name, recorded in self.stages.items():
            best = self.run_dir / f"{name}.keras"
            if best.exists():
                _check_archive(best, self.run_dir)
            if recorded.get("epochs_done", 0) and not (recorded.get("done") and best.is_file()):
                _check_archive(self.run_dir / recorded["checkpoint"], self.run_dir)

    def stage(self, name: str) -> dict:
        """The recorded state of stage ``name`` (empty dict when it has not started)."""
        return dict(self.stages.get(name, {}))

    def record_epoch(self, name: str, model, epoch: int, **extra) -> None:
        """Checkpoints ``model`` after (0-based) ``epoch`` and records it, deleting the previous checkpoint."""
        previous = self.stages.get(name, {}).get("checkpoint")
        checkpoint = self.run_dir / "checkpoints" / f"{name}-epoch{epoch + 1}.keras"
        atomic_save_model(model, checkpoint)
        self.stages[name] = {**self.stages.get(name, {}), **extra, "epochs_done": epoch + 1,
                             "checkpoint": str(checkpoint.relative_to(self.run_dir))}
        atomic_write_text(self.path, json.dumps(self.stages, indent=2))
        if previous and previous != self.stages[name]["checkpoint"]:
            (self.run_dir / previous).unlink(missing_ok=True)

    def mark_done(self, name: str, **extra) -> None:
        self.stages[name] = {**self.stages.get(name, {}), **extra, "done": True}
        atomic_write_text(self.path, json.dumps(self.stages, indent=2))


def _damaged(run_dir: Path, path: Path, problem: str) -> RunFolderError:
    return RunFolderError(f"Cannot resume the run in {str(run_dir)!r}: {str(path)!r} {problem}. Start a new run "
                          "(another --output-dir), or remove that run folder and train again.")


def _read_state(path: Path) -> dict:
    """The stages recorded in ``state.json``, checked: {stage: {"epochs_done": int >= 0, "checkpoint": str, ...}}."""
    run_dir = path.parent
    try:
        stages = json.loads(path.read_text())
    except (OSError, ValueError) as error:  # ValueError: not JSON (e.g. truncated), not UTF-8
        raise _damaged(run_dir, path, f"is not valid JSON ({' '.join(str(error).split())})") from error
    if not isinstance(stages, dict):
        raise _damaged(run_dir, path, f"must hold a JSON object of stages, not {type(stages).__name__}")
    for name, recorded in stages.items():
        epochs = recorded.get("epochs_done", 0) if isinstance(recorded, dict) else None
        if not isinstance(recorded, dict) or isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise _damaged(run_dir, path, f"has an invalid entry for the stage {name!r}: {recorded!r}"[:300])
        checkpoint = recorded.get("checkpoint")
        if epochs and (not isinstance(checkpoint, str) or Path(checkpoint).is_absolute()
                       or ".." in Path(checkpoint).parts or not checkpoint.endswith(".keras")):
            raise _damaged(run_dir, path, f"names an invalid checkpoint for the stage {name!r}: {checkpoint!r}")
    return stages


def _check_archive(path: Path, run_dir: Path) -> None:
    """Raises RunFolderError unless ``path`` is a complete zip archive whose members pass their CRC check."""
    if not path.is_file():
        raise _damaged(run_dir, path, "is missing")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error) as error:
        raise _damaged(run_dir, path, f"is not a complete .keras archive (truncated or damaged: {error})") from error
    if bad is not None:
        raise _damaged(run_dir, path, f"is damaged (member {bad!r} fails its CRC check)")
