"""What the dataset builder checks before any work: its options and its output folder.

The output rule (the same for the Python API and ``python -m descriptors.data.build``): the folder is new, empty,
or a dataset this builder wrote (marker ``.patch-descriptors.json`` of kind ``"dataset"``, or ``build_info.json``
for datasets written before markers existed), replaced only with ``overwrite``; it may not equal, lie inside, or
contain an input. See `hpatches_eval.output_safety`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError
from hpatches_eval.cli_contract import UsageError
from hpatches_eval.output_safety import check_not_overlapping, check_output_dir

DATASET_KIND = "dataset"
LEGACY_MARKERS = {"build_info.json": DATASET_KIND}  # datasets written before the marker file existed
_SPLIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_build_options(*, seed=0, test_fraction=1 / 3, split_name="default", test_sequences=None,
                        max_tracks_per_sequence=None, n_pairs=None, n_queries=None, n_distractors=None) -> None:
    """Checks the options of `build_dataset` (before any work).

    Raises:
        ConfigError: naming the first option with a wrong type or value.
    """
    if not _is_int(seed) or seed < 0:
        raise ConfigError(f"`seed` must be an integer >= 0. Received: seed={seed!r}")
    if test_sequences is None:
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.floating)) or not (
                0.0 < test_fraction < 1.0):
            raise ConfigError(f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}")
    elif isinstance(test_sequences, str) or not all(isinstance(s, str) and s for s in test_sequences) or not len(
            test_sequences):
        raise ConfigError("`test_sequences` must be a non-empty list of sequence names. "
                          f"Received: test_sequences={test_sequences!r}")
    if not isinstance(split_name, str) or not _SPLIT_NAME.match(split_name):
        raise ConfigError("`split_name` must be letters, digits, '_', '.' or '-' (it is part of the task file names), "
                          f"starting with a letter or digit. Received: split_name={split_name!r}")
    if max_tracks_per_sequence is not None and (not _is_int(max_tracks_per_sequence) or max_tracks_per_sequence < 2):
        raise ConfigError("`max_tracks_per_sequence` must be an integer >= 2 or None. "
                          f"Received: max_tracks_per_sequence={max_tracks_per_sequence!r}")
    for name, value in (("n_pairs", n_pairs), ("n_queries", n_queries), ("n_distractors", n_distractors)):
        if value is not None and (not _is_int(value) or value < 1):
            raise ConfigError(f"`{name}` must be an integer >= 1 or None. Received: {name}={value!r}")


def check_dataset_output(out: str | Path, *, overwrite: bool, inputs=(), what: str = "out") -> Path:
    """Checks that ``out`` may receive a dataset: new, empty, or a dataset we wrote (replaced only with ``overwrite``).

    Args:
        out: the dataset folder.
        overwrite: whether an existing dataset there may be replaced.
        inputs: input paths that ``out`` may not equal, lie inside, or contain.
        what: the name of ``out`` in messages.

    Returns:
        ``out`` as a Path.

    Raises:
        FileExistsError: ``out`` holds something that may not be replaced (not ours, another kind, or a dataset
            without ``overwrite``).
        ConfigError: ``out`` overlaps an input, is a file, or cannot be written.
    """
    try:
        check_not_overlapping(out, inputs, what)
        return check_output_dir(out, kind=DATASET_KIND, overwrite=overwrite, inputs=inputs, what=what,
                                legacy_markers=LEGACY_MARKERS)
    except UsageError as error:
        target = Path(out)
        occupied = target.is_dir() and any(target.iterdir())
        raise (FileExistsError if occupied else ConfigError)(str(error)) from None
    except OSError as error:  # e.g. a name too long for the file system
        raise ConfigError(f"`{what}` cannot be written: {error.strerror or error}. "
                          f"Received: {what}={os.fspath(out)!r}") from None
