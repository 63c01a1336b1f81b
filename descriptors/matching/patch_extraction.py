"""Cuts HPatches-style patches at keypoints in one vectorised pass: 5x-scale region, oriented, resampled to 32x32.

The geometry is `descriptors.data.geometry`'s (the one the dataset builder uses): a frame ``(x, y, sigma, angle)``
covers the square of half-side ``extent * sigma`` rotated by ``angle``, and patch pixel ``u`` sits at normalised
``(u - (P - 1) / 2) / (P / 2)`` of it. Each patch is read from the Gaussian-pyramid level ``floor(log2(s))`` for
``s`` image pixels per patch pixel (no aliasing from large minifications), exactly as `geometry.warp_patches`
does; but instead of one ``cv2.warpPerspective`` per patch, the sampling grids of all patches of a level are built
at once with numpy and read with a single ``cv2.remap`` (bilinear) on a stacked grid.
Regions that leave the image are completed by reflection (``BORDER_REFLECT_101``), like the builder.
"""

from __future__ import annotations

import numpy as np
import cv2

from descriptors.data.geometry import build_pyramid, frame_matrices, local_scale, patch_maps
from descriptors.errors import ConfigError, ShapeError

PATCH_SIDE = 32
EXTENT = 5.0
_ROWS_PER_REMAP = 30_000  # OpenCV's remap keeps map sizes below SHRT_MAX rows


def sampling_levels(maps: np.ndarray, size: int, num_levels: int) -> np.ndarray:
    """Pyramid level of each patch: ``floor(log2(s))`` clipped to the pyramid, ``s`` = image px per patch px.

    Shape:
        maps: ``(K, 3, 3)`` patch maps. Output: ``(K,)`` int.
    """
    scale = np.maximum(local_scale(maps, size), 1.0)
    return np.clip(np.floor(np.log2(scale)), 0, num_levels - 1).astype(int)


def sample_affine(image: np.ndarray, maps: np.ndarray, size: int) -> np.ndarray:
    """Bilinear sampling of ``image`` at ``maps @ (u, v, 1)`` for every patch pixel, with one ``cv2.remap`` call.

    Args:
        image: ``(H, W)`` uint8 or float32 image.
        maps: ``(K, 3, 3)`` affine patch pixel -> image pixel maps (last row ``0, 0, 1``).
        size: patch side ``P``.

    Returns:
        ``(K, P, P)`` array of the image's dtype.

    Shape:
        image ``(H, W)``, maps ``(K, 3, 3)`` -> ``(K, P, P)``.
    """
    grid = np.arange(size, dtype=np.float64)
    out = np.empty((len(maps), size, size), image.dtype)
    step = max(1, _ROWS_PER_REMAP // size)
    for start in range(0, len(maps), step):
        m = maps[start:start + step]
        # x = a * u + b * v + c (u: column, v: row), evaluated on the (k, P, P) grid by broadcasting
        xs = (m[:, 0, 0, None, None] * grid[None, None, :] + m[:, 0, 1, None, None] * grid[None, :, None]
              + m[:, 0, 2, None, None])
        ys = (m[:, 1, 0, None, None] * grid[None, None, :] + m[:, 1, 1, None, None] * grid[None, :, None]
              + m[:, 1, 2, None, None])
        stacked = cv2.remap(image, xs.reshape(-1, size).astype(np.float32), ys.reshape(-1, size).astype(np.float32),
                            cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        out[start:start + len(m)] = stacked.reshape(len(m), size, size)
    return out


def extract_patches(gray: np.ndarray, frames: np.ndarray, size: int = PATCH_SIDE, extent: float = EXTENT,
                    pyramid: list | None = None) -> np.ndarray:
    """Oriented patches of the measurement regions of ``frames``, HPatches-style.

    Args:
        gray: uint8 image ``(H, W)``.
        frames: ``(K, 4)`` rows ``x, y, sigma, angle`` (radians), e.g. `Keypoints.frames()`.
        size: patch side. Defaults to 32 (the descriptor input; HPatches stores 65).
        extent: region half-side in units of sigma. Defaults to 5 (HPatches' "5x the feature scale").
        pyramid: a `descriptors.data.geometry.build_pyramid` of ``gray`` to reuse; built when None.

    Returns:
        uint8 ``(K, size, size)``: patch row ``v``, column ``u`` samples the frame at normalised
        ``((u - (size - 1) / 2) / (size / 2), (v - (size - 1) / 2) / (size / 2))``, the x axis along ``angle``.

    Raises:
        ShapeError: ``gray`` is not ``(H, W)`` or ``frames`` not ``(K, 4)``.
        ConfigError: ``size`` or ``extent`` is not positive.

    Shape:
        gray ``(H, W)``, frames ``(K, 4)`` -> ``(K, size, size)``.
    """
    gray = np.asarray(gray)
    frames = np.asarray(frames, np.float64)
    if gray.ndim != 2:
        raise ShapeError(f"`gray` must be an (H, W) image. Received: gray.shape={gray.shape}")
    if frames.ndim != 2 or frames.shape[1] != 4:
        raise ShapeError(f"`frames` must have shape (K, 4) (x, y, sigma, angle). Received: frames.shape={frames.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(f"`size` must be a positive integer. Received: size={size!r}")
    if not extent > 0:
        raise ConfigError(f"`extent` must be positive. Received: extent={extent!r}")
    if pyramid is None:
        pyramid = build_pyramid(gray)
    out = np.empty((len(frames), size, size), gray.dtype)
    if len(frames) == 0:
        return out
    maps = patch_maps(frame_matrices(frames, extent), size)
    levels = sampling_levels(maps, size, len(pyramid))
    for level in np.unique(levels):
        chosen = np.flatnonzero(levels == level)
        down = np.diag([0.5 ** level, 0.5 ** level, 1.0]) @ maps[chosen]
        out[chosen] = sample_affine(pyramid[level], down, size)
    return out
