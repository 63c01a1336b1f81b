"""FPR95: the false-positive rate at the distance threshold where 95 % of the matching pairs are accepted.

The protocol of the Brown / UBC PhotoTour papers (L2-Net, HardNet, SOSNet, HyNet; the code is HardNet's
``EvalMetrics.ErrorRateAt95Recall``): sort the pairs by descriptor distance, ascending; take the shortest prefix
that holds ``ceil(recall * P)`` of the ``P`` matching pairs (the comparison ``cumsum >= recall * P`` of the
reference code); FPR = non-matching pairs in that prefix / all non-matching pairs.

Ties. When non-matching pairs have exactly the distance of the threshold pair, the reference code's answer
depends on the order ``np.argsort`` (quicksort, not stable) leaves them in. We make the order explicit:

* ``"threshold"`` (default, order-free): every pair with distance ``<=`` the threshold distance is accepted, so
  tied non-matching pairs count as false positives (the upper bound of what the reference code can return);
* ``"optimistic"``: tied non-matching pairs are sorted after the matching ones, so only distances ``<`` the
  threshold count (the lower bound);
* ``"stable"``: a stable sort, ties kept in the order of the pair list (the reference code with
  ``kind="stable"``).

All three agree when no non-matching pair has exactly the threshold distance, which is the usual case for float
descriptors. Note that the older ``pytorch/examples`` metric of the same name returns the false *discovery* rate
(FP / accepted), which some early papers reported by mistake; this module computes FP / all negatives.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

TIE_RULES = ("threshold", "optimistic", "stable")


@dataclasses.dataclass(frozen=True)
class FprResult:
    """The FPR at a recall, with what it was computed from.

    Attributes:
        fpr: false-positive rate, a fraction in [0, 1] (papers print ``100 * fpr``).
        threshold: the distance of the pair that reaches the recall (pairs at or below it are accepted).
        false_positives: non-matching pairs accepted.
        negatives: all non-matching pairs.
        positives: all matching pairs.
        positives_needed: ``ceil(recall * positives)``.
        tied_negatives: non-matching pairs whose distance equals ``threshold`` (where the tie rule matters).
        recall: the recall asked for.
        ties: the tie rule used.
    """

    fpr: float
    threshold: float
    false_positives: int
    negatives: int
    positives: int
    positives_needed: int
    tied_negatives: int
    recall: float
    ties: str


def _check_inputs(distances, is_match, recall: float, ties: str) -> tuple[np.ndarray, np.ndarray]:
    distances = np.asarray(distances, dtype=np.float64)
    is_match = np.asarray(is_match)
    if distances.ndim != 1 or is_match.shape != distances.shape:
        raise ValueError("`distances` and `is_match` must be 1-D arrays of the same length. Received: shapes "
                         f"{distances.shape} and {is_match.shape}")
    if is_match.dtype != bool:
        if not np.isin(is_match, (0, 1)).all():
            raise ValueError("`is_match` must hold booleans or 0/1. Received values: "
                             f"{np.unique(is_match)[:10].tolist()}")
        is_match = is_match.astype(bool)
    if not np.isfinite(distances).all():
        raise ValueError(f"`distances` must be finite. Received: {int((~np.isfinite(distances)).sum())} NaN/inf "
                         "values")
    if not is_match.any() or is_match.all():
        raise ValueError("FPR at a recall needs both matching and non-matching pairs. Received: "
                         f"{int(is_match.sum())} matching and {int((~is_match).sum())} non-matching pairs")
    if isinstance(recall, bool) or not isinstance(recall, (int, float)) or not 0.0 < recall <= 1.0:
        raise ValueError(f"`recall` must be a number in (0, 1]. Received: recall={recall!r}")
    if ties not in TIE_RULES:
        raise ValueError(f"`ties` must be one of {TIE_RULES}. Received: ties={ties!r}")
    return distances, is_match


def fpr_at_recall(distances, is_match, recall: float = 0.95, ties: str = "threshold") -> FprResult:
    """False-positive rate at the smallest distance threshold that accepts ``recall`` of the matching pairs.

    Args:
        distances: distance of each pair (smaller = more similar).
        is_match: whether each pair is a matching pair (bool or 0/1).
        recall: the fraction of matching pairs to accept (0.95 for FPR95).
        ties: how non-matching pairs tied with the threshold count: ``"threshold"``, ``"optimistic"`` or
            ``"stable"`` (see the module docstring).

    Shape:
        distances, is_match: (M,).

    Returns:
        An `FprResult`.

    Raises:
        ValueError: shapes differ, NaN/inf distances, a class is missing, or a bad ``recall`` / ``ties``.
    """
    distances, is_match = _check_inputs(distances, is_match, recall, ties)
    positives = int(is_match.sum())
    negatives = int(is_match.size - positives)
    needed = max(1, math.ceil(recall * positives))  # smallest count c with c >= recall * P (the reference test)
    positive_distances = np.sort(distances[is_match])
    threshold = float(positive_distances[needed - 1])
    negative_distances = distances[~is_match]
    tied = int((negative_distances == threshold).sum())
    if ties == "threshold":
        false_positives = int((negative_distances <= threshold).sum())
    elif ties == "optimistic":
        false_positives = int((negative_distances < threshold).sum())
    else:
        labels = is_match[np.argsort(distances, kind="stable")]
        cut = int(np.argmax(np.cumsum(labels) >= needed))  # index of the pair that reaches the recall
        false_positives = int((~labels[:cut]).sum())
    return FprResult(fpr=false_positives / negatives, threshold=threshold, false_positives=false_positives,
                     negatives=negatives, positives=positives, positives_needed=needed, tied_negatives=tied,
                     recall=float(recall), ties=ties)


def fpr95(distances, is_match, ties: str = "threshold") -> float:
    """FPR at 95 % recall as a fraction (see `fpr_at_recall`). Shape: distances, is_match: (M,)."""
    return fpr_at_recall(distances, is_match, 0.95, ties).fpr
