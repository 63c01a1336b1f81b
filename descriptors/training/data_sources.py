"""Resolves the config's data options to patch sources, a split and a task folder."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from descriptors.errors import ConfigError, DataFormatError
from descriptors.training.config import BROWN_PREFIX, DEFAULT_DATA_VARIANTS
from hpatches_eval.splits import Split, load_splits

PATCH_SIZE = 32
DEFAULT_SPLIT = "default"  # the split the default dataset's build writes


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


def _choose_split(name: str | None, splits_file: Path | None, description: str, evaluate: bool,
                  default_name: str = "a") -> Split:
    """The named split (the file's first one, or ``default_name`` for official splits, when None), checked.

    Raises:
        ConfigError: the splits file is unreadable, the split is unknown (the known names are listed), it has no
            training sequences, or no test sequences while ``evaluate`` is on.
    """
    try:
        splits = load_splits(splits_file)
    except (OSError, ValueError) as error:
        raise ConfigError(f"The splits of the data {description!r} cannot be read: {error}") from error
    if name is None:
        name = next(iter(splits), None) if splits_file is not None else default_name
    if name not in splits:
        raise ConfigError(f"`split` must be one of the splits of the data {description!r}: {sorted(splits)}. "
                          f"Received: split={name!r}")
    split = splits[name]
    if not split.train:
        raise ConfigError(f"The split {name!r} of the data {description!r} has no training sequences (only "
                          f"{len(split.test)} test sequences): choose a split with training sequences.")
    if evaluate and not split.test:
        raise ConfigError(f"The split {name!r} of the data {description!r} has no test sequences to evaluate on: "
                          "pass --no-evaluate or choose another split.")
    return split


def _built_dataset(root: Path, split_name: str | None, description: str, evaluate: bool,
                   open_sources: bool = True) -> TrainingData | None:
    from descriptors.data.formats import HPatchesRelease

    patches_dir, tasks_dir = root / "nhpatches", root / "tasks"
    splits_file = tasks_dir / "splits" / "splits.json"
    for needed in (patches_dir, splits_file):
        if not needed.exists():
            raise ConfigError(f"{root} is not a dataset built by descriptors.data.build: {needed} is missing.")
    split = _choose_split(split_name, splits_file, description, evaluate)
    if not open_sources:
        return None
    clean = HPatchesRelease(patches_dir, noisy=False)
    missing = sorted(set(split.train) - set(clean.sequences))
    if missing:
        raise ConfigError(f"The split {split.name!r} of the data {description!r} names training sequences that "
                          f"{patches_dir} does not hold: {missing[:10]}")
    return TrainingData(
        clean=clean,
        noisy=HPatchesRelease(patches_dir, noisy=True),
        split=split,
        tasks_dir=tasks_dir,
        description=description,
    )


def _brown_data(config) -> TrainingData:
    """``data='brown:PATH'``: every 3D point with two patches or more is a training track (no test split)."""
    from descriptors.data.brown_tracks import BrownTrackSource

    folder = config.data[len(BROWN_PREFIX):]
    try:
        source = BrownTrackSource(folder, size=PATCH_SIZE, seed=config.seed)
    except DataFormatError as error:
        raise ConfigError(f"The data {config.data!r} is not a readable Brown subset: {error}") from error
    split = Split(name="all", test=(), train=tuple(source.sequences))
    return TrainingData(clean=source, noisy=None, split=split, tasks_dir=None, description=config.data)


def check_training_data(config) -> None:
    """Checks the data options of ``config`` (a `TrainConfig`) without building or reading any patches.

    The split must exist and have training sequences (and test sequences when ``config.evaluate``). For the
    default dataset (or its wide variant) that is not built yet, the split must be the one the build writes
    (``"default"``).

    Raises:
        ConfigError: naming the data, the split and the known splits.
    """
    if config.data.startswith(BROWN_PREFIX):
        _brown_data(config)  # reads info.txt and checks the bitmaps are there; patches are read later
    elif config.data in DEFAULT_DATA_VARIANTS:
        from descriptors.data.default import default_root

        root = default_root(DEFAULT_DATA_VARIANTS[config.data])
        if (root / "tasks" / "splits" / "splits.json").is_file():
            _built_dataset(root, config.split, config.data, config.evaluate, open_sources=False)
        elif config.split not in (None, DEFAULT_SPLIT):
            raise ConfigError(f"`split` must be one of the splits of the data {config.data!r}: {[DEFAULT_SPLIT]}. "
                              f"Received: split={config.split!r}")
        elif config.data == "default-wide":  # to be built: every package it reads photographs from is needed
            from descriptors.data.default_wide import check_wide_sources

            check_wide_sources()
    elif config.data not in ("hpatches", "nhpatches"):
        _built_dataset(Path(config.data), config.split, str(config.data), config.evaluate, open_sources=False)
    else:
        _choose_split(config.split, None, config.data, config.evaluate)


def resolve_training_data(config) -> TrainingData:
    """Opens the patch sources named by ``config`` (a `TrainConfig`). Builds the default dataset if needed."""
    if config.data.startswith(BROWN_PREFIX):
        return _brown_data(config)
    if config.data in DEFAULT_DATA_VARIANTS:
        from descriptors.data.default import default_dataset

        root = default_dataset(variant=DEFAULT_DATA_VARIANTS[config.data])
        return _built_dataset(Path(root), config.split, config.data, config.evaluate)
    if config.data not in ("hpatches", "nhpatches"):
        return _built_dataset(Path(config.data), config.split, str(config.data), config.evaluate)

    from descriptors.data.formats import HPatchesRelease

    root = Path(config.data_dir)
    if not root.is_dir():
        raise ConfigError(f"`data_dir` must be an existing folder. Received: data_dir={str(root)!r}")
    split = _choose_split(config.split, None, config.data, config.evaluate)
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
