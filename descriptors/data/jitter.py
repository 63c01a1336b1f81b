"""Easy / hard / tough affine jitter of reference frames, and the ellipse overlap it causes.

HPatches simulates a detector's repeatability error by jittering each reference frame before reprojecting it
into a target image; it publishes only the resulting median ellipse overlaps (easy ~0.85, hard ~0.72, tough
lower), not the jitter ranges. Ours, per patch and per target image, in the frame's normalised coordinates
(the measurement square is ``[-1, 1]^2``, the measurement ellipse is the unit disc):

- rotation ``theta ~ U(-rotation, rotation)`` (degrees);
- isotropic scale ``exp(U(-log_scale, log_scale))``;
- anisotropy: axis scales ``sqrt(a)`` and ``1/sqrt(a)`` with ``a = exp(U(-log_anisotropy, log_anisotropy))``,
  along an axis at a uniform random angle;
- translation: uniform in the disc of radius ``translation`` (a fraction of the region half-side).

``J = T(t) @ R(theta) @ R(psi) @ diag(s sqrt(a), s / sqrt(a)) @ R(-psi)``; the jittered frame is ``F @ J``. The
overlap is the intersection over union of the unit disc and ``J``'s image of it, which equals the IoU of the
original and jittered measurement ellipses in reference-image coordinates since ``F`` is a similarity.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np


@dataclasses.dataclass(frozen=True)
class JitterLevel:
    """Ranges of one jitter level (see the module docstring)."""

    rotation: float  # degrees, half-range
    log_scale: float
    log_anisotropy: float
    translation: float  # fraction of the region half-side


# Chosen so that the measured median overlaps are ~0.85 / ~0.72 / ~0.60 (see data/README.md, build_info.json).
DEFAULT_JITTER = {
    "e": JitterLevel(rotation=10.0, log_scale=0.125, log_anisotropy=0.125, translation=0.125),
    "h": JitterLevel(rotation=20.0, log_scale=0.255, log_anisotropy=0.255, translation=0.255),
    "t": JitterLevel(rotation=30.0, log_scale=0.395, log_anisotropy=0.395, translation=0.395),
}


def sample_jitter(level: JitterLevel, count: int, rng: np.random.Generator) -> np.ndarray:
    """Draws ``count`` jitter matrices of one level.

    Shape:
        Output: ``(count, 3, 3)`` affine matrices acting on normalised frame coordinates.
    """
    theta = np.deg2rad(rng.uniform(-level.rotation, level.rotation, count))
    scale = np.exp(rng.uniform(-level.log_scale, level.log_scale, count))
    aniso = np.exp(rng.uniform(-level.log_anisotropy, level.log_anisotropy, count))
    psi = rng.uniform(0, np.pi, count)
    radius = level.translation * np.sqrt(rng.uniform(0, 1, count))
    phi = rng.uniform(0, 2 * np.pi, count)

    def rot(a):
        c, s = np.cos(a), np.sin(a)
        return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)

    diag = np.zeros((count, 2, 2))
    diag[:, 0, 0] = scale * np.sqrt(aniso)
    diag[:, 1, 1] = scale / np.sqrt(aniso)
    linear = rot(theta) @ rot(psi) @ diag @ rot(-psi)
    out = np.zeros((count, 3, 3))
    out[:, :2, :2] = linear
    out[:, 0, 2] = radius * np.cos(phi)
    out[:, 1, 2] = radius * np.sin(phi)
    out[:, 2, 2] = 1.0
    return out


_CIRCLE = np.stack([np.cos(np.linspace(0, 2 * np.pi, 128, endpoint=False)),
                    np.sin(np.linspace(0, 2 * np.pi, 128, endpoint=False))], 1)


def ellipse_overlap(jitters: np.ndarray) -> np.ndarray:
    """IoU of the unit disc and its image under each jitter (polygons of 128 vertices, error < 0.1%).

    Shape:
        jitters: ``(K, 3, 3)``. Output: ``(K,)`` in ``[0, 1]``.
    """
    disc = _CIRCLE.astype(np.float32)
    disc_area = cv2.contourArea(disc)
    out = np.empty(len(jitters))
    for i, j in enumerate(np.asarray(jitters, np.float64)):
        ellipse = (_CIRCLE @ j[:2, :2].T + j[:2, 2]).astype(np.float32)
        inter, _ = cv2.intersectConvexConvex(disc, ellipse)
        area = cv2.contourArea(ellipse)
        out[i] = inter / (disc_area + area - inter)
    return out


def level_to_dict(level: JitterLevel) -> dict:
    """The jitter ranges as a JSON-ready dict."""
    return dataclasses.asdict(level)
