"""Patch retrieval, exactly as the official ``eval_retrieval`` (protocol B.4), vectorised over queries.

Queries and distractors are ``ref`` patches, rounded to float32 as the official code does. For a query (seq, idx)
and level t the ranked list is ``D_ = [5 positives (t1..t5, row idx); distractors of other sequences, in file
order]``; the AP at pool size k ranks ``D_[:k]`` by a stable sort, so a distractor at exactly the distance of a
positive ranks after it. Hence the AP only depends on, for each positive, the number of pool distractors that are
**strictly** closer (`metrics.ap_from_negatives_before`), which is counted for every query block and every pool
prefix at once. L2 comparisons use the BLAS expansion and are redone exactly for any query where one falls within
the expansion's error bound.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hpatches_eval.descriptor_sets import DescriptorSet
from hpatches_eval.distances import (
    approx_sq_l2,
    check_distance,
    exact_matrix,
    exact_matrix_dedup,
    l2_tolerance,
    row_distances,
    squared_norms,
)
from hpatches_eval.metrics import ap_from_negatives_before, check_ap_kind
from hpatches_eval.patch_types import NOISE_LEVELS, TARGET_IMAGES, patch_type_for
from hpatches_eval.task_files import check_indices, sequence_codes

POOL_SIZES = (100, 500, 1000, 5000, 10000, 15000, 20000)
NUM_POSITIVES = len(TARGET_IMAGES)


def _ref_rows(descriptors, frame, sequences, path) -> tuple[np.ndarray, np.ndarray]:
    """Sequence codes and float32-rounded ref descriptors (as float64) of the (s, idx) rows of ``frame``."""
    codes = sequence_codes(frame["s"], sequences, path)
    idx = frame["idx"].to_numpy()
    lengths = np.array([descriptors.num_patches(seq) for seq in sequences], dtype=np.int64)
    check_indices(idx, lengths[codes], path, "idx")
    out = np.empty((len(frame), descriptors.dim), dtype=np.float64)
    for code, seq in enumerate(sequences):
        where = np.flatnonzero(codes == code)
        out[where] = descriptors.get(seq, "ref")[idx[where]]
    return codes, out


def _segment_counts(closer: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Counts of True per column segment (segments begin at ``starts``), cumulated = counts per pool prefix."""
    return np.cumsum(np.add.reduceat(closer, starts, axis=1, dtype=np.int32), axis=1)


def _count_closer(matrix, thresholds, starts, end, tol=None):
    """Per query row and threshold: pool-prefix counts of columns < threshold; rows needing exact recomputation.

    Shape:
        matrix: (B, M) distances (or squared distances with ``tol``); thresholds: (B, K); returns counts
        (B, K, len(starts)) and a (B,) bool of rows where some value is within ``tol`` of a threshold.
    """
    counts = np.zeros(thresholds.shape + (starts.shape[0],), dtype=np.int64)
    unsure = np.zeros(matrix.shape[0], dtype=bool)
    if end == 0:
        return counts, unsure
    view = matrix[:, :end]
    for j in range(thresholds.shape[1]):
        limit = thresholds[:, j] if tol is None else thresholds[:, j] - tol
        closer = view < limit[:, None]
        counts[:, j] = _segment_counts(closer, starts)
        if tol is not None:
            at_most = view <= (thresholds[:, j] + tol)[:, None]
            # per row at_most >= closer, so equal totals mean no row has a value within tol of its threshold
            if np.count_nonzero(at_most) != counts[:, j, -1].sum():
                unsure |= np.count_nonzero(at_most, axis=1) != counts[:, j, -1]
    return counts, unsure


