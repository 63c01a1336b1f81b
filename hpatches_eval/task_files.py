"""Reads the official task definition files of a ``tasks/`` folder (hpatches-benchmark or our dataset builder).

Layout: ``verif_pos_split-<S>.csv``, ``verif_neg_intra_split-<S>.csv``, ``verif_neg_inter_split-<S>.csv`` (header
``s1,t1,idx1,s2,t2,idx2``; ``t`` is the image 0..5 with 0 = ref, ``idx`` the 0-based patch row),
``retr_queries_split-<S>.csv`` and ``retr_distractors_split-<S>.csv`` (header ``s,idx``), and
``splits/splits.json``. Files are read with explicit dtypes (sequence names as categories), so the 1M-row
verification files load in well under a second each.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from hpatches_eval.errors import TaskFileError
from hpatches_eval.splits import Split, load_splits

VERIFICATION_FILES = {"pos": "verif_pos", "neg_intra": "verif_neg_intra", "neg_inter": "verif_neg_inter"}
RETRIEVAL_FILES = {"queries": "retr_queries", "distractors": "retr_distractors"}
_PAIR_DTYPES = {"s1": "category", "t1": np.int64, "idx1": np.int64, "s2": "category", "t2": np.int64, "idx2": np.int64}
_RETR_DTYPES = {"s": "category", "idx": np.int64}


def file_record(path: Path, rows: int) -> dict:
    """Provenance of a task file for the results JSON: path, size, row count and sha256."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return {"path": str(path), "bytes": path.stat().st_size, "rows": rows, "sha256": digest.hexdigest()}


def _read(path: Path, dtypes: dict) -> pd.DataFrame:
    if not path.is_file():
        raise TaskFileError(f"Task file not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=dtypes, usecols=list(dtypes), engine="c")
    except (ValueError, pd.errors.ParserError) as error:
        raise TaskFileError(f"Task file {path} must have columns {list(dtypes)} with integer t/idx: {error}") from error
    if frame.isna().any().any():
        raise TaskFileError(f"Task file {path} has empty cells (first at row {int(frame.isna().any(axis=1).argmax())}).")
    return frame[list(dtypes)]


class TaskFiles:
    """The task definition files of one ``tasks/`` folder.

    Args:
        tasks_dir: the folder holding ``verif_*``/``retr_*`` CSVs and ``splits/splits.json``.

    Raises:
        FileNotFoundError: if ``tasks_dir`` is not a folder.
    """

    def __init__(self, tasks_dir: str | os.PathLike):
        self.root = Path(tasks_dir)
        if not self.root.is_dir():
            raise FileNotFoundError(f"Tasks folder not found: {self.root}")

    def path(self, stem: str, split: str) -> Path:
        """Path of ``<stem>_split-<split>.csv``."""
        return self.root / f"{stem}_split-{split}.csv"

    def splits_file(self) -> Path | None:
        """``splits/splits.json`` of this folder, or None if it has none."""
        path = self.root / "splits" / "splits.json"
        return path if path.is_file() else None

    def split(self, name: str) -> Split:
        """Split ``name`` from this folder's ``splits/splits.json``, else from the official splits.

        Raises:
            ValueError: if no such split exists.
        """
        file = self.splits_file()
        splits = load_splits(file)
        if name not in splits:
            source = str(file) if file else "the official HPatches splits"
            raise ValueError(f"`split` must be one of {sorted(splits)} (from {source}). Received: split={name!r}")
        return splits[name]

    def has_verification(self, split: str) -> bool:
        """Whether all three verification files of ``split`` exist."""
        return all(self.path(stem, split).is_file() for stem in VERIFICATION_FILES.values())

    def missing_verification(self, split: str) -> list[str]:
        """Paths of the verification files of ``split`` that do not exist."""
        return [str(self.path(s, split)) for s in VERIFICATION_FILES.values() if not self.path(s, split).is_file()]

    def load_verification(self, split: str) -> tuple[dict[str, pd.DataFrame], list[dict]]:
        """The three verification pair tables (``pos``, ``neg_intra``, ``neg_inter``) and their provenance."""
        tables, records = {}, []
        for key, stem in VERIFICATION_FILES.items():
            path = self.path(stem, split)
            tables[key] = _read(path, _PAIR_DTYPES)
            records.append(file_record(path, len(tables[key])))
        for key, stem in VERIFICATION_FILES.items():
            if len(tables[key]) == 0:
                raise TaskFileError(f"Task file {self.path(stem, split)} has no pairs.")
        return tables, records

    def load_retrieval(self, split: str) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
        """Retrieval queries and distractors (columns ``s``, ``idx``) and their provenance."""
        frames, records = [], []
        for stem in RETRIEVAL_FILES.values():
            path = self.path(stem, split)
            frames.append(_read(path, _RETR_DTYPES))
            records.append(file_record(path, len(frames[-1])))
        if len(frames[0]) == 0:
            raise TaskFileError(f"Task file {self.path(RETRIEVAL_FILES['queries'], split)} has no queries.")
        return frames[0], frames[1], records


def sequence_codes(column: pd.Series, sequences: tuple[str, ...], path: str) -> np.ndarray:
    """Maps a categorical column of sequence names to indices into ``sequences``.

    Raises:
        TaskFileError: if a name is not in ``sequences``.
    """
    lookup = {seq: i for i, seq in enumerate(sequences)}
    categories = [str(c) for c in column.cat.categories]
    unknown = [c for c in categories if c not in lookup]
    if unknown:
        raise TaskFileError(
            f"Task file {path} references sequence {unknown[0]!r}, which is not in the evaluated set "
            f"({len(sequences)} sequences)."
        )
    mapping = np.array([lookup[c] for c in categories], dtype=np.int64)
    return mapping[column.cat.codes.to_numpy()]


def check_indices(idx: np.ndarray, limit: np.ndarray, path: str, column: str) -> None:
    """Raises `TaskFileError` naming the first row whose ``idx`` is outside ``0 <= idx < limit``."""
    bad = np.flatnonzero((idx < 0) | (idx >= limit))
    if bad.size:
        row = int(bad[0])
        raise TaskFileError(
            f"Task file {path} row {row + 2} (line, header = 1): `{column}` must be in 0..{int(limit[row]) - 1}. "
            f"Received: {column}={int(idx[row])} ({bad.size} such rows)."
        )
