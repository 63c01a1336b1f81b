"""Ranking metrics of the official HPatches benchmark (``python/utils/metrics.py``), reproduced exactly.

Scores follow the official convention: larger = better, and the tasks pass ``scores = -distance``. Quirks kept on
purpose because they change the numbers:

- ranking is a **stable** sort of ``-scores``, so on ties the entry that comes first in the input stays first
  (verification lists negatives first, so ties count against the descriptor; retrieval lists positives first);
- ``tp``/``fp`` start with a leading 0, so the PR curve starts at (recall 0, precision 1);
- ``numpos`` appends ``numpos - p`` phantom positives with score ``-inf`` that are never retrieved but count in
  the recall denominator;
- precision is ``max(tp, 1e-10) / max(tp + fp, 1e-10)`` and the official "AP" is the trapezoid area under the
  PR curve (``ap="trapezoid"``); ``ap="standard"`` is the usual mean precision at each retrieved positive divided
  by ``numpos`` (MATLAB ``vl_pr`` style). A single positive at rank r scores 1/(2r) (r > 1) and 1/r respectively.
"""

from __future__ import annotations

import numpy as np

AP_KINDS = ("trapezoid", "standard")
_SMALL = 1e-10


def check_ap_kind(ap: str) -> str:
    """Returns ``ap`` if it is a known AP kind, else raises `ValueError`."""
    if ap not in AP_KINDS:
        raise ValueError(f"`ap` must be one of {AP_KINDS}. Received: ap={ap!r}")
    return ap


def trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    """Trapezoid rule ``sum(diff(x) * (y[1:] + y[:-1]) / 2)``, the same arithmetic as ``np.trapz``.

    Shape:
        y, x: (M,) float; returns a Python float (0.0 when M < 2).
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64).ravel()
    if y.shape != x.shape:
        raise ValueError(f"`y` and `x` must have the same shape. Received: y.shape={y.shape}, x.shape={x.shape}")
    if y.size < 2:
        return 0.0
    return float(np.add.reduce(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def tpfp(scores, labels, numpos: int | None = None):
    """Cumulative true/false positive counts along the ranking by decreasing score (official ``tpfp``).

    Args:
        scores: scores, larger = ranked first (the tasks pass ``-distance``).
        labels: 1/True for positives, 0/False for negatives.
        numpos: total number of positives; ``numpos - p`` never-retrieved phantom positives are added.

    Returns:
        ``(tp, fp, p, n, perm)``: ``tp``/``fp`` (M+1,) int64 with a leading 0, ``p`` positives (``numpos`` if
        given), ``n`` negatives, ``perm`` the stable ranking of the retrieved (finite-score) entries.

    Raises:
        ValueError: if shapes differ or ``numpos`` is smaller than the number of positives.

    Shape:
        scores, labels: (M,) or (M, 1).
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(
            f"`scores` and `labels` must have the same length. Received: {scores.shape[0]} and {labels.shape[0]}"
        )
    positive = labels == 1
    p = int(np.count_nonzero(positive))
    n = labels.shape[0] - p
    if numpos is not None:
        if numpos < p:
            raise ValueError(f"`numpos` must be >= the number of positives ({p}). Received: numpos={numpos!r}")
        extra = int(numpos) - p
        p = int(numpos)
        scores = np.concatenate([scores, np.full(extra, -np.inf)])
        positive = np.concatenate([positive, np.ones(extra, dtype=bool)])
    perm = np.argsort(-scores, kind="stable")
    retrieved = np.flatnonzero(scores[perm] > -np.inf)
    perm = perm[: retrieved[-1] + 1] if retrieved.size else perm[:0]
    sorted_positive = positive[perm]
    tp = np.concatenate([[0], np.cumsum(sorted_positive, dtype=np.int64)])
    fp = np.concatenate([[0], np.cumsum(~sorted_positive, dtype=np.int64)])
    return tp, fp, p, n, perm


