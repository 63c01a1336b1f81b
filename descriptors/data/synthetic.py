"""Synthetic HPatches-like sequences from one photograph: ``v_`` (random homographies), ``i_`` (photometric).

``v_<name>``: image 1 is the photograph; image k (2..6) is the photograph warped by a random homography
``H_1_k`` of increasing strength (rotation about the centre, scale, and a perspective corner displacement),
``image_k = warp(photo, H_1_k)``, plus a mild photometric change.
``i_<name>``: H = identity for every image; images 2..6 change gamma, contrast and brightness, add a
non-uniform illumination field (linear gradient times a radial vignette/spot), per-channel colour gains, an
occasional Gaussian blur and a little sensor noise.
"""

from __future__ import annotations

import cv2
import numpy as np

from descriptors.data.sequences import ImageSequence


def random_homography(shape: tuple, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A plausible viewpoint change of the given strength (0 = identity, 1 = strong), about the image centre.

    Rotation up to ``30 * strength`` degrees, log-scale up to ``0.35 * strength``, and each image corner moved by
    up to ``0.22 * strength`` of the image side (perspective).
    """
    height, width = shape[:2]
    cx, cy = (width - 1) / 2, (height - 1) / 2
    side = min(width, height)
    corners = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    moved = corners + rng.uniform(-0.22, 0.22, (4, 2)).astype(np.float32) * strength * side
    perspective = cv2.getPerspectiveTransform(corners, moved).astype(np.float64)
    angle = np.deg2rad(rng.uniform(-30, 30) * strength)
    scale = np.exp(rng.uniform(-0.35, 0.35) * strength)
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    similarity = np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]])
    h = similarity @ perspective
    # keep the image centre in place, as a photographer re-framing the scene would
    centre = h @ np.array([cx, cy, 1.0])
    shift = np.array([[1, 0, cx - centre[0] / centre[2]], [0, 1, cy - centre[1] / centre[2]], [0, 0, 1]])
    h = shift @ h
    return h / h[2, 2]


def photometric_change(image: np.ndarray, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A realistic illumination/camera change of ``image`` (uint8 HxW or HxWx3). ``strength`` in 0..1."""
    x = image.astype(np.float32) / 255.0
    height, width = x.shape[:2]
    x = x ** np.exp(rng.uniform(-0.7, 0.7) * strength)  # gamma
    x = (x - 0.5) * np.exp(rng.uniform(-0.5, 0.3) * strength) + 0.5 + rng.uniform(-0.2, 0.2) * strength
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    xx, yy = xx / width - 0.5, yy / height - 0.5
    direction = rng.uniform(0, 2 * np.pi)
    gradient = 1 + strength * rng.uniform(0.2, 0.8) * (np.cos(direction) * xx + np.sin(direction) * yy)
    spot_x, spot_y = rng.uniform(-0.5, 0.5, 2)
    spot = 1 + strength * rng.uniform(-0.4, 0.4) * np.exp(-((xx - spot_x) ** 2 + (yy - spot_y) ** 2) / 0.08)
    field = (gradient * spot).astype(np.float32)
    x = x * (field[..., None] if x.ndim == 3 else field)
    if x.ndim == 3:
        x = x * np.exp(rng.uniform(-0.25, 0.25, 3) * strength).astype(np.float32)
    if rng.random() < 0.4 * strength + 0.1:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    x = x + rng.normal(0, rng.uniform(0.003, 0.015), x.shape).astype(np.float32)
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)


def viewpoint_sequence(name: str, photo: np.ndarray, rng: np.random.Generator) -> ImageSequence:
    """``v_`` sequence: image k = photo warped by ``H_1_k`` (strength grows with k) + a mild photometric change."""
    images, homographies = [photo], []
    height, width = photo.shape[:2]
    for k in range(2, 7):
        h = random_homography(photo.shape, 0.25 + 0.15 * (k - 2), rng)
        warped = cv2.warpPerspective(photo, h, (width, height), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REFLECT_101)
        images.append(photometric_change(warped, 0.25, rng))
        homographies.append(h)
    return ImageSequence(name, images, homographies)


def illumination_sequence(name: str, photo: np.ndarray, rng: np.random.Generator) -> ImageSequence:
    """``i_`` sequence: identity homographies, images 2..6 under random photometric changes."""
    images = [photo] + [photometric_change(photo, rng.uniform(0.5, 1.0), rng) for _ in range(5)]
    return ImageSequence(name, images, [np.eye(3) for _ in range(5)])
