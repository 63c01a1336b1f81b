"""Hand-computed values written to kill the mutants that survived the rest of tests/hpatches_eval (see
docs/mutation_testing.md): defaults, boundaries, dtypes and messages of the functions that make the numbers."""

import numpy as np
import pytest

import hpatches_eval.distances as distances_module
from hpatches_eval.distances import (
    _exact_argmin_among,
    _float32_tolerance,
    approx_sq_l2,
    exact_matrix,
    exact_matrix_dedup,
    l2_tolerance,
)
from hpatches_eval.metrics import ap_from_curve, ap_from_negatives_before, roc, tpfp, trapezoid


# --- metrics ------------------------------------------------------------------------------------------------------


def test_trapezoid_computes_in_float64_whatever_the_input_dtype():
    y, x = np.float32([0.1, 0.7, 0.3]), np.array([0.0, 0.3, 1.0])
    assert trapezoid(y, x) == float(np.trapezoid(y.astype(np.float64), x))  # float32 sums would differ at 1e-9
    x32, y64 = np.float32([0.1, 1000.3]), np.array([0.5, 0.25])  # float32 diff(x) would round 1000.3 - 0.1
    assert trapezoid(y64, x32) == float(np.trapezoid(y64, x32.astype(np.float64)))
    assert trapezoid(np.int8([100, 100]), np.int8([0, 1])) == 100.0  # no int8 wrap-around


def test_roc_uses_numpos():
    # one retrieved positive out of numpos = 2: tpr tops at 0.5
    fpr, tpr, auc = roc([0.9, 0.1], [1, 0], numpos=2)
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5])
    np.testing.assert_allclose(fpr, [0, 0, 1])
    assert auc == 0.5
    assert roc([0.9, 0.1], [1, 0])[2] == 1.0


def test_ap_from_negatives_before_defaults_and_edges():
    # default ap is the official trapezoid: positive 1 first, positive 2 after 1 negative (ranks 1 and 3)
    assert ap_from_negatives_before([[0, 1]], 2)[0] == pytest.approx(0.5 * 1 + 0.5 * (0.5 + 2 / 3) / 2, abs=1e-12)
    assert ap_from_negatives_before([[0, 1]], 2, "standard")[0] == pytest.approx((1 + 2 / 3) / 2)
    assert ap_from_negatives_before([[0]], 1).tolist() == [1.0]  # numpos = 1 is a real ranking
    assert ap_from_negatives_before([[3]], 1, "standard").tolist() == [0.25]
    np.testing.assert_array_equal(ap_from_negatives_before(np.zeros((3, 0)), 0), np.zeros(3))  # one AP per query
    with pytest.raises(ValueError, match=r"^`neg_before` must be 2-D \(Q, K\)\. Received: shape=\(2,\)"):
        ap_from_negatives_before([0, 1], 2)


def test_tpfp_edges():
    # uint8 scores must rank 2 before 0 (negating a uint8 array would wrap 2 around to 254)
    tp, fp, p, n, perm = tpfp(np.uint8([0, 2]), [0, 1])
    assert perm.tolist() == [1, 0] and tp.tolist() == [0, 1, 1] and fp.tolist() == [0, 0, 1] and (p, n) == (1, 1)
    # nothing retrieved: only phantom positives, the curve is the single starting point
    tp, fp, p, n, perm = tpfp([], [], numpos=2)
    assert tp.tolist() == [0] and fp.tolist() == [0] and (p, n) == (2, 0) and perm.tolist() == []
    tp, fp, p, n, perm = tpfp([-np.inf, -np.inf], [1, 0], numpos=3)
    assert tp.tolist() == [0] and fp.tolist() == [0] and (p, n) == (3, 1)
    with pytest.raises(ValueError, match=r"^`scores` and `labels` must have the same length\. Received: 2 and 3$"):
        tpfp([1.0, 2.0], [1, 0, 1])


def test_ap_from_curve_defaults_and_no_positive():
    precision, recall, tp = np.array([1.0, 1.0, 0.5]), np.array([0.0, 0.5, 0.5]), np.array([0, 1, 1])
    assert ap_from_curve(precision, recall, tp, 2) == 0.5 * (1.0 + 1.0) / 2  # trapezoid by default
    assert ap_from_curve(precision, recall, tp, 2, "standard") == 0.5
    assert ap_from_curve(np.array([1.0]), np.array([0.0]), np.array([0]), 0, "standard") == 0.0


# --- distances ----------------------------------------------------------------------------------------------------


def _spy_exact_matrix(monkeypatch):
    """Records the row count of `b` in every `exact_matrix` call made by `exact_matrix_dedup`."""
    calls = []
    real = distances_module.exact_matrix

    def spy(a, b, distance="L2"):
        calls.append(b.shape[0])
        return real(a, b, distance)

    monkeypatch.setattr(distances_module, "exact_matrix", spy)
    return calls


