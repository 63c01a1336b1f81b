"""Patch retrieval, exactly as the official ``eval_retrieval`` (protocol B.4), vectorised over queries.

Queries and distractors are ``ref`` patches, rounded to float32 as the official code does. For a query (seq, idx)
and level t the ranked list is ``D_ = [5 positives (t1..t5, row idx); distractors of other sequences, in file
order]``; the AP at pool size k ranks ``D_[:k]`` by a stable sort, so a distractor at exactly the distance of a
positive ranks after it. Hence the AP only depends on, for each positive, the number of pool distractors that are
**strictly** closer (`metrics.ap_from_negatives_before`), which is counted for every query block and every pool
prefix at once. L2 comparisons use the BLAS expansion and are redone exactly for any query where one falls within
the expansion's error bound.

A pool can hold fewer distractors than its size: the file may be too small, and the distractors of the query's own
sequence are always removed. `pool_flags` says so (``retrieval_no_distractors``, ``retrieval_short_pools``), see
there for the exact rule.
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
from hpatches_eval.guards import make_flag, name_list
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


def check_rows(descriptors: DescriptorSet, queries, distractors, paths=("queries", "distractors")) -> None:
    """Validates the retrieval files against a descriptor set (sequences present, indices in range), no work.

    Raises:
        DescriptorError: a referenced sequence is missing from the descriptor set (or its files are invalid).
        TaskFileError: an index is out of range.
    """
    sequences = tuple(sorted({str(c) for frame in (queries, distractors) for c in frame["s"].cat.categories}))
    descriptors.require(sequences)
    lengths = np.array([descriptors.num_patches(seq) for seq in sequences], dtype=np.int64)
    for frame, path in zip((queries, distractors), paths):
        codes = sequence_codes(frame["s"], sequences, path)
        check_indices(frame["idx"].to_numpy(), lengths[codes], path, "idx")


def pool_flags(queries: pd.DataFrame, distractors: pd.DataFrame, pools=POOL_SIZES, warn: bool = True) -> list[dict]:
    """Flags for retrieval pools that hold no distractors, or fewer than their size (protocol B.4).

    The pool of size k of a query holds its 5 positives and the first k - 5 distractors **of other sequences**, so
    a query keeps ``len(distractors) - (distractors of its own sequence)`` of them at most. Rules:

    * ``retrieval_no_distractors``: some queries keep no distractor at all (e.g. a split with one test sequence):
      their AP is 1.0 at every pool size, whatever the descriptor.
    * ``retrieval_short_pools``: a pool k other than the largest holds fewer than k - 5 distractors for some query
      (it then ranks the same list as every larger pool, and the mean over pools drifts from the official one); the
      largest pool means "all distractors of other sequences" (the official pool 20000 = the 20000 distractors of
      the file, always short of 19995 after removing the query's own sequence), so it is flagged only when the
      file itself holds fewer than k - 5 distractors. Queries with no distractor are left to the first flag.

    Returns:
        A (possibly empty) list of flags. ``retrieval_no_distractors`` carries ``queries`` (count) and
        ``sequences``; ``retrieval_short_pools`` carries ``pools``: one ``{"pool", "needed", "short_queries",
        "min_distractors"}`` per short pool.

    Shape:
        queries, distractors: tables with a categorical column ``s``.
    """
    pools = sorted({int(k) for k in pools})
    query_seqs = queries["s"].astype(str).to_numpy()
    own = distractors["s"].astype(str).value_counts()
    kept = len(distractors) - pd.Series(query_seqs).map(own).fillna(0).to_numpy(dtype=np.int64)
    flags = []
    empty = kept == 0
    if empty.any():
        names = sorted(set(query_seqs[empty]))
        meaning = ("retrieval is exactly 1.0 and meaningless" if empty.all()
                   else "they score 1.0 at every pool size and lift the retrieval mean")
        flags.append(make_flag(
            "retrieval_no_distractors",
            f"{int(empty.sum())} of {len(kept)} retrieval queries have no distractor of another sequence (all "
            f"{len(distractors)} distractors are in their own sequence; sequences {name_list(names)}): {meaning}.",
            warn=warn, queries=int(empty.sum()), sequences=names,
        ))
    short = []
    for k in pools:
        needed = k - NUM_POSITIVES
        if k == pools[-1]:
            lacking = ~empty & (kept < needed) if len(distractors) < needed else np.zeros_like(empty)
        else:
            lacking = ~empty & (kept < needed)
        if lacking.any():
            short.append({"pool": k, "needed": needed, "short_queries": int(lacking.sum()),
                          "min_distractors": int(kept[lacking].min())})
    if short:
        worst = max(short, key=lambda s: s["short_queries"])
        flags.append(make_flag(
            "retrieval_short_pools",
            f"retrieval pools {[s['pool'] for s in short]} hold fewer distractors than their size minus the 5 "
            f"positives (up to {worst['short_queries']} of {len(kept)} queries per pool, with as few as "
            f"{min(s['min_distractors'] for s in short)} distractors; the distractor file holds {len(distractors)}): "
            "a short pool ranks all of the query's distractors, the same list as every larger pool, so the retrieval "
            "mean over pools is not comparable with one on the official task files.",
            warn=warn, pools=short,
        ))
    return flags


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
