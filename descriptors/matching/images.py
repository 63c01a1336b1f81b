"""Image input for matching: read any file OpenCV decodes, convert to 8-bit grey, downscale to a maximum side.

Coordinates follow OpenCV: x right, y down, 0-based pixel centres. Downscaling maps a point ``x`` of the
original image to ``(x + 0.5) * s - 0.5`` in the working image (``s`` = working / original size, per axis), the
map that keeps pixel edges on pixel edges; `Rescale` holds it as a 3x3 matrix so keypoints and homographies are
moved between the two resolutions with the same numbers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from descriptors.errors import ConfigError, DataFormatError, ShapeError


def read_image(path: str | Path) -> np.ndarray:
    """Reads an image file as stored (8- or 16-bit, grey, BGR or BGRA), without conversion.

    Raises:
        FileNotFoundError: ``path`` does not exist. IsADirectoryError: it is a folder.
        PermissionError: it cannot be read.
        DataFormatError: OpenCV cannot decode the file.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"Image file {str(path)!r} is a folder; expected an image file")
    if not path.is_file():
        raise FileNotFoundError(f"Image file not found: {str(path)!r}")
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise type(error)(f"Image file {str(path)!r} cannot be read ({error.strerror or error})") from None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise DataFormatError(f"Image file {str(path)!r} must be an image OpenCV can decode (png, jpg, ppm, tif, "
                              f"...). Received: {data.size} bytes that cv2.imdecode could not read")
    return image


def to_gray_uint8(image: np.ndarray) -> np.ndarray:
    """Converts an image to 8-bit greyscale with a single rounding.

    uint8 is kept; uint16 is scaled by 255 / 65535 (the full 16-bit range maps to 0..255: scaled, never
    clipped or wrapped); float images are taken as 0..1 (the scikit-image convention) and clipped to it; bool
    becomes 0 / 255. Colour is BGR (OpenCV order, as `read_image` returns it) and uses OpenCV's luma weights;
    an alpha channel is ignored.

    Args:
        image: array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` BGR or ``(H, W, 4)`` BGRA.

    Returns:
        uint8 array ``(H, W)``.

    Raises:
        ShapeError: not a 2-D image with 1, 3 or 4 channels.
        TypeError: an unsupported dtype (signed integers, complex, ...).

    Shape:
        ``(H, W[, C])`` -> ``(H, W)``.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        channels = image.shape[2]
    elif image.ndim == 2:
        channels = 1
    else:
        raise ShapeError(f"`image` must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4). "
                         f"Received: image.shape={image.shape}")
    if min(image.shape[:2]) < 1:
        raise ShapeError(f"`image` must not be empty. Received: image.shape={image.shape}")
    if image.dtype == np.uint8:
        scale = None
    elif image.dtype == np.uint16:
        scale = 255.0 / 65535.0
    elif image.dtype == np.bool_:
        image, scale = image.astype(np.uint8), 255.0
    elif np.issubdtype(image.dtype, np.floating):
        scale = 255.0
    else:
        raise TypeError(f"`image` must be uint8, uint16, bool or float (0..1). Received: image.dtype={image.dtype}")
    if channels == 1:
        gray = image.reshape(image.shape[:2])
        if scale is None:
            return np.ascontiguousarray(gray)
        gray = gray.astype(np.float32)
    else:
        colour = image[..., :3]
        if scale is None:
            return cv2.cvtColor(np.ascontiguousarray(colour), cv2.COLOR_BGR2GRAY)
        gray = cv2.cvtColor(np.ascontiguousarray(colour, dtype=np.float32), cv2.COLOR_BGR2GRAY)
    return np.rint(np.clip(gray * np.float32(scale), 0.0, 255.0)).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class Rescale:
    """The map between an original image and its working (possibly downscaled) copy.

    Attributes:
        scale_x: working width / original width.
        scale_y: working height / original height.
    """

    scale_x: float = 1.0
    scale_y: float = 1.0

    @property
    def matrix(self) -> np.ndarray:
        """3x3 map from original pixel coordinates to working pixel coordinates."""
        sx, sy = self.scale_x, self.scale_y
        return np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])

    @property
    def scale(self) -> float:
        """Geometric mean of the two axis scales (sizes of keypoints scale by it)."""
        return float(np.sqrt(self.scale_x * self.scale_y))

    def to_original(self, points: np.ndarray) -> np.ndarray:
        """Working -> original pixel coordinates. Shape: ``(K, 2)`` -> ``(K, 2)``."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        return (points + 0.5) / np.array([self.scale_x, self.scale_y]) - 0.5

    def to_working(self, points: np.ndarray) -> np.ndarray:
        """Original -> working pixel coordinates. Shape: ``(K, 2)`` -> ``(K, 2)``."""
        points = np.asarray(points, np.float64).reshape(-1, 2)
        return (points + 0.5) * np.array([self.scale_x, self.scale_y]) - 0.5


def downscale(gray: np.ndarray, max_side: int | None) -> tuple[np.ndarray, Rescale]:
    """Shrinks an image so that its longer side is at most ``max_side`` (area interpolation); never enlarges.

    Args:
        gray: image ``(H, W)`` (any dtype OpenCV resizes).
        max_side: the largest allowed side in pixels, or None for no limit.

    Returns:
        The working image and the `Rescale` from the original to it (identity when nothing changed).

    Raises:
        ConfigError: ``max_side`` is not None or an integer >= 16.

    Shape:
        ``(H, W)`` -> ``(H', W')`` with ``max(H', W') <= max_side``.
    """
    if max_side is None:
        return gray, Rescale()
    if isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer)) or max_side < 16:
        raise ConfigError(f"`max_side` must be None or an integer >= 16. Received: max_side={max_side!r}")
    height, width = gray.shape[:2]
    if max(height, width) <= max_side:
        return gray, Rescale()
    factor = max_side / max(height, width)
    new_w, new_h = max(1, int(round(width * factor))), max(1, int(round(height * factor)))
    small = cv2.resize(gray, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return small, Rescale(new_w / width, new_h / height)