def evaluate_retrieval(
    descriptors: DescriptorSet,
    queries: pd.DataFrame,
    distractors: pd.DataFrame,
    distance: str = "L2",
    ap: str = "trapezoid",
    pools=POOL_SIZES,
    paths: tuple[str, str] = ("queries", "distractors"),
    block_queries: int = 64,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Retrieval mAP per level and pool size.

    Args:
        descriptors: the descriptor set; must hold every sequence of the query/distractor files.
        queries, distractors: tables with columns ``s`` (categorical) and ``idx``.
        distance: ``"L2"`` or ``"L1"``.
        ap: ``"trapezoid"`` (official) or ``"standard"``.
        pools: pool sizes k (each >= 5): 5 positives + the first k - 5 distractors of other sequences.
        paths: file names used in error messages.
        block_queries: queries per distance block (memory ~ 10 * block_queries * n_distractors bytes).

    Returns:
        ``(table, per_query)``: table indexed by level (e, h, t) plus ``mean``, one column per pool size, of mAP
        over queries; per_query (3, Q, len(pools)) APs.

    Raises:
        DescriptorError / TaskFileError: unknown sequence or out-of-range index.
    """
    check_distance(distance)
    check_ap_kind(ap)
    pools = tuple(int(k) for k in pools)
    if not pools or min(pools) < NUM_POSITIVES:
        raise ValueError(f"`pools` must be pool sizes >= {NUM_POSITIVES}. Received: pools={pools!r}")
    names = sorted({str(c) for frame in (queries, distractors) for c in frame["s"].cat.categories})
    sequences = tuple(names)
    descriptors.require(sequences)
    q_codes, q_desc = _ref_rows(descriptors, queries, sequences, paths[0])
    d_codes, d_desc = _ref_rows(descriptors, distractors, sequences, paths[1])
    q_idx = queries["idx"].to_numpy()
    q_desc = q_desc.astype(np.float32).astype(np.float64)  # the official `descr_from_idx(...).astype(np.float32)`
    d_desc = d_desc.astype(np.float32).astype(np.float64)

    # exact distances from each query to its 5 positives, per level: (3, Q, 5)
    pos_dist = np.empty((len(NOISE_LEVELS), q_desc.shape[0], NUM_POSITIVES))
    for li, level in enumerate(NOISE_LEVELS):
        for k, image in enumerate(TARGET_IMAGES):
            positives = np.empty_like(q_desc)
            for code, seq in enumerate(sequences):
                where = np.flatnonzero(q_codes == code)
                positives[where] = descriptors.get(seq, patch_type_for(level, image))[q_idx[where]]
            pos_dist[li, :, k] = row_distances(q_desc, positives, distance)

    q_sq, d_sq = squared_norms(q_desc), squared_norms(d_desc)
    max_sq = max(float(d_sq.max(initial=0.0)), float(np.max(pos_dist, initial=0.0) ** 2))
    per_query = np.empty((len(NOISE_LEVELS), q_desc.shape[0], len(pools)))
    for code in np.unique(q_codes):
        cols = np.flatnonzero(d_codes != code)
        cuts = np.minimum(np.array(pools) - NUM_POSITIVES, cols.shape[0])
        bounds = np.unique(cuts[cuts > 0])
        starts = np.concatenate([[0], bounds[:-1]]).astype(np.intp)
        end = int(bounds[-1]) if bounds.size else 0
        pool_col = np.searchsorted(bounds, cuts)  # which prefix count each pool reads (cuts == 0 -> none)
        pool_empty = cuts == 0
        group_desc, group_sq = d_desc[cols[:end]], d_sq[cols[:end]]
        members = np.flatnonzero(q_codes == code)
        for start in range(0, members.shape[0], block_queries):
            rows = members[start : start + block_queries]
            thresholds = pos_dist[:, rows, :].transpose(1, 0, 2).reshape(rows.shape[0], -1)  # (B, 3*5)
            if distance == "L2":
                matrix = approx_sq_l2(q_desc[rows], group_desc, q_sq[rows], group_sq)
                tol = l2_tolerance(q_sq[rows], max_sq)
                counts, unsure = _count_closer(matrix, thresholds**2, starts, end, tol=tol)
                del matrix
                if unsure.any():
                    exact = exact_matrix_dedup(q_desc[rows[unsure]], group_desc, "L2")
                    counts[unsure] = _count_closer(exact, thresholds[unsure], starts, end)[0]
            else:
                matrix = exact_matrix(q_desc[rows], group_desc, "L1")
                counts = _count_closer(matrix, thresholds, starts, end)[0]
                del matrix
            counts = counts.reshape(rows.shape[0], len(NOISE_LEVELS), NUM_POSITIVES, -1)
            for pi in range(len(pools)):
                if pool_empty[pi] or not bounds.size:
                    before = np.zeros(counts.shape[:3])
                else:
                    before = counts[..., pool_col[pi]]
                before = np.sort(before, axis=2)  # positives in rank order (counts grow with distance)
                for li in range(len(NOISE_LEVELS)):
                    per_query[li, rows, pi] = ap_from_negatives_before(before[:, li], NUM_POSITIVES, ap)
    table = pd.DataFrame(per_query.mean(axis=1), index=list(NOISE_LEVELS), columns=list(pools))
    table.loc["mean"] = table.mean(axis=0)
    table.index.name = "level"
    return table, per_query
