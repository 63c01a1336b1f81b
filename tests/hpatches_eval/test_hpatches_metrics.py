"""Metrics against hand-computed values (official hpatches-benchmark ``python/utils/metrics.py`` semantics)."""

import numpy as np
import pytest

from hpatches_eval.metrics import ap_from_negatives_before, pr, roc, tpfp, trapezoid


@pytest.mark.parametrize("rank", [1, 2, 3, 7, 50])
def test_single_positive_at_rank(rank):
    scores = -np.arange(rank, dtype=float)  # rank - 1 negatives above the positive
    labels = np.zeros(rank)
    labels[-1] = 1
    _, _, ap_trap = pr(scores, labels)
    _, _, ap_std = pr(scores, labels, ap="standard")
    expected_trap = 1.0 if rank == 1 else 1.0 / (2 * rank)
    # the curve starts at precision 1e-10/(rank-1) instead of 0 (official max(tp, 1e-10)), hence 1e-10 tolerance
    assert ap_trap == pytest.approx(expected_trap, abs=1e-10)
    assert ap_std == pytest.approx(1.0 / rank, abs=1e-15)


def test_rank_two_numbers_from_protocol_notes():
    assert pr([1.0, 0.0], [0, 1])[2] == pytest.approx(0.25, abs=1e-10)
    assert pr([1.0, 0.0], [0, 1], ap="standard")[2] == 0.5


def test_ties_keep_input_order():
    # equal scores: the stable sort keeps the first listed entry first
    assert pr([0.5, 0.5], [0, 1])[2] == pytest.approx(0.25, abs=1e-10)  # negative first: tie goes against
    assert pr([0.5, 0.5], [1, 0])[2] == 1.0  # positive first: tie goes for
    assert roc([0.5, 0.5], [0, 1])[2] == 0.0
    assert roc([0.5, 0.5], [1, 0])[2] == 1.0


def test_numpos_phantoms():
    tp, fp, p, n, perm = tpfp(np.array([3.0, 2.0, 1.0]), np.array([1, 0, 1]), numpos=4)
    assert tp.tolist() == [0, 1, 1, 2] and fp.tolist() == [0, 0, 1, 1]
    assert (p, n) == (4, 1) and perm.tolist() == [0, 1, 2]
    precision, recall, ap = pr([3.0, 2.0, 1.0], [1, 0, 1], numpos=4)
    np.testing.assert_allclose(recall, [0, 0.25, 0.25, 0.5])
    np.testing.assert_allclose(precision, [1, 1, 0.5, 2 / 3])
    assert ap == pytest.approx(0.25 * 2 / 2 + 0.25 * (0.5 + 2 / 3) / 2, abs=1e-15)
    assert pr([3.0, 2.0, 1.0], [1, 0, 1], numpos=4, ap="standard")[2] == pytest.approx((1 + 2 / 3) / 4)


def test_numpos_smaller_than_positives_raises():
    with pytest.raises(ValueError, match="`numpos` must be >= the number of positives"):
        tpfp([1.0, 2.0], [1, 1], numpos=1)


def test_roc_auc_tiny_case():
    fpr, tpr, auc = roc([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    assert auc == 0.75  # 3 of the 4 (positive, negative) pairs ordered correctly


def test_trapezoid_matches_numpy():
    rng = np.random.default_rng(0)
    y, x = rng.random(100), np.sort(rng.random(100))
    assert trapezoid(y, x) == pytest.approx(np.trapezoid(y, x), rel=1e-14)
    assert trapezoid([1.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="`y` and `x` must have the same shape"):
        trapezoid([1.0, 2.0], [0.0])


@pytest.mark.parametrize("ap", ["trapezoid", "standard"])
def test_ap_from_negatives_before_equals_pr(ap):
    rng = np.random.default_rng(1)
    for _ in range(50):
        n_neg = int(rng.integers(0, 30))
        dist = np.concatenate([rng.integers(0, 6, 5), rng.integers(0, 6, n_neg)]).astype(float)
        labels = np.r_[np.ones(5), np.zeros(n_neg)]
        expected = pr(-dist, labels, ap=ap)[2]
        before = np.sort([np.count_nonzero(dist[5:] < d) for d in dist[:5]])[None, :]
        assert ap_from_negatives_before(before, 5, ap)[0] == pytest.approx(expected, abs=1e-15)


def test_unknown_ap_kind_raises():
    with pytest.raises(ValueError, match="`ap` must be one of"):
        pr([1.0], [1], ap="interpolated")
