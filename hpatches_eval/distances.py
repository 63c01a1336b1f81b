"""Exact, memory-bounded L2/L1 distances between descriptor rows.

Every distance that decides a ranking is computed the same way: in float64, ``sum_k (a_k - b_k)^2`` (or
``|a_k - b_k|``) accumulated **sequentially over k** (the order of scipy's ``cdist`` C loop), then ``sqrt`` for L2.
So a given pair of vectors always gets bit-identical distances, whichever function computed it, and exact ties
(duplicated or quantised descriptors) stay exact ties, which the official stable-sort tie rules depend on.

For speed, L2 comparisons are first made on a BLAS expansion with a bounded error and only the unclear ones are
recomputed exactly: retrieval uses the float64 ``|a|^2 + |b|^2 - 2 a.b`` (`approx_sq_l2`, error bound
`l2_tolerance`); `nearest_neighbours` ranks with the float32 ``|b|^2 - 2 a.b`` (error bound `_float32_tolerance`).

Any finite float32 input scale gives exact results: float64 holds the squares and sums of any float32 values
(largest ~1.2e77 per term, smallest ~2e-90), and the float32 ranking of `nearest_neighbours` first divides both
sets by one common power of two (`power_of_two_scale`), which is exact in float64 and keeps every ranking and
every tie, so its squared norms can neither overflow (x 1e30) nor underflow to false ties (x 1e-30).
"""

from __future__ import annotations

import numpy as np

DISTANCES = ("L2", "L1")
_REL_TOL = 1e-9  # far above the expansion's error (~D * 1.1e-16 relative to (|a| + |b|)^2)
_PAIR_BLOCK = 128  # pairs per block: both gathered blocks stay in L1/L2 while written transposed
_MATRIX_CELLS = 4_000_000  # float64 cells per block of an exact matrix (32 MB)
_FEW_ROWS = 16  # up to this many rows of `a`, `exact_matrix_dedup` skips the search for b's distinct rows


def check_distance(distance: str) -> str:
    """Returns ``distance`` if it is ``"L2"`` or ``"L1"``, else raises `ValueError`."""
    if distance not in DISTANCES:
        raise ValueError(f"`distance` must be one of {DISTANCES}. Received: distance={distance!r}")
    return distance


def row_distances(a: np.ndarray, b: np.ndarray, distance: str = "L2") -> np.ndarray:
    """Distance between row i of ``a`` and row i of ``b``, exact (see module docstring), in blocks.

    Shape:
        a, b: (M, D) float; returns (M,) float64.
    """
    check_distance(distance)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"`a` and `b` must be (M, D) arrays of one shape. Received: {a.shape} and {b.shape}")
    out = np.empty(a.shape[0], dtype=np.float64)
    buffer = np.empty((a.shape[1], min(_PAIR_BLOCK, a.shape[0])), dtype=np.float64)
    for start in range(0, a.shape[0], _PAIR_BLOCK):
        stop = min(start + _PAIR_BLOCK, a.shape[0])
        out[start:stop] = _block_distances(a[start:stop], b[start:stop], buffer, distance)
    return out


def gathered_row_distances(table: np.ndarray, rows1: np.ndarray, rows2: np.ndarray, distance: str = "L2"):
    """`row_distances` of ``table[rows1]`` and ``table[rows2]``, gathering one block at a time (bounded memory).

    Shape:
        table: (R, D); rows1, rows2: (M,) int indices into table; returns (M,) float64.
    """
    check_distance(distance)
    out = np.empty(rows1.shape[0], dtype=np.float64)
    buffer = np.empty((table.shape[1], min(_PAIR_BLOCK, rows1.shape[0])), dtype=np.float64)
    for start in range(0, rows1.shape[0], _PAIR_BLOCK):
        stop = min(start + _PAIR_BLOCK, rows1.shape[0])
        out[start:stop] = _block_distances(table[rows1[start:stop]], table[rows2[start:stop]], buffer, distance)
    return out


