"""Side-by-side match pictures: inliers in green, outliers in red, written as png."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from descriptors.errors import ShapeError
from descriptors.matching.images import downscale, to_gray_uint8
from hpatches_eval.output_safety import staged_file

GREEN = (0, 200, 0)  # BGR
RED = (0, 0, 230)


def draw_matches(image1: np.ndarray, image2: np.ndarray, points1: np.ndarray, points2: np.ndarray,
                 inliers: np.ndarray | None = None, max_side: int | None = 1600, outliers: bool = True) -> np.ndarray:
    """Draws the two images side by side (grey, top-aligned) with a line per match.

    Args:
        image1: first image (any dtype/channels `to_gray_uint8` accepts), in the coordinates of ``points1``.
        image2: second image.
        points1: ``(M, 2)`` matched points in image 1 (pixels).
        points2: ``(M, 2)`` matched points in image 2.
        inliers: bool ``(M,)``; inliers are green, the others red. None: all drawn green.
        max_side: each image is shrunk (points with it) to this longer side for the picture; None keeps it.
        outliers: draw the outliers too. Defaults to True.

    Returns:
        BGR uint8 canvas ``(max(H1, H2), W1 + W2, 3)`` (after shrinking).

    Raises:
        ShapeError: points or mask of inconsistent shapes.

    Shape:
        ``(H1, W1[, C])``, ``(H2, W2[, C])``, ``(M, 2)``, ``(M, 2)``, ``(M,)`` -> ``(H, W1 + W2, 3)``.
    """
    points1 = np.asarray(points1, np.float64).reshape(-1, 2)
    points2 = np.asarray(points2, np.float64).reshape(-1, 2)
    inliers = np.ones(len(points1), bool) if inliers is None else np.asarray(inliers, bool).reshape(-1)
    if not len(points1) == len(points2) == len(inliers):
        raise ShapeError(f"`points1`, `points2` and `inliers` must have the same length. "
                         f"Received: {len(points1)}, {len(points2)}, {len(inliers)}")
    small1, rescale1 = downscale(to_gray_uint8(image1), max_side)
    small2, rescale2 = downscale(to_gray_uint8(image2), max_side)
    p1, p2 = rescale1.to_working(points1), rescale2.to_working(points2)
    height = max(small1.shape[0], small2.shape[0])
    canvas = np.zeros((height, small1.shape[1] + small2.shape[1], 3), np.uint8)
    canvas[:small1.shape[0], :small1.shape[1]] = small1[..., None]
    canvas[:small2.shape[0], small1.shape[1]:] = small2[..., None]
    p2 = p2 + np.array([small1.shape[1], 0.0])
    shift = 4  # sub-pixel drawing with 4 fractional bits
    order = np.argsort(inliers, kind="stable")  # outliers first, so inliers stay visible on top
    for i in order:
        if not inliers[i] and not outliers:
            continue
        colour = GREEN if inliers[i] else RED
        a = tuple(int(v) for v in np.rint(p1[i] * 2 ** shift))
        b = tuple(int(v) for v in np.rint(p2[i] * 2 ** shift))
        cv2.line(canvas, a, b, colour, 1, cv2.LINE_AA, shift)
        cv2.circle(canvas, a, 2 << shift, colour, 1, cv2.LINE_AA, shift)
        cv2.circle(canvas, b, 2 << shift, colour, 1, cv2.LINE_AA, shift)
    return canvas


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Writes a png through a hidden temporary sibling and ``os.replace`` (never a half-written picture).

    The file gets the usual permissions (``0666`` less the umask), as any file the user writes.

    Raises:
        OSError: OpenCV could not encode the image or the folder is not writable.
    """
    path = Path(path)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"cv2.imencode could not encode a png for {str(path)!r}")
    with staged_file(path) as temp:
        temp.write_bytes(encoded.tobytes())
    return path
