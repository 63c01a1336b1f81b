"""Patch verification, exactly as the official ``eval_verification`` (protocol B.2).

Each pair list is scored at every noise level (image 0 = ``ref``, image k = ``<level>k``). For negatives
``neg`` in {inter, intra}: labels ``[0]*N_neg + [1]*N_pos``, distances ``[d_neg; d_pos]`` ranked by a stable sort
(so on ties negatives come first); **balanced** = ROC-AUC over all pairs, **imbalanced** = AP over the first
``N_pos + int(0.2 * N_pos)`` entries (all negatives and the first 20% of positives when N_neg = N_pos; the
official code uses N_pos for both terms and so do we).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hpatches_eval.descriptor_sets import DescriptorSet
from hpatches_eval.distances import check_distance, gathered_row_distances
from hpatches_eval.metrics import ap_from_negatives_before, check_ap_kind
from hpatches_eval.patch_types import NOISE_LEVELS, patch_type_for
from hpatches_eval.task_files import check_indices, sequence_codes

NEGATIVES = ("inter", "intra")
IMBALANCED_POS_FRACTION = 0.2


def _pair_rows(table: pd.DataFrame, sequences, offsets, lengths, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of both pair members in the per-level table (``offsets[seq] + image * N[seq] + idx``)."""
    rows = []
    for side in ("1", "2"):
        seq = sequence_codes(table["s" + side], sequences, path)
        image = table["t" + side].to_numpy()
        idx = table["idx" + side].to_numpy()
        check_indices(image, np.full(image.shape, 6), path, "t" + side)
        check_indices(idx, lengths[seq], path, "idx" + side)
        rows.append(offsets[seq] + image * lengths[seq] + idx)
    return rows[0], rows[1]


def check_pairs(descriptors: DescriptorSet, pairs: dict[str, pd.DataFrame], paths: dict[str, str] | None = None):
    """Validates pair tables against a descriptor set (sequences present, images and rows in range), no work.

    Raises:
        DescriptorError: a referenced sequence is missing from the descriptor set (or its files are invalid).
        TaskFileError: a pair references an unknown sequence, an image outside 0..5 or a row out of range.
    """
    _pair_table_rows(descriptors, pairs, paths)


def _pair_table_rows(descriptors, pairs, paths):
    """Sequences, per-sequence patch counts and the pair rows of every table (see `_pair_rows`)."""
    paths = paths or {key: key for key in pairs}
    names = set()
    for table in pairs.values():
        names.update(str(c) for c in table["s1"].cat.categories)
        names.update(str(c) for c in table["s2"].cat.categories)
    sequences = tuple(sorted(names))
    descriptors.require(sequences)
    lengths = np.array([descriptors.num_patches(seq) for seq in sequences], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(6 * lengths)[:-1]]).astype(np.int64)
    rows = {key: _pair_rows(table, sequences, offsets, lengths, paths[key]) for key, table in pairs.items()}
    return sequences, rows


def curves(d_neg: np.ndarray, d_pos: np.ndarray, ap: str = "trapezoid") -> tuple[float, float]:
    """Balanced ROC-AUC and imbalanced AP of one negative list against the positives (official semantics).

    The official code ranks ``[d_neg; d_pos]`` by a stable sort, so on equal distances negatives come first. Both
    areas then follow from counts on the sorted lists: the ROC curve only gains area at a negative, by the positives
    strictly closer than it; the PR curve only at a positive, from the negatives at most as far (see
    `metrics.ap_from_negatives_before`). Same values as the trapezoids over the full curves.

    Shape:
        d_neg: (N,), d_pos: (P,) distances; returns two Python floats.
    """
    p, n = d_pos.shape[0], d_neg.shape[0]
    pos_sorted, neg_sorted = np.sort(d_pos), np.sort(d_neg)
    pos_before = np.searchsorted(pos_sorted, neg_sorted, side="left")
    auc = float(np.sum(pos_before, dtype=np.float64)) / (max(p, 1e-10) * max(n, 1e-10))
    # imbalanced: the first P + int(0.2 P) entries of [d_neg; d_pos]
    n_imb = p + int(p * IMBALANCED_POS_FRACTION)
    neg_sub = neg_sorted if n_imb >= n else np.sort(d_neg[:n_imb])
    pos_sub = np.sort(d_pos[: max(0, n_imb - n)])
    neg_before = np.searchsorted(neg_sub, pos_sub, side="right")
    return auc, float(ap_from_negatives_before(neg_before[None, :], pos_sub.shape[0], ap)[0])


def evaluate_verification(
    descriptors: DescriptorSet,
    pairs: dict[str, pd.DataFrame],
    distance: str = "L2",
    ap: str = "trapezoid",
    paths: dict[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Verification AUC/AP grids.

    Args:
        descriptors: the descriptor set; must hold every sequence named in the pair files.
        pairs: ``{"pos", "neg_intra", "neg_inter"}`` tables with columns ``s1,t1,idx1,s2,t2,idx2``.
        distance: ``"L2"`` or ``"L1"``.
        ap: ``"trapezoid"`` (official) or ``"standard"``.
        paths: file names used in error messages.

    Returns:
        ``{"auc": DataFrame, "ap": DataFrame}``, each indexed by level (e, h, t) with columns (inter, intra).

    Raises:
        DescriptorError: if a referenced sequence is missing from the descriptor set.
        TaskFileError: if a pair references an unknown sequence, an image outside 0..5 or a row out of range.
    """
    check_distance(distance)
    check_ap_kind(ap)
    sequences, rows = _pair_table_rows(descriptors, pairs, paths)
    # visit the pairs in order of their first row: the gathers then walk the table (same distances, faster)
    orders = {key: np.argsort(r1, kind="stable") for key, (r1, _) in rows.items()}
    rows = {key: (r1[orders[key]], r2[orders[key]]) for key, (r1, r2) in rows.items()}

    auc_grid = pd.DataFrame(index=list(NOISE_LEVELS), columns=list(NEGATIVES), dtype=float)
    ap_grid = auc_grid.copy()
    for level in NOISE_LEVELS:
        table = np.concatenate(
            [descriptors.get(seq, patch_type_for(level, image)) for seq in sequences for image in range(6)]
        )
        dist = {}
        for key, (r1, r2) in rows.items():
            dist[key] = np.empty(r1.shape[0])
            dist[key][orders[key]] = gathered_row_distances(table, r1, r2, distance)
        del table
        for neg in NEGATIVES:
            auc_grid.loc[level, neg], ap_grid.loc[level, neg] = curves(dist["neg_" + neg], dist["pos"], ap)
    auc_grid.index.name = ap_grid.index.name = "level"
    return {"auc": auc_grid, "ap": ap_grid}
