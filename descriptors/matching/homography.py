"""Robust homography estimation (OpenCV MAGSAC++ or RANSAC), sanity checks, and the errors the evaluation measures.

Homographies map image 1 to image 2 in pixel coordinates: ``x2 ~ H @ x1`` (homogeneous, x right, y down).

`homography_problem` refuses estimates no real pair of views produces: non-finite entries, a corner of image 1
sent to or beyond the horizon (the four corners' homogeneous ``w`` do not share one sign), an area change of
image 1 outside ``[1 / MAX_AREA_CHANGE, MAX_AREA_CHANGE]`` or a near-singular matrix (condition number above
`MAX_CONDITION` once both images are scaled to ``[-1, 1]``). Measured: the ten ground-truth homographies of
``v_churchill`` / ``v_wormhole`` have area changes 0.69..2.2 and condition numbers 1.4..4.6; the estimates that
non-mutual matching finds on unrelated photos (many matches onto 2..7 points of image 2) have area changes
1e-9..6e-4, condition numbers 1e3..1e6 and a corner beyond the horizon.
"""

from __future__ import annotations

import cv2
import numpy as np

from descriptors.errors import ConfigError, ShapeError

METHODS = {"magsac": cv2.USAC_MAGSAC, "ransac": cv2.RANSAC}
MIN_MATCHES = 4
MAX_AREA_CHANGE = 1000.0  # image 1's area may shrink or grow by at most this factor (about 32x per side)
MAX_CONDITION = 1e5  # condition number of H between images scaled to [-1, 1]


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


def _unit_square(shape: tuple) -> np.ndarray:
    """3x3 map from the pixel centres of an ``(H, W, ...)`` image to ``[-1, 1]`` (longer side)."""
    height, width = shape[:2]
    scale = 2.0 / max(height - 1, width - 1, 1)
    return np.array([[scale, 0.0, -scale * (width - 1) / 2], [0.0, scale, -scale * (height - 1) / 2], [0, 0, 1.0]])


def homography_problem(homography: np.ndarray, shape1: tuple, shape2: tuple) -> str:
    """Why a homography cannot come from two views of a plane, or "" when it can (see the module docstring).

    Args:
        homography: 3x3 map from image 1 to image 2 (pixels).
        shape1: shape of image 1.
        shape2: shape of image 2.

    Returns:
        "" for a plausible homography, else a one-line reason (non-finite, corner beyond the horizon, area change,
        near-singular).
    """
    matrix = np.asarray(homography, np.float64)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        return "the estimate has non-finite entries"
    corners = image_corners(shape1)
    w = np.column_stack([corners, np.ones(4)]) @ matrix[2]
    if not (np.all(w > 0) or np.all(w < 0)):
        return "the estimate sends a corner of image 1 to or beyond the horizon"
    quad = project(matrix, corners)[[0, 1, 3, 2]]
    area = 0.5 * abs(np.dot(quad[:, 0], np.roll(quad[:, 1], -1)) - np.dot(quad[:, 1], np.roll(quad[:, 0], -1)))
    height, width = shape1[:2]
    change = area / max((height - 1) * (width - 1), 1)
    if not 1.0 / MAX_AREA_CHANGE <= change <= MAX_AREA_CHANGE:
        return (f"the estimate scales the area of image 1 by {change:.3g}, outside "
                f"[{1.0 / MAX_AREA_CHANGE:g}, {MAX_AREA_CHANGE:g}]")
    normalised = _unit_square(shape2) @ matrix @ np.linalg.inv(_unit_square(shape1))
    condition = np.linalg.cond(normalised)
    if not condition <= MAX_CONDITION:
        return f"the estimate is near-singular (condition number {condition:.3g} > {MAX_CONDITION:g})"
    return ""


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
