"""Keypoint frames on a reference image, as HPatches made them: DoG + Hessian + Harris, one orientation each.

A frame is ``(x, y, sigma, angle)``: the centre in pixels (0-based, x right, y down), the detection scale
``sigma`` and the dominant gradient orientation ``angle`` in radians. ``sigma`` is the Gaussian scale of the
detector: for the DoG detector it is OpenCV's SIFT ``KeyPoint.size / 2``; for the Hessian and Harris detectors it
is the scale of the Gaussian derivative filters. The **measurement region** of a frame is the square of
half-side ``extent * sigma`` (``extent = 5`` as in HPatches) centred on it and rotated by ``angle``; the 65x65
patch samples exactly that square. Frames are returned as a float64 array of shape ``(K, 4)``.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from descriptors.data.geometry import circle_iou, frame_matrices, patch_maps, points_inside, warp_patches


@dataclasses.dataclass(frozen=True)
class DetectorConfig:
    """Detector settings. Defaults follow HPatches (5x scale region, 50% overlap clustering)."""

    extent: float = 5.0  # measurement region half-side, in units of sigma
    min_sigma: float = 1.6  # smaller detections are dropped (their 65 px patches would be mostly upsampling)
    max_sigma: float = 40.0
    sift_contrast_threshold: float = 0.03
    hessian_threshold: float = 0.002  # on sigma^4 * det(Hessian) of the [0, 1] image
    harris_threshold: float = 1e-6  # on sigma^4 * Harris response of the [0, 1] image
    per_scale_max: int = 400  # Hessian / Harris detections kept per scale (strongest first)
    cluster_iou: float = 0.5  # overlapping measurement regions above this IoU are clustered
    orientation_bins: int = 36


def _scale_space(gray: np.ndarray, octaves: int):
    """Yields ``(image_at_octave, step, sigma_local)`` for two scales per octave (sigma 1.6 and 2.26)."""
    image = gray.astype(np.float32) / 255.0
    for octave in range(octaves):
        if min(image.shape) < 16:
            return
        for sigma_local in (1.6, 1.6 * np.sqrt(2.0)):
            yield image, 2 ** octave, sigma_local
        image = cv2.pyrDown(image)


def _local_maxima(response: np.ndarray, threshold: float, limit: int, border: int) -> np.ndarray:
    dilated = cv2.dilate(response, np.ones((3, 3), np.uint8))
    mask = (response >= dilated) & (response > threshold)
    mask[:border] = mask[-border:] = False
    mask[:, :border] = mask[:, -border:] = False
    ys, xs = np.nonzero(mask)
    order = np.argsort(-response[ys, xs], kind="stable")[:limit]
    return np.stack([xs[order], ys[order]], axis=1).astype(np.float64)


def _hessian_harris(gray: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Multi-scale Hessian-determinant and Harris maxima, as ``(K, 3)`` rows ``x, y, sigma``."""
    found = []
    octaves = max(1, int(np.log2(min(gray.shape) / 16)))
    for image, step, sigma in _scale_space(gray, octaves):
        smooth = cv2.GaussianBlur(image, (0, 0), sigma)
        dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0, ksize=3)
        dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2, ksize=3)
        dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1, ksize=3) / 4.0
        hessian = (dxx * dyy - dxy * dxy) * sigma ** 4
        dx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3) / 8.0
        dy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3) / 8.0
        window = 1.5 * sigma
        sxx = cv2.GaussianBlur(dx * dx, (0, 0), window)
        syy = cv2.GaussianBlur(dy * dy, (0, 0), window)
        sxy = cv2.GaussianBlur(dx * dy, (0, 0), window)
        harris = (sxx * syy - sxy * sxy - 0.04 * (sxx + syy) ** 2) * sigma ** 4
        border = int(np.ceil(3 * sigma))
        for response, threshold in ((np.abs(hessian), config.hessian_threshold), (harris, config.harris_threshold)):
            points = _local_maxima(response, threshold, config.per_scale_max, border)
            if len(points):
                found.append(np.column_stack([points * step, np.full(len(points), sigma * step)]))
    return np.concatenate(found) if found else np.zeros((0, 3))


