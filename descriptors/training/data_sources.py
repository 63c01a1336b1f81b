"""Resolves the config's data options to patch sources, a split and a task folder."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from descriptors.errors import ConfigError
from hpatches_eval.splits import Split, get_split

PATCH_SIZE = 32


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """Where a run reads its patches.

    Attributes:
        clean: patch source of clean 32 px patches (None when the data has none).
        noisy: patch source of noisy 32 px patches (None when the data has none).
        split: the split; training uses ``split.train``, evaluation ``split.test``.
        tasks_dir: folder of official-format task files for evaluation (None: matching only).
        description: a short human-readable name of the data.
    """

    clean: object
    noisy: object
    split: Split
    tasks_dir: Path | None
    description: str

    def source(self, inputs: str):
        """The patch source for ``inputs`` ('clean' or 'noisy')."""
        chosen = self.clean if inputs == "clean" else self.noisy
        if chosen is None:
            raise ConfigError(f"The data {self.description!r} has no {inputs} patches.")
        return chosen


def _built_dataset(root: Path, split_name: str | None, description: str) -> TrainingData:
    from descriptors.data.formats import HPatchesRelease

    patches_dir, tasks_dir = root / "nhpatches", root / "tasks"
    splits_file = tasks_dir / "splits" / "splits.json"
    for needed in (patches_dir, splits_file):
        if not needed.exists():
            raise ConfigError(f"{root} is not a dataset built by descriptors.data.build: {needed} is missing.")
    if split_name is None:
        names = list(json.loads(splits_file.read_text()))
        split_name = names[0]
    split = get_split(split_name, splits_file)
    return TrainingData(
        clean=HPatchesRelease(patches_dir, noisy=False),
        noisy=HPatchesRelease(patches_dir, noisy=True),
        split=split,
        tasks_dir=tasks_dir,
        description=description,
    )


def resolve_training_data(config) -> TrainingData:
    """Opens the patch sources named by ``config`` (a `TrainConfig`). Builds the default dataset if needed."""
    if config.data == "default":
        from descriptors.data.default import default_dataset

        return _built_dataset(Path(default_dataset()), config.split, "default")
    if config.data not in ("hpatches", "nhpatches"):
        return _built_dataset(Path(config.data), config.split, str(config.data))

    from descriptors.data.formats import HPatchesRelease

    root = Path(config.data_dir)
    if not root.is_dir():
        raise ConfigError(f"`data_dir` must be an existing folder. Received: data_dir={str(root)!r}")
    split = get_split(config.split or "a")
    tasks_dir = Path(config.tasks_dir) if config.tasks_dir else None
    if config.data == "hpatches":
        clean = HPatchesRelease(root, noisy=False, size=PATCH_SIZE)
        return TrainingData(clean=clean, noisy=None, split=split, tasks_dir=tasks_dir, description="hpatches")
    return TrainingData(
        clean=HPatchesRelease(root, noisy=False, size=PATCH_SIZE),
        noisy=HPatchesRelease(root, noisy=True, size=PATCH_SIZE),
        split=split,
        tasks_dir=tasks_dir,
        description="nhpatches",
    )
