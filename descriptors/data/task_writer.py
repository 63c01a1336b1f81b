"""Official-format HPatches task files (verification pairs, retrieval queries/distractors) and ``splits.json``.

Follows the generator rules of hpatches-benchmark ``python/utils/tasks.py`` (``gen_verif``, ``gen_retrieval``),
with our own seeded generator instead of ``np.random.seed(42)``:

- verification: positives draw a test sequence uniformly (with replacement), two distinct patch indices and two
  distinct images in 0..4 (0 = ref; image 5 never appears) and pair the first index in both images; intra
  negatives pair the first index with the second index (same images); inter negatives pair the positive's
  first element with a random index of a freshly drawn test sequence (not forced to differ) in the second image.
- retrieval: ``4 * n_queries`` and ``10 * n_distractors`` candidate ``ref`` patches drawn uniformly, kept if
  their pixel standard deviation (0..255) is above 10, deduplicated, queries truncated to ``n_queries``,
  queries removed from the distractors, distractors truncated to ``n_distractors``.

CSV headers: ``s1,t1,idx1,s2,t2,idx2`` and ``s,idx`` (no index column), as the official files; ``splits.json``
carries the ``"name"`` key of every split, as the official file (the official evaluator reads it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from descriptors.errors import ConfigError
from hpatches_eval.output_safety import new_temp_file
from hpatches_eval.splits import Split

VERIF_COLUMNS = ["s1", "t1", "idx1", "s2", "t2", "idx2"]


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    tmp = new_temp_file(path, suffix=".csv")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def splits_json(splits: list[Split]) -> str:
    """The text of an official ``splits.json``: ``{name: {"test": [...], "train": [...], "name": name}}``.

    As hpatches-benchmark's ``tasks/splits/splits.json``: one line, ``json.dumps`` separators, keys in the order
    test, train, name, no trailing newline. The official evaluator reads ``splits[S]["name"]`` to find the task
    files ``*_split-<name>.csv`` and ``splits[S]["test"]`` for the sequences.
    """
    names = [s.name for s in splits]
    if len(set(names)) != len(names):
        raise ConfigError(f"Split names must be unique. Received: {names}")
    return json.dumps({s.name: {"test": list(s.test), "train": list(s.train), "name": s.name} for s in splits})


def write_splits(path: str | Path, splits: list[Split]) -> None:
    """Writes ``splits.json`` in the official format (see `splits_json`), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = splits_json(splits)
    tmp = new_temp_file(path, suffix=".json")
    try:
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def verification_pairs(split: Split, counts: dict[str, int], n_pairs: int, rng: np.random.Generator):
    """Draws the three verification pair tables.

    Args:
        split: the split; only ``split.test`` sequences are sampled.
        counts: number of patch tracks per sequence (each test sequence needs at least 2).
        n_pairs: rows per table.

    Returns:
        ``{"pos": df, "neg_intra": df, "neg_inter": df}`` with columns `VERIF_COLUMNS`.
    """
    test = list(split.test)
    too_small = [s for s in test if counts.get(s, 0) < 2]
    if not test or too_small:
        raise ConfigError(f"Every test sequence of split {split.name!r} must have at least 2 patches. "
                          f"Received: {too_small or 'no test sequence'}")
    sizes = np.array([counts[s] for s in test])
    names = np.array(test, dtype=object)
    seq = rng.integers(0, len(test), n_pairs)
    idx0 = rng.integers(0, sizes[seq])
    idx1 = (idx0 + rng.integers(1, sizes[seq])) % sizes[seq]  # uniform over the other indices
    t1 = rng.integers(0, 5, n_pairs)
    t2 = (t1 + rng.integers(1, 5, n_pairs)) % 5
    seq_inter = rng.integers(0, len(test), n_pairs)
    idx_inter = rng.integers(0, sizes[seq_inter])

    def table(s2, i2):
        return pd.DataFrame({"s1": names[seq], "t1": t1, "idx1": idx0, "s2": names[s2], "t2": t2, "idx2": i2},
                            columns=VERIF_COLUMNS)

    return {"pos": table(seq, idx0), "neg_intra": table(seq, idx1), "neg_inter": table(seq_inter, idx_inter)}


def retrieval_lists(split: Split, counts: dict[str, int], ref_std: Callable[[str, np.ndarray], np.ndarray],
                    n_queries: int, n_distractors: int, rng: np.random.Generator):
    """Draws retrieval queries and distractors (``ref`` patches with pixel std > 10).

    Args:
        ref_std: ``ref_std(seq, indices) -> std`` of those ``ref`` patches on the 0..255 scale.

    Returns:
        ``(queries, distractors)`` data frames with columns ``s, idx``.
    """
    test = list(split.test)
    sizes = np.array([counts[s] for s in test])

    def candidates(count):
        seq = rng.integers(0, len(test), count)
        idx = rng.integers(0, sizes[seq])
        keep = np.zeros(count, bool)
        for k in np.unique(seq):
            rows = np.nonzero(seq == k)[0]
            keep[rows] = ref_std(test[k], idx[rows]) > 10
        return pd.DataFrame({"s": np.array(test, dtype=object)[seq[keep]], "idx": idx[keep]})

    queries = candidates(4 * n_queries).drop_duplicates().head(n_queries).reset_index(drop=True)
    distractors = candidates(10 * n_distractors).drop_duplicates()
    taken = pd.MultiIndex.from_frame(queries)
    distractors = distractors[~pd.MultiIndex.from_frame(distractors).isin(taken)]
    return queries, distractors.head(n_distractors).reset_index(drop=True)


def write_tasks(tasks_dir: str | Path, split: Split, counts: dict[str, int], ref_std, *, n_pairs: int,
                n_queries: int, n_distractors: int, rng: np.random.Generator) -> dict:
    """Writes the five task CSVs of ``split`` into ``tasks_dir``; returns the row counts written."""
    tasks_dir = Path(tasks_dir)
    tasks_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, frame in verification_pairs(split, counts, n_pairs, rng).items():
        _write_csv(frame, tasks_dir / f"verif_{kind}_split-{split.name}.csv")
        written[f"verif_{kind}"] = len(frame)
    queries, distractors = retrieval_lists(split, counts, ref_std, n_queries, n_distractors, rng)
    _write_csv(queries, tasks_dir / f"retr_queries_split-{split.name}.csv")
    _write_csv(distractors, tasks_dir / f"retr_distractors_split-{split.name}.csv")
    written.update(retr_queries=len(queries), retr_distractors=len(distractors))
    return written