@pytest.mark.parametrize("distance", ["L2", "L1"])
def test_exact_matrix_dedup_equals_the_plain_matrix_on_every_path(distance, monkeypatch):
    rng = np.random.default_rng(3)
    distinct = rng.normal(size=(5, 3)).astype(np.float32)
    collapsed = distinct[[0, 1, 2, 3, 4, 0, 1, 2, 3, 4]]  # 10 rows, exactly half distinct: the dedup path
    varied = rng.normal(size=(10, 3)).astype(np.float32)
    calls = _spy_exact_matrix(monkeypatch)
    for rows_a, b, path in ((16, collapsed, 10), (17, collapsed, 5), (17, varied, 10), (40, collapsed[:7], 7)):
        a = rng.normal(size=(rows_a, 3)).astype(np.float32)
        calls.clear()
        got = exact_matrix_dedup(a, b, distance)
        assert calls == [path], (rows_a, len(b))  # few rows of a / mostly distinct b: plain; else distinct rows
        np.testing.assert_array_equal(got, exact_matrix(a, b, distance))
        brute = np.sqrt(((a[:, None].astype(np.float64) - b[None]) ** 2).sum(-1)) if distance == "L2" else \
            np.abs(a[:, None].astype(np.float64) - b[None]).sum(-1)
        np.testing.assert_allclose(got, brute, rtol=1e-12)


def test_exact_matrix_dedup_defaults_to_l2():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(2, 3))[[0, 1, 0, 1, 0, 1]]
    np.testing.assert_array_equal(exact_matrix_dedup(a, b), exact_matrix(a, b, "L2"))
    np.testing.assert_array_equal(exact_matrix_dedup(a[:3], b), exact_matrix(a[:3], b, "L2"))


def test_approx_sq_l2_norms_and_clipping():
    a, b = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([[0.0, 2.0], [1.0, 1.0], [-2.0, 0.5]])
    exact = ((a[:, None] - b[None]) ** 2).sum(-1)
    np.testing.assert_allclose(approx_sq_l2(a, b), exact, rtol=1e-12, atol=1e-12)  # norms computed when absent
    np.testing.assert_allclose(approx_sq_l2(a, b, (a**2).sum(1), (b**2).sum(1)), exact, rtol=1e-12, atol=1e-12)
    # norms given are used as given (here deliberately wrong), and the result is clipped at 0
    ones = np.ones((1, 2))
    assert approx_sq_l2(ones, ones, a_sq=np.array([10.0]), b_sq=np.array([1.0])).tolist() == [[7.0]]
    assert approx_sq_l2(ones, ones, a_sq=np.zeros(1), b_sq=np.zeros(1)).tolist() == [[0.0]]


def test_l2_tolerance_formula():
    np.testing.assert_allclose(l2_tolerance(np.array([4.0, 0.0]), 9.0), [1e-9 * 25, 1e-9 * 9], rtol=1e-12)
    assert l2_tolerance(np.array([0.0]), 0.0)[0] > 0.0  # never a zero (or negative) tolerance


def test_float32_tolerance_formula():
    """4 (D + 4) 2**-24 (|a| + max|b|)^2 + 1e-30: the bound under which nearest_neighbours trusts float32."""
    got = _float32_tolerance(np.array([1.0, 0.0]), 2.0, 10)
    np.testing.assert_allclose(got, [4 * 14 * 2.0**-24 * 9, 4 * 14 * 2.0**-24 * 4], rtol=1e-12)
    assert _float32_tolerance(np.array([0.0]), 0.0, 10)[0] > 0.0


def test_exact_argmin_among_fallback_for_many_candidates():
    """Above `max_pairs` candidate pairs the exact nearest row comes from a full matrix on b's distinct rows
    (first index on ties), the same answer as the pair-by-pair path."""
    rng = np.random.default_rng(6)
    b = rng.normal(size=(6, 3))[[0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]]  # ties: the first copy must win
    a = b[[3, 9, 0, 11]] + 1e-3 * rng.normal(size=(4, 3))
    candidates = np.ones((4, 12), dtype=bool)
    brute = np.argmin(np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)), axis=1)
    assert brute.tolist() == [3, 3, 0, 5]
    assert _exact_argmin_among(a, b, candidates).tolist() == brute.tolist()
    assert _exact_argmin_among(a, b, candidates, max_pairs=0).tolist() == brute.tolist()
    many = np.tile(a, (5, 1))  # 20 rows > the few-rows shortcut: the dedup matrix is really used
    assert _exact_argmin_among(many, b, np.ones((20, 12), dtype=bool), max_pairs=0).tolist() == brute.tolist() * 5


@pytest.mark.parametrize("distance", ["L2", "L1"])
def test_exact_matrix_in_many_row_blocks(distance, monkeypatch):
    monkeypatch.setattr(distances_module, "_MATRIX_CELLS", 8)  # 8 cells / 4 columns = blocks of 2 rows of a
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(7, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    diff = a[:, None].astype(np.float64) - b[None]
    brute = np.sqrt((diff**2).sum(-1)) if distance == "L2" else np.abs(diff).sum(-1)
    np.testing.assert_allclose(exact_matrix(a, b, distance), brute, rtol=1e-12)