def _dog(gray: np.ndarray, config: DetectorConfig) -> np.ndarray:
    sift = cv2.SIFT_create(contrastThreshold=config.sift_contrast_threshold)
    keypoints = sift.detect(gray, None)
    if not keypoints:
        return np.zeros((0, 3))
    rows = np.array([(k.pt[0], k.pt[1], k.size / 2.0) for k in keypoints], np.float64)
    return np.unique(rows, axis=0)  # SIFT repeats a point once per orientation peak; keep one


def dominant_orientations(gray: np.ndarray, xys: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Lowe's dominant orientation: peak of a 36-bin gradient histogram, Gaussian weight 1.5 sigma, radius 4.5.

    Shape:
        gray: ``(H, W)`` uint8; xys: ``(K, 3)`` rows ``x, y, sigma``. Output: ``(K,)`` angles in radians.
    """
    if len(xys) == 0:
        return np.zeros(0)
    side = 31
    frames = np.column_stack([xys, np.zeros(len(xys))])
    maps = patch_maps(frame_matrices(frames, extent=4.5), side)
    patches = warp_patches([gray], maps, side).astype(np.float32)
    gx = np.zeros_like(patches)
    gy = np.zeros_like(patches)
    gx[:, :, 1:-1] = patches[:, :, 2:] - patches[:, :, :-2]
    gy[:, 1:-1, :] = patches[:, 2:, :] - patches[:, :-2, :]
    u = (np.arange(side) - side // 2) / (side / 2.0) * 4.5  # in units of sigma
    weight = np.exp(-(u[None, :] ** 2 + u[:, None] ** 2) / (2 * 1.5 ** 2))
    magnitude = np.hypot(gx, gy) * weight
    bins = config.orientation_bins
    index = (np.floor((np.arctan2(gy, gx) % (2 * np.pi)) / (2 * np.pi) * bins).astype(int)) % bins
    hist = np.zeros((len(xys), bins))
    np.add.at(hist, (np.repeat(np.arange(len(xys)), side * side), index.reshape(-1)), magnitude.reshape(-1))
    for _ in range(2):  # Lowe's smoothing of the histogram
        hist = (np.roll(hist, 1, 1) + hist * 2 + np.roll(hist, -1, 1)) / 4
    peak = hist.argmax(axis=1)
    rows = np.arange(len(xys))
    left, centre, right = hist[rows, peak - 1], hist[rows, peak], hist[rows, (peak + 1) % bins]
    denominator = left - 2 * centre + right
    offset = np.where(np.abs(denominator) > 1e-12, 0.5 * (left - right) / np.where(denominator == 0, 1, denominator),
                      0.0)
    return ((peak + 0.5 + offset) / bins * 2 * np.pi) % (2 * np.pi)


def cluster_frames(frames: np.ndarray, config: DetectorConfig, rng: np.random.Generator) -> np.ndarray:
    """Keeps one random frame per cluster of measurement regions overlapping by more than ``cluster_iou``.

    Greedy in a random order: a frame is kept unless its region overlaps a kept one by more than the threshold.
    """
    order = rng.permutation(len(frames))
    frames = frames[order]
    kept: list[int] = []
    radius = frames[:, 2] * config.extent
    for i in range(len(frames)):
        if kept:
            k = np.asarray(kept)
            if np.any(circle_iou(frames[i, :2], radius[i], frames[k, :2], radius[k]) > config.cluster_iou):
                continue
        kept.append(i)
    return frames[np.asarray(kept, int)] if kept else frames[:0]


def detect_frames(gray: np.ndarray, rng: np.random.Generator, config: DetectorConfig = DetectorConfig()):
    """Detects, orients, filters (region inside the image, scale range) and clusters frames.

    Shape:
        gray: ``(H, W)`` uint8. Output: ``(K, 4)`` float64 rows ``x, y, sigma, angle``.
    """
    xys = np.concatenate([_dog(gray, config), _hessian_harris(gray, config)])
    xys = xys[(xys[:, 2] >= config.min_sigma) & (xys[:, 2] <= config.max_sigma)]
    angles = dominant_orientations(gray, xys, config)
    frames = np.column_stack([xys, angles])
    maps = patch_maps(frame_matrices(frames, config.extent), 65)
    frames = frames[points_inside(maps, gray.shape, 65)]
    return cluster_frames(frames, config, rng)