def precision_recall_from_counts(tp: np.ndarray, fp: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Official precision ``max(tp,1e-10)/max(tp+fp,1e-10)`` and recall ``tp/max(p,1e-10)``.

    Shape:
        tp, fp: (M+1,); returns two (M+1,) float64 arrays.
    """
    recall = tp / float(max(p, _SMALL))
    precision = np.maximum(tp, _SMALL) / np.maximum(tp + fp, _SMALL)
    return precision, recall


def ap_from_curve(precision: np.ndarray, recall: np.ndarray, tp: np.ndarray, p: int, ap: str = "trapezoid") -> float:
    """AP of a PR curve: trapezoid area (official) or mean precision at each retrieved positive over ``p``."""
    check_ap_kind(ap)
    if ap == "trapezoid":
        return trapezoid(precision, recall)
    if p <= 0:
        return 0.0
    hits = np.flatnonzero(np.diff(tp) > 0) + 1
    return float(np.sum(precision[hits]) / p)


def pr(scores, labels, numpos: int | None = None, ap: str = "trapezoid"):
    """Precision/recall curve and AP (official ``pr``; ``ap="standard"`` for the usual AP).

    Returns:
        ``(precision, recall, ap_value)``.

    Shape:
        scores, labels: (M,); precision, recall: (M'+1,) with M' the retrieved entries.
    """
    tp, fp, p, _, _ = tpfp(scores, labels, numpos)
    precision, recall = precision_recall_from_counts(tp, fp, p)
    return precision, recall, ap_from_curve(precision, recall, tp, p, ap)


def roc(scores, labels, numpos: int | None = None):
    """ROC curve and its trapezoid area (official ``roc``).

    Returns:
        ``(fpr, tpr, auc)``.

    Shape:
        scores, labels: (M,); fpr, tpr: (M'+1,).
    """
    tp, fp, p, n, _ = tpfp(scores, labels, numpos)
    tpr = tp / float(max(p, _SMALL))
    fpr = fp / float(max(n, _SMALL))
    return fpr, tpr, trapezoid(tpr, fpr)


def ap_from_negatives_before(neg_before: np.ndarray, numpos: int, ap: str = "trapezoid") -> np.ndarray:
    """AP of many rankings given, for each positive, the number of negatives ranked before it.

    Equivalent to `pr` on each ranking: between two positives the curve only moves along precision at constant
    recall, which adds no trapezoid area, so only the points just before and at each positive matter. Phantom
    positives (``numpos`` larger than the positives given) contribute nothing, as in `tpfp`.

    Args:
        neg_before: counts of negatives ranked before each retrieved positive, non-decreasing along axis 1
            (positives in rank order).
        numpos: recall denominator (number of positives, including never-retrieved ones).
        ap: ``"trapezoid"`` (official) or ``"standard"``.

    Returns:
        (Q,) float64 APs.

    Shape:
        neg_before: (Q, K) integers with K <= numpos.
    """
    check_ap_kind(ap)
    neg_before = np.asarray(neg_before, dtype=np.float64)
    if neg_before.ndim != 2:
        raise ValueError(f"`neg_before` must be 2-D (Q, K). Received: shape={neg_before.shape}")
    k = neg_before.shape[1]
    if numpos <= 0:
        return np.zeros(neg_before.shape[0])
    tp_after = np.arange(1, k + 1, dtype=np.float64)
    if ap == "standard":
        return np.sum(tp_after / (tp_after + neg_before), axis=1) / numpos
    tp_before = tp_after - 1.0
    prec_before = np.maximum(tp_before, _SMALL) / np.maximum(tp_before + neg_before, _SMALL)
    prec_after = np.maximum(tp_after, _SMALL) / np.maximum(tp_after + neg_before, _SMALL)
    d_recall = tp_after / float(numpos) - tp_before / float(numpos)
    return np.sum(d_recall * (prec_before + prec_after) / 2.0, axis=1)
