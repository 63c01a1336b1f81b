"""Descriptor sets: ``(sequence, patch type) -> (N, D)`` descriptors, from arrays, CSV folders or a callable.

Every set is validated per sequence when first used: all 16 patch types present, 2-D, the same number of rows N
in every type, the same dimension D in every file, and finite values. Values are stored as float32, like the
official loader (``hpatch_descr`` casts every CSV with ``astype(np.float32)``); distances are then computed in
float64.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from hpatches_eval.errors import DescriptorError
from hpatches_eval.patch_types import PATCH_TYPES

DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "whitespace": r"\s+", " ": r"\s+"}


class DescriptorSet:
    """Lazily loaded, validated, cached descriptors of HPatches sequences.

    Args:
        sequences: names of the sequences the set can provide.
        loader: ``loader(seq) -> {patch_type: array (N, D)}`` for one sequence.
        name: descriptor name written in results.
        source: human-readable origin (folder, "arrays", callable name), written in results.
    """

    def __init__(self, sequences: Iterable[str], loader: Callable[[str], Mapping], name: str, source: str):
        self.sequences = tuple(sequences)
        self.name = name
        self.source = source
        self._loader = loader
        self._cache: dict[str, dict[str, np.ndarray]] = {}
        self._dim: int | None = None

    def __contains__(self, seq: str) -> bool:
        return seq in self.sequences

    def __repr__(self) -> str:
        return f"DescriptorSet(name={self.name!r}, source={self.source!r}, sequences={len(self.sequences)})"

    def require(self, sequences: Iterable[str]) -> None:
        """Raises `DescriptorError` naming the first of ``sequences`` this set does not provide."""
        missing = [seq for seq in sequences if seq not in self.sequences]
        if missing:
            raise DescriptorError(
                f"Sequence {missing[0]!r} is missing from descriptor set {self.source}"
                f" ({len(missing)} missing in all: {missing[:5]}{'...' if len(missing) > 5 else ''})."
            )

    def sequence(self, seq: str) -> dict[str, np.ndarray]:
        """All 16 validated float32 arrays of sequence ``seq`` (loaded once, then cached)."""
        if seq not in self._cache:
            self.require([seq])
            self._cache[seq] = self._validate(seq, self._loader(seq))
        return self._cache[seq]

    def get(self, seq: str, patch_type: str) -> np.ndarray:
        """Descriptors of ``patch_type`` in ``seq``. Shape: (N, D) float32."""
        return self.sequence(seq)[patch_type]

    def num_patches(self, seq: str) -> int:
        """Number of patches N of ``seq``."""
        return self.get(seq, "ref").shape[0]

    @property
    def dim(self) -> int | None:
        """Descriptor dimension D (None until a sequence has been loaded)."""
        return self._dim

    def _validate(self, seq: str, arrays: Mapping) -> dict[str, np.ndarray]:
        out = {}
        for patch_type in PATCH_TYPES:
            if patch_type not in arrays:
                raise DescriptorError(f"Patch type {patch_type!r} of sequence {seq!r} is missing from {self.source}.")
            array = np.asarray(arrays[patch_type])
            where = f"{self.source} sequence {seq!r} type {patch_type!r}"
            if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
                raise DescriptorError(f"Descriptors of {where} must be a non-empty (N, D) array. Received: {array.shape}")
            if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
                raise DescriptorError(f"Descriptors of {where} must be real numbers. Received dtype: {array.dtype}")
            with np.errstate(over="ignore", invalid="ignore"):
                array = np.ascontiguousarray(array, dtype=np.float32)  # overflow -> inf, rejected below
            if not np.isfinite(array).all():
                bad = np.argwhere(~np.isfinite(array))[0]
                raise DescriptorError(
                    f"Descriptors of {where} contain NaN or inf (first at row {bad[0]}, column {bad[1]}): every "
                    "distance involving them would be meaningless."
                )
            n_ref = out["ref"].shape[0] if out else array.shape[0]
            if array.shape[0] != n_ref:
                raise DescriptorError(
                    f"Row count of {where} ({array.shape[0]}) differs from its 'ref' ({n_ref}); every patch type "
                    "of a sequence must have one row per patch."
                )
            if self._dim is None:
                self._dim = array.shape[1]
            if array.shape[1] != self._dim:
                raise DescriptorError(
                    f"Descriptor dimension of {where} ({array.shape[1]}) differs from the other files ({self._dim})."
                )
            out[patch_type] = array
        return out


def from_arrays(arrays: Mapping, name: str = "arrays") -> DescriptorSet:
    """Descriptor set from in-memory arrays: ``{(seq, type): (N, D)}`` or ``{seq: {type: (N, D)}}``.

    Raises:
        TypeError: if ``arrays`` is not one of the two mappings.
    """
    if not isinstance(arrays, Mapping):
        raise TypeError(f"`arrays` must be a mapping. Received: {type(arrays).__name__}")
    nested: dict[str, dict] = {}
    for key, value in arrays.items():
        if isinstance(key, tuple) and len(key) == 2:
            nested.setdefault(key[0], {})[key[1]] = value
        elif isinstance(key, str) and isinstance(value, Mapping):
            nested.setdefault(key, {}).update(value)
        else:
            raise TypeError(
                "`arrays` must map (seq, patch_type) -> array or seq -> {patch_type: array}. "
                f"Received key: {key!r} with value type {type(value).__name__}"
            )
    return DescriptorSet(sorted(nested), nested.__getitem__, name=name, source="arrays")


def detect_delimiter(path: str | Path) -> str:
    """Delimiter of a descriptor CSV, from its first line: ``,`` then ``;`` then tab, else whitespace."""
    with open(path, newline="") as handle:
        line = handle.readline()
    for char in (",", ";", "\t"):
        if char in line:
            return char
    return r"\s+"


def read_descriptor_csv(path: str | Path, delimiter: str | None = None) -> np.ndarray:
    """Reads one official-format descriptor CSV (no header, one row per patch) as float32 (N, D).

    Raises:
        DescriptorError: if the file is empty, not numeric, or has a single column (probably a wrong delimiter).
    """
    sep = detect_delimiter(path) if delimiter is None else DELIMITERS.get(delimiter, delimiter)
    try:
        frame = pd.read_csv(path, header=None, sep=sep, dtype=np.float64, engine="c", skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise DescriptorError(f"Descriptor file {path} is empty.") from error
    except (ValueError, csv.Error, pd.errors.ParserError) as error:
        raise DescriptorError(
            f"Descriptor file {path} is not a numeric CSV with delimiter {sep!r} (check the delimiter): {error}"
        ) from error
    if frame.shape[1] == 1:
        raise DescriptorError(
            f"Descriptor file {path} has a single column with delimiter {sep!r}; check the delimiter."
        )
    return frame.to_numpy(dtype=np.float32)


def from_csv_dir(path: str | os.PathLike, delimiter: str | None = None, name: str | None = None) -> DescriptorSet:
    """Descriptor set from an official-format folder ``<path>/<seq>/<type>.csv`` (read lazily per sequence).

    Args:
        path: descriptor folder; each sub-folder holding a ``ref.csv`` is a sequence.
        delimiter: ``","``, ``";"``, ``"tab"``, ``"whitespace"`` or any other single character (the C reader
            takes no longer separators); None detects it.
        name: descriptor name (default: the folder name).

    Raises:
        FileNotFoundError: if ``path`` is not a folder or holds no sequence folder.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"Descriptor folder not found: {root}")
    sequences = sorted(entry.name for entry in root.iterdir() if (entry / "ref.csv").is_file())
    if not sequences:
        inner = sorted(entry.name for entry in root.iterdir() if entry.is_dir() and any(
            (sub / "ref.csv").is_file() for sub in entry.iterdir() if sub.is_dir()))
        hint = f" (did you mean {str(root / inner[0])!r}? it holds <seq>/ref.csv files)" if inner else ""
        raise FileNotFoundError(f"Descriptor folder {root} holds no <seq>/ref.csv files{hint}.")

    def load(seq: str) -> dict[str, np.ndarray]:
        out = {}
        for patch_type in PATCH_TYPES:
            file = root / seq / f"{patch_type}.csv"
            if not file.is_file():
                raise DescriptorError(f"Descriptor file {file} (sequence {seq!r}, type {patch_type!r}) is missing.")
            out[patch_type] = read_descriptor_csv(file, delimiter)
        return out

    return DescriptorSet(sequences, load, name=name or root.resolve().name, source=str(root))


