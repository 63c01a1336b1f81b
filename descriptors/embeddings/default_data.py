"""Offline default image sets, bundled inside installed wheels (no network): sklearn digits, skimage face crops."""

from __future__ import annotations

import numpy as np

from descriptors.embeddings.images import LabelledImages
from descriptors.errors import ConfigError

DEFAULT_DATASETS = ("digits", "faces")


def load_digits_images(image_size: int = 32) -> LabelledImages:
    """The scikit-learn handwritten digits (1,797 images, 10 classes, 8x8 on 0..16), as uint8 images.

    Pixels are scaled to 0..255 and up-sampled (bilinear) to `image_size`.

    Returns:
        `LabelledImages` (1797, image_size, image_size, 1), class names "0".."9".
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(np.rint(digits.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    data = LabelledImages.from_arrays(images, digits.target, class_names=[str(d) for d in range(10)])
    return data.resized(image_size)


def load_face_images(image_size: int = 32) -> LabelledImages:
    """scikit-image's `lfw_subset`: 100 face crops and 100 non-face crops (25x25 gray), two classes.

    The set has no identities, so it is a two-class (face / non-face) problem; `skimage.data.lfw_subset` reads a
    file shipped inside the scikit-image wheel (checked offline with scikit-image 0.26).

    Returns:
        `LabelledImages` (200, image_size, image_size, 1), class names ("non_face", "face").
    """
    from skimage.data import lfw_subset

    crops = lfw_subset()  # float64 (200, 25, 25) on 0..1; the first 100 are faces
    labels = np.r_[np.ones(100, dtype=np.int64), np.zeros(len(crops) - 100, dtype=np.int64)]
    data = LabelledImages.from_arrays(crops * 255.0, labels, class_names=("non_face", "face"))
    return data.resized(image_size)


def load_default_images(name: str, image_size: int = 32) -> LabelledImages:
    """One of the offline sets by name: "digits" or "faces".

    Raises:
        ConfigError: unknown name.
    """
    if name == "digits":
        return load_digits_images(image_size)
    if name == "faces":
        return load_face_images(image_size)
    raise ConfigError(f"`name` must be one of {DEFAULT_DATASETS}. Received: name={name!r}")
