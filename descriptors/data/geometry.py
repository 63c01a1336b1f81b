"""Frame geometry shared by the detector and the builder: frame -> patch maps, inside tests, warping, overlaps.

A frame ``(x, y, sigma, angle)`` becomes the 3x3 similarity ``F`` mapping the normalised square ``[-1, 1]^2`` to
its measurement region in the image (half-side ``extent * sigma``, rotated by ``angle``). A patch of side ``P``
samples that square: patch pixel ``u`` (0-based) sits at normalised ``(u - (P - 1) / 2) / (P / 2)``, so the
square's edges are the patch's outer pixel edges. A "patch map" ``M`` (3x3) sends patch pixels to image pixels.
"""

from __future__ import annotations

import cv2
import numpy as np


def frame_matrices(frames: np.ndarray, extent: float) -> np.ndarray:
    """Similarity matrices of frames.

    Shape:
        frames: ``(K, 4)`` rows ``x, y, sigma, angle``. Output: ``(K, 3, 3)``.
    """
    frames = np.asarray(frames, np.float64)
    radius = frames[:, 2] * extent
    cos, sin = np.cos(frames[:, 3]) * radius, np.sin(frames[:, 3]) * radius
    out = np.zeros((len(frames), 3, 3))
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = cos, -sin, frames[:, 0]
    out[:, 1, 0], out[:, 1, 1], out[:, 1, 2] = sin, cos, frames[:, 1]
    out[:, 2, 2] = 1.0
    return out


def normaliser(size: int) -> np.ndarray:
    """3x3 map from patch pixel coordinates to the normalised square ``[-1, 1]^2``."""
    half = size / 2.0
    centre = (size - 1) / 2.0
    return np.array([[1 / half, 0, -centre / half], [0, 1 / half, -centre / half], [0, 0, 1.0]])


def patch_maps(normalised_to_image: np.ndarray, size: int) -> np.ndarray:
    """Patch pixel -> image pixel maps. Shape: ``(K, 3, 3)`` -> ``(K, 3, 3)``."""
    return normalised_to_image @ normaliser(size)


def apply(maps: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Applies ``(K, 3, 3)`` maps to ``(Q, 2)`` points; returns image points ``(K, Q, 2)`` and depths ``(K, Q)``."""
    homogeneous = np.column_stack([points, np.ones(len(points))])
    mapped = np.einsum("kij,qj->kqi", maps, homogeneous)
    w = mapped[..., 2]
    safe = np.where(np.abs(w) < 1e-12, 1e-12, w)
    return mapped[..., :2] / safe[..., None], w


def points_inside(maps: np.ndarray, shape: tuple, size: int) -> np.ndarray:
    """True where the whole patch square (its 4 outer corners) lands inside the image, in front of the camera.

    Shape:
        maps: ``(K, 3, 3)`` patch maps; shape: image ``(H, W, ...)``. Output: ``(K,)`` bool.
    """
    edge = np.array([-0.5, size - 0.5])
    corners = np.array([[a, b] for a in edge for b in edge])
    points, w = apply(maps, corners)
    height, width = shape[:2]
    inside = (points[..., 0] >= 0) & (points[..., 0] <= width - 1) & (points[..., 1] >= 0) & (points[..., 1] <= height - 1)
    return np.all(inside & (w > 0), axis=1)


def local_scale(maps: np.ndarray, size: int) -> np.ndarray:
    """Image pixels per patch pixel at the patch centre (square root of the Jacobian determinant). ``(K,)``."""
    c = (size - 1) / 2.0
    points, _ = apply(maps, np.array([[c, c], [c + 1, c], [c, c + 1]]))
    jx, jy = points[:, 1] - points[:, 0], points[:, 2] - points[:, 0]
    return np.sqrt(np.abs(jx[:, 0] * jy[:, 1] - jx[:, 1] * jy[:, 0]))


def build_pyramid(gray: np.ndarray, levels: int = 6) -> list[np.ndarray]:
    """Gaussian pyramid (``cv2.pyrDown``); pixel ``i`` of level ``l`` is centred on pixel ``i * 2**l``."""
    pyramid = [gray]
    while len(pyramid) < levels and min(pyramid[-1].shape[:2]) >= 32:
        pyramid.append(cv2.pyrDown(pyramid[-1]))
    return pyramid


def warp_patches(pyramid: list[np.ndarray], maps: np.ndarray, size: int, out: np.ndarray | None = None):
    """Resamples one patch per map (bilinear), from the pyramid level that avoids aliasing.

    The level is ``floor(log2(s))`` for a local scale ``s`` image pixels per patch pixel, so the residual
    minification is below 2.

    Shape:
        maps: ``(K, 3, 3)``. Output: ``(K, size, size)`` of the pyramid's dtype.
    """
    maps = np.asarray(maps, np.float64)
    if out is None:
        out = np.empty((len(maps), size, size), pyramid[0].dtype)
    if len(maps) == 0:
        return out
    levels = np.clip(np.floor(np.log2(np.maximum(local_scale(maps, size), 1.0))), 0, len(pyramid) - 1).astype(int)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for i, (m, level) in enumerate(zip(maps, levels)):
        down = np.diag([0.5 ** level, 0.5 ** level, 1.0]) @ m
        out[i] = cv2.warpPerspective(pyramid[level], down, (size, size), flags=flags,
                                     borderMode=cv2.BORDER_REFLECT_101)
    return out


def circle_iou(centre: np.ndarray, radius: float, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Intersection over union of one disc against many. Shape: ``(2,), (), (K, 2), (K,)`` -> ``(K,)``."""
    d = np.hypot(*(np.asarray(centres) - np.asarray(centre)).T)
    r1, r2 = float(radius), np.asarray(radii, np.float64)
    small = np.minimum(r1, r2)
    inter = np.where(d <= np.abs(r1 - r2), np.pi * small ** 2, 0.0)
    partial = (d < r1 + r2) & (d > np.abs(r1 - r2))
    if np.any(partial):
        dd, rr = d[partial], r2[partial]
        a1 = r1 ** 2 * np.arccos(np.clip((dd ** 2 + r1 ** 2 - rr ** 2) / (2 * dd * r1), -1, 1))
        a2 = rr ** 2 * np.arccos(np.clip((dd ** 2 + rr ** 2 - r1 ** 2) / (2 * dd * rr), -1, 1))
        a3 = 0.5 * np.sqrt(np.maximum((-dd + r1 + rr) * (dd + r1 - rr) * (dd - r1 + rr) * (dd + r1 + rr), 0))
        inter[partial] = a1 + a2 - a3
    return inter / (np.pi * r1 ** 2 + np.pi * r2 ** 2 - inter)