def from_callable(
    describe: Callable[[np.ndarray], np.ndarray],
    patch_source,
    name: str | None = None,
    add_channel: bool = True,
    batch_size: int | None = None,
) -> DescriptorSet:
    """Descriptor set computed by ``describe(patches) -> (N, D)`` on a patch source, per sequence, on demand.

    Args:
        describe: callable on uint8 patches ``(B, P, P, 1)`` (or ``(B, P, P)`` with ``add_channel=False``).
        patch_source: object with ``sequences`` and ``load(seq, patch_type) -> uint8 (N, P, P)``.
        name: descriptor name (default: the callable's name).
        add_channel: pass patches with a trailing channel axis.
        batch_size: call ``describe`` on at most this many patches at a time (None = a whole file at once).

    Shape:
        patches (N, P, P) uint8 -> descriptors (N, D).
    """
    if not callable(describe):
        raise TypeError(f"`describe` must be callable. Received: {type(describe).__name__}")
    if not hasattr(patch_source, "sequences") or not hasattr(patch_source, "load"):
        raise TypeError(f"`patch_source` must have `sequences` and `load`. Received: {type(patch_source).__name__}")
    label = name or getattr(describe, "__name__", type(describe).__name__)

    def load(seq: str) -> dict[str, np.ndarray]:
        out = {}
        for patch_type in PATCH_TYPES:
            patches = np.asarray(patch_source.load(seq, patch_type))
            batch = patches[..., None] if add_channel else patches
            step = batch_size or max(1, batch.shape[0])
            parts = [np.asarray(describe(batch[i : i + step])) for i in range(0, batch.shape[0], step)]
            descs = np.concatenate(parts, axis=0) if parts else np.empty((0, 0))
            if descs.ndim != 2 or descs.shape[0] != patches.shape[0]:
                raise DescriptorError(
                    f"`describe` must return (N, D) = ({patches.shape[0]}, D) for {seq}/{patch_type}. "
                    f"Received: {descs.shape}"
                )
            out[patch_type] = descs
        return out

    return DescriptorSet(list(patch_source.sequences), load, name=label, source=f"callable {label}")
