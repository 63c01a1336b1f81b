"""FPR95 of a descriptor callable on a Brown subset folder (the evaluation papers report, without a CSV step).

Example:
    >>> from descriptors.baselines import SiftPatchDescriptor
    >>> result = evaluate_brown(SiftPatchDescriptor(), "data/brown/yosemite")  # doctest: +SKIP
    >>> round(100 * result.fpr, 2)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descriptors.data.brown_reader import PATCHES_PER_IMAGE, BrownSubset
from descriptors.progress import tqdm
from hpatches_eval.phototour.metrics import FprResult, fpr_at_recall
from hpatches_eval.phototour.pairs import pair_distances


def describe_subset(describe, subset: BrownSubset, indices=None, chunk: int = 4 * PATCHES_PER_IMAGE,
                    verbose: bool = False) -> np.ndarray:
    """Descriptors of the patches ``indices`` (default: all) of ``subset``, read bitmap by bitmap.

    Args:
        describe: a callable ``(K, 64, 64) uint8 -> (K, D)`` (a `DescriptorPipeline` resizes to 32 px itself).
        subset: the Brown subset.
        indices: patch indices; rows of the output follow them.
        chunk: patches read and described at a time.
        verbose: show a progress bar.

    Shape:
        output: (K, D) float32.
    """
    indices = np.arange(len(subset)) if indices is None else np.asarray(indices, dtype=np.int64)
    parts = []
    for start in tqdm(range(0, indices.size, chunk), desc="describing", disable=not verbose, leave=False):
        parts.append(np.asarray(describe(subset.patches(indices[start:start + chunk])), dtype=np.float32))
    return np.concatenate(parts, axis=0)


def evaluate_brown(describe, root: str | Path, count: int = 100000, ties: str = "threshold",
                   verbose: bool = False) -> FprResult:
    """FPR95 of ``describe`` on the pair list ``m50_<count>_<count>_0.txt`` of the subset folder ``root``.

    Only the patches that the pairs use are read and described.

    Raises:
        DataFormatError: the folder or one of its files is malformed (see `BrownSubset`).
    """
    subset = BrownSubset(root)
    pairs = subset.pairs(count)
    used, inverse = np.unique(np.concatenate([pairs.first, pairs.second]), return_inverse=True)
    descriptors = describe_subset(describe, subset, used, verbose=verbose)
    local = type(pairs)(first=inverse[:len(pairs)], second=inverse[len(pairs):], is_match=pairs.is_match,
                        path=pairs.path)
    return fpr_at_recall(pair_distances(descriptors, local), pairs.is_match, 0.95, ties)
