"""Robust homography estimation (OpenCV MAGSAC++ or RANSAC) and the errors the evaluation measures.

Homographies map image 1 to image 2 in pixel coordinates: ``x2 ~ H @ x1`` (homogeneous, x right, y down).
"""

from __future__ import annotations

import cv2
import numpy as np

from descriptors.errors import ConfigError, ShapeError

METHODS = {"magsac": cv2.USAC_MAGSAC, "ransac": cv2.RANSAC}
MIN_MATCHES = 4


def project(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Applies a homography to points (points at infinity become inf).

    Shape:
        homography ``(3, 3)``, points ``(K, 2)`` -> ``(K, 2)`` float64.
    """
    points = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = np.column_stack([points, np.ones(len(points))]) @ np.asarray(homography, np.float64).T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = mapped[:, :2] / mapped[:, 2:]
    return np.where(np.isfinite(out), out, np.inf)


def reprojection_errors(homography: np.ndarray, points1: np.ndarray, points2: np.ndarray) -> np.ndarray:
    """Distance from ``H(points1)`` to ``points2``, in pixels of image 2. Shape: ``(M, 2)`` x2 -> ``(M,)``."""
    return np.linalg.norm(project(homography, points1) - np.asarray(points2, np.float64).reshape(-1, 2), axis=1)


def image_corners(shape: tuple) -> np.ndarray:
    """The four corner pixel centres ``(0, 0), (W-1, 0), (0, H-1), (W-1, H-1)`` of an ``(H, W, ...)`` image."""
    height, width = shape[:2]
    return np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]], np.float64)


def corner_error(estimated: np.ndarray | None, truth: np.ndarray, shape: tuple) -> float:
    """Mean distance between the corners of image 1 mapped by the estimated and by the true homography.

    Args:
        estimated: 3x3 estimate, or None (no estimate: the error is infinite).
        truth: 3x3 ground truth.
        shape: shape of image 1.

    Returns:
        Mean corner error in pixels of image 2 (``inf`` without an estimate).
    """
    if estimated is None:
        return float("inf")
    corners = image_corners(shape)
    return float(np.mean(np.linalg.norm(project(estimated, corners) - project(truth, corners), axis=1)))


def change_coordinates(homography: np.ndarray | None, from1: np.ndarray, from2: np.ndarray) -> np.ndarray | None:
    """Expresses a homography in other coordinates: ``inv(from2) @ H @ from1`` (None stays None).

    If ``from1`` maps frame A1 to B1 (and ``from2`` A2 to B2) and ``H`` maps B1 to B2, the result maps A1 to A2,
    normalised so that its last entry is 1 when that entry is not 0.
    """
    if homography is None:
        return None
    out = np.linalg.inv(from2) @ np.asarray(homography, np.float64) @ from1
    return out / out[2, 2] if abs(out[2, 2]) > 1e-12 else out


def estimate_homography(points1: np.ndarray, points2: np.ndarray, method: str = "magsac", threshold: float = 3.0,
                        confidence: float = 0.9999, max_iters: int = 10_000):
    """Robust homography from correspondences (``cv2.findHomography``); deterministic (OpenCV's fixed seeds).

    Args:
        points1: ``(M, 2)`` points in image 1.
        points2: ``(M, 2)`` matching points in image 2.
        method: ``"magsac"`` (``cv2.USAC_MAGSAC``, default) or ``"ransac"`` (``cv2.RANSAC``).
        threshold: inlier reprojection threshold in pixels.
        confidence: requested confidence. Defaults to 0.9999.
        max_iters: iteration limit. Defaults to 10000.

    Returns:
        ``(H, inliers)``: the 3x3 float64 homography (None with fewer than 4 matches or when OpenCV finds
        none) and a boolean ``(M,)`` inlier mask (all False when H is None).

    Raises:
        ConfigError: unknown ``method`` or non-positive ``threshold``.
        ShapeError: points are not two ``(M, 2)`` arrays of the same length.
    """
    if method not in METHODS:
        raise ConfigError(f"`method` must be one of {tuple(METHODS)}. Received: method={method!r}")
    if not threshold > 0:
        raise ConfigError(f"`threshold` must be a positive number of pixels. Received: threshold={threshold!r}")
    points1 = np.asarray(points1, np.float64)
    points2 = np.asarray(points2, np.float64)
    if points1.ndim != 2 or points1.shape[1:] != (2,) or points1.shape != points2.shape:
        raise ShapeError(f"`points1` and `points2` must both have shape (M, 2). "
                         f"Received: {points1.shape} and {points2.shape}")
    inliers = np.zeros(len(points1), bool)
    if len(points1) < MIN_MATCHES:
        return None, inliers
    homography, mask = cv2.findHomography(points1.astype(np.float32), points2.astype(np.float32), METHODS[method],
                                          float(threshold), maxIters=int(max_iters), confidence=float(confidence))
    if homography is None or homography.shape != (3, 3) or not np.all(np.isfinite(homography)) \
            or abs(np.linalg.det(homography)) < 1e-12:
        return None, inliers
    return homography.astype(np.float64), mask.reshape(-1).astype(bool)
