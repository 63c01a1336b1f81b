"""Which image sequences the builder can use: checks that skip a sequence instead of building wrong patches.

A sequence is **skipped** (with a warning and an entry in ``build_info.json``), never built, when

- one of its six images is smaller than `MIN_IMAGE_SIDE` pixels on a side, or flat (grey-level standard deviation
  below `MIN_IMAGE_STD` on the 0..255 scale: its patches would be constant);
- one of its homographies ``H_1_k`` is degenerate where image 1 is seen in image k: near-singular (condition
  number above `MAX_CONDITION` once both images' pixel coordinates are scaled to ``[-1, 1]``), mapping no part of
  image 1 into image k, changing areas by more than ``MAX_LINEAR_SCALE ** 2`` either way, or stretching more than
  `MAX_ANISOTROPY` times in one direction than in the other (medians over a 9x9 grid of image-1 points that land
  inside image k). ``diag(1e-5, 1e-5, 1)`` maps the whole reference image onto one pixel: every target patch
  would be constant;
- it yields fewer than `MIN_TRACKS` patch tracks (too few keypoints survive the filters).

The bounds are loose on purpose: the HPatches ``v_`` sequences scale by at most ~3x and foreshorten by at most
~5x, photographs have grey-level deviations of tens.
"""

from __future__ import annotations

import numpy as np

MIN_IMAGE_SIDE = 32
MIN_IMAGE_STD = 2.0
MAX_LINEAR_SCALE = 20.0
MAX_ANISOTROPY = 20.0
MAX_CONDITION = 1e6
MIN_TRACKS = 2
GRID = 9


def limits() -> dict:
    """The bounds of the checks (recorded in ``build_info.json``)."""
    return {"min_image_side": MIN_IMAGE_SIDE, "min_image_std": MIN_IMAGE_STD,
            "max_area_change": MAX_LINEAR_SCALE ** 2, "max_anisotropy": MAX_ANISOTROPY,
            "max_condition_number": MAX_CONDITION, "min_tracks": MIN_TRACKS}


def image_problem(sequence) -> str | None:
    """Why the images of ``sequence`` (an `ImageSequence`) cannot be used, or None."""
    for index in range(len(sequence.images)):
        height, width = sequence.images[index].shape[:2]
        if min(height, width) < MIN_IMAGE_SIDE:
            return (f"image {index + 1} is {width}x{height} px; every image must be at least {MIN_IMAGE_SIDE} px "
                    "on each side")
    for index in range(len(sequence.images)):
        std = float(sequence.gray(index).std())
        if std < MIN_IMAGE_STD:
            return (f"image {index + 1} is flat (grey-level standard deviation {std:.3g} < {MIN_IMAGE_STD:g}): "
                    "its patches would be constant")
    return None


def _normaliser(shape) -> np.ndarray:
    height, width = shape[:2]
    return np.array([[2.0 / max(width - 1, 1), 0, -1.0], [0, 2.0 / max(height - 1, 1), -1.0], [0, 0, 1.0]])


def local_jacobians(h: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``h`` sends ``points`` and its 2x2 Jacobian there.

    Shape:
        h: ``(3, 3)``; points: ``(N, 2)``. Output: mapped points ``(N, 2)``, depths ``w`` ``(N,)``, Jacobians
        ``(N, 2, 2)`` (``d(x', y') / d(x, y)``; non-finite where ``w`` is 0).
    """
    homogeneous = np.column_stack([points, np.ones(len(points))])
    u, v, w = (homogeneous @ np.asarray(h, np.float64).T).T
    with np.errstate(divide="ignore", invalid="ignore"):
        mapped = np.column_stack([u / w, v / w])
        jac = np.empty((len(points), 2, 2))
        for row, top in ((0, u), (1, v)):
            for col in (0, 1):
                jac[:, row, col] = (h[row, col] * w - top * h[2, col]) / w ** 2
    return mapped, w, jac


def homography_problem(h: np.ndarray, ref_shape: tuple, target_shape: tuple, k: int) -> str | None:
    """Why ``homographies[k]`` (``H_1_{k+2}``, image 1 -> image ``k + 2``) cannot be used to make patches between
    images of these shapes, or None."""
    name = f"H_1_{k + 2}"
    h = np.asarray(h, np.float64)
    if h.shape != (3, 3) or not np.all(np.isfinite(h)):
        return f"{name} must be a finite 3x3 matrix"
    scaled = _normaliser(target_shape) @ h @ np.linalg.inv(_normaliser(ref_shape))
    condition = float(np.linalg.cond(scaled)) if np.all(np.isfinite(scaled)) else float("inf")
    if not np.isfinite(condition) or condition > MAX_CONDITION:
        return (f"{name} is near-singular (condition number {condition:.3g} in [-1, 1]-scaled image coordinates "
                f"> {MAX_CONDITION:.0e})")
    height, width = ref_shape[:2]
    if float(h[2] @ [(width - 1) / 2.0, (height - 1) / 2.0, 1.0]) < 0:
        h = -h  # the same homography, with image 1's centre in front (w > 0)
    xs, ys = np.meshgrid(np.linspace(0, width - 1, GRID), np.linspace(0, height - 1, GRID))
    mapped, w, jac = local_jacobians(h, np.column_stack([xs.ravel(), ys.ravel()]))
    t_height, t_width = target_shape[:2]
    seen = (w > 0) & np.all(np.isfinite(mapped), axis=1) & np.all(np.isfinite(jac), axis=(1, 2))
    seen &= (mapped[:, 0] >= 0) & (mapped[:, 0] <= t_width - 1) & (mapped[:, 1] >= 0) & (mapped[:, 1] <= t_height - 1)
    if not seen.any():
        return f"{name} maps no part of image 1 into image {k + 2} ({t_width}x{t_height} px)"
    singular = np.linalg.svd(jac[seen], compute_uv=False)  # (M, 2), descending
    area = float(np.median(singular[:, 0] * singular[:, 1]))
    bound = MAX_LINEAR_SCALE ** 2
    if not 1.0 / bound <= area <= bound:
        return (f"{name} changes areas by a factor {area:.3g} (median where image 1 lands in image {k + 2}); "
                f"allowed {1.0 / bound:g}..{bound:g}")
    with np.errstate(divide="ignore"):
        anisotropy = float(np.median(singular[:, 0] / singular[:, 1]))
    if not anisotropy <= MAX_ANISOTROPY:
        return (f"{name} stretches {anisotropy:.3g} times more in one direction than in the other (median "
                f"where image 1 lands in image {k + 2}); allowed up to {MAX_ANISOTROPY:g}")
    return None


def sequence_problem(sequence) -> str | None:
    """Why ``sequence`` (an `ImageSequence`) must be skipped before its tracks are made, or None."""
    problem = image_problem(sequence)
    if problem is not None:
        return problem
    ref_shape = sequence.images[0].shape
    for k, h in enumerate(sequence.homographies):
        problem = homography_problem(h, ref_shape, sequence.images[k + 1].shape, k)
        if problem is not None:
            return problem
    return None


def tracks_problem(counts: dict) -> str | None:
    """Why a sequence with these filter counts (`SequenceTracks.counts`) must be skipped, or None."""
    if counts.get("kept", 0) >= MIN_TRACKS:
        return None
    return (f"too few keypoints: {counts.get('kept', 0)} patch tracks kept, at least {MIN_TRACKS} needed "
            f"(detected {counts.get('detected', 0)}, inside all images {counts.get('inside_all_images', 0)}, "
            f"contrast ok {counts.get('contrast_ok', 0)})")
