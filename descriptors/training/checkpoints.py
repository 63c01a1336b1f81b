"""Run-folder bookkeeping: atomic writes, per-epoch checkpoints and the resumable run state.

Layout of a run folder::

    config.json                      the resolved TrainConfig
    state.json                       per stage: epochs done, checkpoint file, best validation loss, plateau state
    checkpoints/<stage>-epoch<k>.keras   the training model (weights + optimizer) after epoch k; only the newest kept
    <stage>.keras                    the best model of the stage by validation loss
    <stage>_log.csv, tensorboard/    per-epoch logs

A checkpoint is written under its final, epoch-numbered name before ``state.json`` points at it, and
``state.json`` itself is replaced atomically, so a kill at any moment leaves a consistent state that loses at
most the epoch in progress.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as stream:
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
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "state.json"
        self.stages = json.loads(self.path.read_text()) if self.path.is_file() else {}

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
