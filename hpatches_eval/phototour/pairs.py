"""Brown pair lists (``m50_<n>_<n>_0.txt``), descriptor matrices indexed by patch, and pair distances."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from hpatches_eval.descriptor_sets import read_descriptor_csv
from hpatches_eval.errors import DescriptorError, TaskFileError

PAIRS_NAME = re.compile(r"^m50_(\d+)_(\d+)_0\.txt$")
PAIR_COLUMNS = 7
CHUNK = 65536  # pairs per distance chunk


@dataclasses.dataclass(frozen=True)
class PairList:
    """One pair list.

    Attributes:
        first: patch index of the first patch of each pair (column 0).
        second: patch index of the second patch (column 3).
        is_match: True where the two 3D point ids (columns 1 and 4) are equal.
        path: the file it was read from.

    Shape:
        first, second, is_match: (M,).
    """

    first: np.ndarray
    second: np.ndarray
    is_match: np.ndarray
    path: Path

    def __len__(self) -> int:
        return int(self.first.size)


def _bad_line(path: Path, lines: list[str]) -> str:
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if len(fields) != PAIR_COLUMNS:
            return f"line {number} has {len(fields)} fields, expected {PAIR_COLUMNS}: {line[:80]!r}"
        for field in fields:
            if not re.fullmatch(r"[+-]?\d+", field):
                return f"line {number} has a non-integer field {field!r}: {line[:80]!r}"
    return "it is not a table of integers"


def read_pairs_file(path: str | Path, num_patches: int | None = None) -> PairList:
    """Reads an official pair list: one pair a line, 7 whitespace-separated integers.

    Columns 0 and 3 are the patch indices, 1 and 4 their 3D point ids; the rest is unused. A file named
    ``m50_<n>_<n>_0.txt`` must have exactly ``n`` lines.

    Args:
        path: the pair file.
        num_patches: when given, every patch index must be below it.

    Returns:
        A `PairList`.

    Raises:
        TaskFileError: naming the file and, where it can, the line: unreadable, empty, a line without 7 integers,
            a negative or out-of-range patch index, or a line count that contradicts the file name.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as error:
        raise TaskFileError(f"Pair file {path} is not a text file of integers ({error.reason}).") from error
    except OSError as error:
        raise TaskFileError(f"Pair file {path} cannot be read: {error.strerror or error}") from error
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise TaskFileError(f"Pair file {path} is empty; expected lines of {PAIR_COLUMNS} integers.")
    tokens = text.split()
    try:
        if len(tokens) != PAIR_COLUMNS * len(lines):
            raise ValueError
        table = np.array(tokens).astype(np.int64).reshape(len(lines), PAIR_COLUMNS)
    except (ValueError, OverflowError):
        raise TaskFileError(f"Pair file {path} is malformed: {_bad_line(path, lines)}") from None
    named = PAIRS_NAME.match(path.name)
    if named and int(named.group(1)) != len(lines):
        raise TaskFileError(f"Pair file {path} must have {int(named.group(1))} lines (its name says so). "
                            f"Received: {len(lines)} lines (truncated or wrong file?)")
    first, second = table[:, 0], table[:, 3]
    for column, values in ((0, first), (3, second)):
        outside = values < 0 if num_patches is None else (values < 0) | (values >= num_patches)
        bad = np.flatnonzero(outside)
        if bad.size:
            limit = ">= 0" if num_patches is None else f"in 0 .. {num_patches - 1}"
            raise TaskFileError(f"Pair file {path}: patch indices (column {column}) must be {limit}. Received: "
                                f"{int(values[bad[0]])} on line {int(bad[0]) + 1} ({bad.size} such lines)")
    return PairList(first=first, second=second, is_match=table[:, 1] == table[:, 4], path=path)


def read_descriptor_matrix(path: str | Path) -> np.ndarray:
    """Reads descriptors indexed by patch: a ``.npy`` (N, D) array or a CSV without header (N rows, D columns).

    Raises:
        DescriptorError: naming the file: unreadable, not 2-D numeric, no rows, or NaN/inf values.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            raise DescriptorError(f"Descriptor file {path} is not a readable .npy array: {error}") from error
        if array.ndim != 2 or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype,
                                                                                            np.integer)):
            raise DescriptorError(f"Descriptor file {path} must hold a 2-D numeric (N, D) array. Received: "
                                  f"shape={array.shape}, dtype={array.dtype}")
        array = array.astype(np.float32)
    else:
        array = read_descriptor_csv(path)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise DescriptorError(f"Descriptor file {path} has no descriptors. Received: shape={array.shape}")
    bad_rows = np.flatnonzero(~np.isfinite(array).all(axis=1))
    if bad_rows.size:
        raise DescriptorError(f"Descriptor file {path} has NaN/inf values in {bad_rows.size} rows (first: row "
                              f"{int(bad_rows[0])}).")
    return array


def pair_distances(descriptors: np.ndarray, pairs: PairList) -> np.ndarray:
    """L2 distance of each pair, computed in float64 chunk by chunk.

    Shape:
        descriptors: (N, D); output: (M,) with M = len(pairs).

    Raises:
        DescriptorError: a pair names a patch index >= N.
    """
    count = descriptors.shape[0]
    top = int(max(pairs.first.max(), pairs.second.max()))
    if top >= count:
        raise DescriptorError(f"The pair file {pairs.path} names patch index {top}, but the descriptors have only "
                              f"{count} rows (one per patch index, starting at 0).")
    out = np.empty(len(pairs), np.float64)
    for start in range(0, len(pairs), CHUNK):
        stop = start + CHUNK
        a = descriptors[pairs.first[start:stop]].astype(np.float64)
        b = descriptors[pairs.second[start:stop]].astype(np.float64)
        out[start:stop] = np.sqrt(((a - b) ** 2).sum(axis=1))
    return out
