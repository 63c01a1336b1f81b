"""Image matching, exactly as the official ``eval_matching`` (protocol B.3).

For each test sequence, level and target image i in 1..5: nearest neighbour from ``ref`` to ``<level>i`` (one
direction, ``argmin`` = first index on ties); a match is correct when it returns the same row. AP ranks all N
putative matches by NN distance with ``numpos = N``; ``sr`` is the fraction of correct matches. The per-level mAP is
the mean over (sequence x image).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hpatches_eval.descriptor_sets import DescriptorSet
from hpatches_eval.distances import check_distance, nearest_neighbours
from hpatches_eval.metrics import check_ap_kind, pr
from hpatches_eval.patch_types import NOISE_LEVELS, TARGET_IMAGES, patch_type_for


def match_pair(ref: np.ndarray, target: np.ndarray, distance: str = "L2", ap: str = "trapezoid") -> tuple[float, float]:
    """AP and success rate of ref -> target nearest-neighbour matching (row i of both is the same patch).

    Shape:
        ref, target: (N, D) float; returns two Python floats.
    """
    idx, dist = nearest_neighbours(ref, target, distance)
    correct = idx == np.arange(ref.shape[0])
    _, _, ap_value = pr(-dist, correct, numpos=ref.shape[0], ap=ap)
    return ap_value, float(np.count_nonzero(correct)) / float(correct.shape[0])


def evaluate_matching(
    descriptors: DescriptorSet, sequences, distance: str = "L2", ap: str = "trapezoid"
) -> pd.DataFrame:
    """Matching AP and success rate of every (sequence, level, image).

    Args:
        descriptors: the descriptor set; must hold every sequence in ``sequences``.
        sequences: the split's test sequences, in split order.
        distance: ``"L2"`` or ``"L1"``.
        ap: ``"trapezoid"`` (official) or ``"standard"``.

    Returns:
        Long table with columns ``seq, level, image, ap, sr`` (one row per sequence x level x image).

    Raises:
        DescriptorError: if a sequence is missing or its files are inconsistent.
    """
    check_distance(distance)
    check_ap_kind(ap)
    descriptors.require(sequences)
    records = []
    for seq in sequences:
        ref = descriptors.get(seq, "ref").astype(np.float64)
        for level in NOISE_LEVELS:
            for image in TARGET_IMAGES:
                target = descriptors.get(seq, patch_type_for(level, image)).astype(np.float64)
                ap_value, sr = match_pair(ref, target, distance, ap)
                records.append((seq, level, image, ap_value, sr))
    return pd.DataFrame.from_records(records, columns=["seq", "level", "image", "ap", "sr"])


def summarise_matching(per_pair: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-level mAP / mean success rate, and the mAP per level x category (i = illumination, v = viewpoint).

    Returns:
        ``(by_level, by_category)``: by_level indexed by level with columns ``map, msr``; by_category indexed by
        level with one column per category present.
    """
    by_level = per_pair.groupby("level", sort=False).agg(map=("ap", "mean"), msr=("sr", "mean"))
    by_level = by_level.reindex([lv for lv in NOISE_LEVELS if lv in by_level.index])
    category = per_pair["seq"].str[0].rename("category")
    by_category = per_pair.groupby([per_pair["level"], category])["ap"].mean().unstack("category")
    by_category = by_category.reindex(by_level.index)
    return by_level, by_category