def _block_distances(a: np.ndarray, b: np.ndarray, buffer: np.ndarray, distance: str) -> np.ndarray:
    """Row-wise distances of a cache-sized block: float64 differences written transposed, then summed row by row
    (the sequential order over the D dimensions).

    Shape:
        a, b: (B, D); buffer: (D, >= B) float64 scratch; returns (B,) float64.
    """
    diff = buffer[:, : a.shape[0]]
    np.subtract(a.T, b.T, out=diff, dtype=np.float64)
    if distance == "L2":
        np.multiply(diff, diff, out=diff)
    else:
        np.abs(diff, out=diff)
    if diff.shape[1] > 1:  # row after row, element-wise: numpy reduces a non-inner axis in sequential order
        acc = np.add.reduce(diff, axis=0)
    else:  # a single column would be reduced pairwise, so add explicitly
        acc = diff[0].copy()
        for row in diff[1:]:
            acc += row
    return np.sqrt(acc) if distance == "L2" else acc


def exact_matrix(a: np.ndarray, b: np.ndarray, distance: str = "L2") -> np.ndarray:
    """Full exact distance matrix, accumulated dimension by dimension in row blocks (slow, exact).

    Shape:
        a: (Na, D), b: (Nb, D); returns (Na, Nb) float64.
    """
    check_distance(distance)
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float64)
    b_t = np.ascontiguousarray(b.T, dtype=np.float64)
    rows = max(1, _MATRIX_CELLS // max(1, b.shape[0]))
    for start in range(0, a.shape[0], rows):
        a_t = np.ascontiguousarray(a[start : start + rows].T, dtype=np.float64)
        acc = np.zeros((a_t.shape[1], b.shape[0]), dtype=np.float64)
        tmp = np.empty_like(acc)
        for k in range(a_t.shape[0]):
            np.subtract(a_t[k][:, None], b_t[k][None, :], out=tmp)
            if distance == "L2":
                np.multiply(tmp, tmp, out=tmp)
            else:
                np.abs(tmp, out=tmp)
            acc += tmp
        out[start : start + a_t.shape[1]] = np.sqrt(acc) if distance == "L2" else acc
    return out


def exact_matrix_dedup(a: np.ndarray, b: np.ndarray, distance: str = "L2") -> np.ndarray:
    """`exact_matrix` computed on the distinct rows of ``b`` only (fast for collapsed descriptors), same values.

    For a few rows of ``a`` the plain matrix is cheaper than finding ``b``'s distinct rows, so it is used directly.
    """
    if a.shape[0] <= _FEW_ROWS:
        return exact_matrix(a, b, distance)
    unique, inverse = np.unique(b, axis=0, return_inverse=True)
    if unique.shape[0] > 0.5 * b.shape[0]:
        return exact_matrix(a, b, distance)
    return exact_matrix(a, unique, distance)[:, inverse.ravel()]


def squared_norms(x: np.ndarray) -> np.ndarray:
    """Row-wise squared L2 norms in float64. Shape: x (N, D) -> (N,)."""
    x = np.asarray(x, dtype=np.float64)
    return np.einsum("ij,ij->i", x, x)


def approx_sq_l2(a: np.ndarray, b: np.ndarray, a_sq: np.ndarray | None = None, b_sq: np.ndarray | None = None):
    """Squared L2 distances by the BLAS expansion, clipped at 0; error at most `l2_tolerance`.

    Shape:
        a: (Na, D), b: (Nb, D) float64; a_sq (Na,), b_sq (Nb,) optional precomputed squared norms;
        returns (Na, Nb) float64.
    """
    a_sq = squared_norms(a) if a_sq is None else a_sq
    b_sq = squared_norms(b) if b_sq is None else b_sq
    out = a @ b.T
    out *= -2.0
    out += a_sq[:, None]
    out += b_sq[None, :]
    np.maximum(out, 0.0, out=out)
    return out


def l2_tolerance(a_sq: np.ndarray, max_other_sq: float) -> np.ndarray:
    """Per-row bound on |approx_sq_l2 - exact squared distance| (very conservative: 1e-9 (|a| + max|b|)^2).

    Shape:
        a_sq: (Na,) squared norms; returns (Na,) float64.
    """
    return _REL_TOL * (np.sqrt(a_sq) + np.sqrt(max_other_sq)) ** 2 + 1e-300


def power_of_two_scale(*arrays: np.ndarray) -> int:
    """The exponent ``e`` such that ``2**-e`` brings the largest magnitude of all ``arrays`` into [0.5, 1).

    Multiplying by a power of two is exact in floating point (barring over/underflow), so distances scale by
    exactly ``2**-e`` and rankings and ties are kept. Returns 0 for empty, all-zero or non-finite inputs.
    """
    largest = max((float(np.max(np.abs(x), initial=0.0)) for x in arrays), default=0.0)
    if largest == 0.0 or not np.isfinite(largest):
        return 0
    return int(np.frexp(largest)[1])


def nearest_neighbours(a: np.ndarray, b: np.ndarray, distance: str = "L2", block_rows: int = 2048):
    """Exact nearest neighbour in ``b`` of each row of ``a``: ``argmin`` (first index on ties) and its distance.

    Identical to ``D = exact_matrix(a, b); idx = D.argmin(1); D[arange, idx]`` but, for L2, ranks candidates with
    a single-precision BLAS product ``|b|^2 - 2 a.b`` and recomputes exactly only the rows whose two best
    candidates are closer than that product's error bound (`_float32_tolerance`). The ranking runs on both sets
    divided by a common power of two (`power_of_two_scale`), so any input scale (e.g. x 1e30, whose squared norms
    overflow float32, or x 1e-30, whose products underflow to 0) gives the same exact answer.

    Shape:
        a: (Na, D), b: (Nb, D) float; returns idx (Na,) int64 and dist (Na,) float64.
    """
    check_distance(distance)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    idx = np.empty(a.shape[0], dtype=np.int64)
    ranked_by_blas = distance == "L2" and b.shape[0] > 0
    if ranked_by_blas:
        exponent = -power_of_two_scale(a, b)
        b_scaled = np.ldexp(b, exponent)  # exact: a power of two, far from float64's limits for float32 data
        b_t = np.ascontiguousarray(b_scaled.T, dtype=np.float32)
        b_sq = squared_norms(b_scaled).astype(np.float32)
        max_b = float(np.sqrt(b_sq.max()))
    for start in range(0, a.shape[0], block_rows):
        block = a[start : start + block_rows]
        if not ranked_by_blas:
            idx[start : start + block.shape[0]] = np.argmin(exact_matrix(block, b, distance), axis=1)
            continue
        block_scaled = np.ldexp(block, exponent)
        scores = (block_scaled * -2.0).astype(np.float32) @ b_t  # -2 a.b (scaling by -2 is exact)
        scores += b_sq[None, :]  # |b|^2 - 2 a.b ranks like the squared distance
        best = np.argmin(scores, axis=1)
        rows = np.arange(block.shape[0])
        limit = scores[rows, best] + 2.0 * _float32_tolerance(np.sqrt(squared_norms(block_scaled)), max_b, b.shape[1])
        scores[rows, best] = np.inf
        unsure = np.flatnonzero(scores.min(axis=1) <= limit)  # a runner-up within the error bound
        if unsure.size:
            close = scores[unsure] <= limit[unsure, None]
            close[np.arange(unsure.size), best[unsure]] = True
            best[unsure] = _exact_argmin_among(block[unsure], b, close)
        idx[start : start + block.shape[0]] = best
    return idx, row_distances(a, b[idx], distance)


def _exact_argmin_among(a: np.ndarray, b: np.ndarray, candidates: np.ndarray, max_pairs: int = 2_000_000):
    """Per row of ``a``: the exact nearest row of ``b`` among the ``candidates`` (first index on ties).

    Shape:
        a: (Na, D), b: (Nb, D) float64; candidates: (Na, Nb) bool, at least one True per row; returns (Na,) int64.
    """
    rows, cols = np.nonzero(candidates)  # row-major: columns ascend within each row
    if rows.shape[0] > max_pairs:  # e.g. collapsed descriptors: a full exact matrix on b's distinct rows is cheaper
        return np.argmin(exact_matrix_dedup(a, b, "L2"), axis=1)
    dist = row_distances(a[rows], b[cols], "L2")
    order = np.lexsort((cols, dist, rows))  # by row, then distance, then column
    firsts = order[np.concatenate([[0], np.flatnonzero(np.diff(rows[order])) + 1])]
    return cols[firsts]


def _float32_tolerance(a_norm: np.ndarray, max_b_norm: float, dim: int) -> np.ndarray:
    """Bound on the error of the single-precision ``|b|^2 - 2 a.b`` (inputs rounded to float32 included).

    Rounding the inputs and a length-``dim`` float32 dot product are each within ``(dim + 2) * 2**-24`` of
    ``(|a| + |b|)^2``; the bound doubles that and adds a margin, far above the errors seen in practice.

    Shape:
        a_norm: (Na,) row norms; returns (Na,) float32-safe float64 tolerances.
    """
    return 4.0 * (dim + 4) * 2.0**-24 * (a_norm + max_b_norm) ** 2 + 1e-30
