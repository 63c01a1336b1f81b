"""The official HPatches splits (a, b, c, illum, view, full) and any user-defined splits file.

The official definitions ship as package data (``splits.json``, byte-identical to the benchmark's
``tasks/splits/splits.json``). A dataset built by ``descriptors.data.builder`` carries its own
``tasks/splits/splits.json`` in the same format; pass its path to read it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

OFFICIAL_SPLITS_FILE = Path(__file__).with_name("splits.json")


@dataclasses.dataclass(frozen=True)
class Split:
    """A named split: sequence names used for testing and (possibly empty) for training."""

    name: str
    test: tuple[str, ...]
    train: tuple[str, ...] = ()


def load_splits(path: str | Path | None = None) -> dict[str, Split]:
    """Reads a splits file (official format: ``{name: {"test": [...], "train": [...]}}``).

    Args:
        path: a ``splits.json`` file; ``None`` reads the official HPatches splits.

    Returns:
        A dict from split name to `Split`.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not valid JSON of the expected shape.
    """
    path = OFFICIAL_SPLITS_FILE if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Splits file not found: {path}")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"Splits file {path} is not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ValueError(f"Splits file {path} must hold a JSON object of splits. Received: {type(raw).__name__}")
    splits = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or "test" not in entry:
            raise ValueError(f"Split {name!r} in {path} must be an object with a 'test' list. Received: {entry!r}")
        splits[name] = Split(name=name, test=tuple(entry["test"]), train=tuple(entry.get("train", ())))
    return splits


def get_split(name: str, path: str | Path | None = None) -> Split:
    """Returns split ``name`` from the official splits or from the splits file ``path``.

    Raises:
        ValueError: if no split of that name exists (the message lists the known names).
    """
    splits = load_splits(path)
    if name not in splits:
        source = "the official HPatches splits" if path is None else str(path)
        raise ValueError(f"Unknown split {name!r}: {source} define {sorted(splits)}.")
    return splits[name]
