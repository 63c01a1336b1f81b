"""Finds the same photograph shipped twice (e.g. ``skimage.data.cat`` is ``chelsea``): downscaled correlation.

A photograph's signature is its grey image area-resized to 32x32, minus its mean, divided by its norm; two
photographs are duplicates when the dot product of their signatures (a Pearson correlation) is at least
`DUPLICATE_THRESHOLD`. It survives re-encoding, resizing, gain and mild gamma, not cropping or a new viewpoint.
Measured on the shipped photographs: identical files give 1.000, the closest distinct pair 0.536 (``camera`` /
``page``), the two views of ``stereo_motorcycle`` 0.754 (that is handled by hand in
`descriptors.data.photo_sources.EXCLUDED`, not here).
"""

from __future__ import annotations

import cv2
import numpy as np

from descriptors.errors import ConfigError

SIGNATURE_SIDE = 32
DUPLICATE_THRESHOLD = 0.9


def photo_signature(image: np.ndarray, side: int = SIGNATURE_SIDE) -> np.ndarray:
    """Zero-mean, unit-norm vector of the grey image area-resized to ``side`` x ``side`` pixels.

    Args:
        image: the photograph, grey or RGB (any channel order: the grey is the channel mean).
        side: the side of the downscaled image.

    Returns:
        float64 vector of ``side * side`` values (all zero for a flat image).

    Shape:
        image: (H, W) or (H, W, C) -> (side * side,).

    Raises:
        ConfigError: ``image`` is not 2-D or 3-D.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or min(image.shape[:2]) < 1:
        raise ConfigError(f"`image` must be an (H, W) or (H, W, C) array. Received: shape={image.shape}")
    grey = image.astype(np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=2)
    small = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA).astype(np.float64).ravel()
    small -= small.mean()
    norm = np.linalg.norm(small)
    return small / norm if norm > 1e-9 else small


def photo_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the signatures of two photographs, in [-1, 1] (1: the same picture)."""
    return float(photo_signature(a) @ photo_signature(b))


def find_duplicates(images: dict, threshold: float = DUPLICATE_THRESHOLD) -> dict[str, str]:
    """The photographs that duplicate an earlier one, in the dict's order.

    Args:
        images: ``{name: image}``; earlier entries are kept.
        threshold: the similarity at or above which two photographs are the same.

    Returns:
        ``{dropped name: the kept name it duplicates}``.
    """
    kept: dict[str, np.ndarray] = {}
    duplicates = {}
    for name, image in images.items():
        signature = photo_signature(image)
        twin = next((other for other, sig in kept.items() if float(signature @ sig) >= threshold), None)
        if twin is None:
            kept[name] = signature
        else:
            duplicates[name] = twin
    return duplicates
