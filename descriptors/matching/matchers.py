"""Descriptor matching by brute-force L2 distance: mutual nearest neighbours and/or Lowe's ratio test."""

from __future__ import annotations

import dataclasses

import numpy as np

from descriptors.errors import ConfigError, ShapeError


@dataclasses.dataclass
class Matches:
    """M tentative correspondences.

    Attributes:
        pairs: int64 ``(M, 2)`` rows ``(index in image 1, index in image 2)``, sorted by the first index.
        distances: float32 ``(M,)`` L2 descriptor distances.
    """

    pairs: np.ndarray
    distances: np.ndarray

    def __len__(self) -> int:
        return len(self.pairs)

    @classmethod
    def empty(cls) -> Matches:
        return cls(np.zeros((0, 2), np.int64), np.zeros(0, np.float32))


def pairwise_distances(desc1: np.ndarray, desc2: np.ndarray) -> np.ndarray:
    """Euclidean distances between all rows, ``sqrt(|a|^2 + |b|^2 - 2 a.b)`` computed in float64.

    Shape:
        ``(K1, D)``, ``(K2, D)`` -> ``(K1, K2)`` float64.
    """
    a = np.asarray(desc1, np.float64)
    b = np.asarray(desc2, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(squared, 0.0))


def match_descriptors(desc1: np.ndarray, desc2: np.ndarray, mutual: bool = True, ratio: float | None = None
                      ) -> Matches:
    """Nearest-neighbour matches from image 1 to image 2, filtered by a mutual check and/or Lowe's ratio test.

    Ties go to the lowest index (deterministic). With the ratio test, a match is kept when
    ``d(nearest) < ratio * d(second nearest)`` in image 2; with a single candidate there is no second
    neighbour and the test passes.

    Args:
        desc1: ``(K1, D)`` descriptors of image 1.
        desc2: ``(K2, D)`` descriptors of image 2.
        mutual: keep only pairs that are each other's nearest neighbour. Defaults to True.
        ratio: Lowe's ratio in (0, 1], or None for no ratio test. Defaults to None.

    Returns:
        `Matches` (empty if either side has no descriptor).

    Raises:
        ShapeError: the descriptors are not 2-D with the same dimension D.
        ConfigError: ``ratio`` is outside (0, 1].

    Shape:
        ``(K1, D)``, ``(K2, D)`` -> `Matches` of M <= min(K1, K2) pairs when ``mutual``.
    """
    desc1, desc2 = np.asarray(desc1), np.asarray(desc2)
    if desc1.ndim != 2 or desc2.ndim != 2 or desc1.shape[1] != desc2.shape[1]:
        raise ShapeError(f"`desc1` and `desc2` must be (K1, D) and (K2, D) with the same D. "
                         f"Received: shapes {desc1.shape} and {desc2.shape}")
    if ratio is not None and not (isinstance(ratio, (int, float)) and 0.0 < ratio <= 1.0):
        raise ConfigError(f"`ratio` must be None or a number in (0, 1]. Received: ratio={ratio!r}")
    if len(desc1) == 0 or len(desc2) == 0:
        return Matches.empty()
    distances = pairwise_distances(desc1, desc2)
    rows = np.arange(len(desc1))
    nearest = distances.argmin(axis=1)
    keep = np.ones(len(desc1), bool)
    if mutual:
        keep &= distances.argmin(axis=0)[nearest] == rows
    if ratio is not None and len(desc2) > 1:
        best = distances[rows, nearest]
        others = distances.copy()
        others[rows, nearest] = np.inf
        keep &= best < ratio * others.min(axis=1)
    chosen = rows[keep]
    pairs = np.column_stack([chosen, nearest[chosen]]).astype(np.int64)
    return Matches(pairs, distances[chosen, nearest[chosen]].astype(np.float32))
