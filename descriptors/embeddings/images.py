"""`LabelledImages`: an in-memory labelled image set (the one data source type of the embedding trainer)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from descriptors.errors import DataFormatError, ShapeError


@dataclasses.dataclass(frozen=True)
class LabelledImages:
    """Images with integer class labels.

    Attributes:
        images: uint8 (N, H, W, C), C in (1, 3).
        labels: int64 (N,) class indices into `class_names`.
        class_names: name of each class.

    Raises:
        ShapeError: images not (N, H, W, C) with C in (1, 3), or labels not (N,).
        DataFormatError: images not uint8, or a label outside `range(len(class_names))`.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple

    def __post_init__(self):
        images, labels = np.asarray(self.images), np.asarray(self.labels)
        if images.ndim != 4 or images.shape[-1] not in (1, 3):
            raise ShapeError(f"`images` must have shape (N, H, W, C) with C in (1, 3). Received: {images.shape}")
        if images.dtype != np.uint8:
            raise DataFormatError(f"`images` must be uint8. Received: images.dtype={images.dtype}")
        if labels.shape != (len(images),):
            raise ShapeError(f"`labels` must have shape ({len(images)},). Received: labels.shape={labels.shape}")
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise DataFormatError(
                f"`labels` must lie in 0..{len(self.class_names) - 1}. Received: {labels.min()}..{labels.max()}"
            )
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels.astype(np.int64))
        object.__setattr__(self, "class_names", tuple(str(name) for name in self.class_names))

    @classmethod
    def from_arrays(cls, images, labels, class_names=None) -> "LabelledImages":
        """Builds a set from arrays: images (N, H, W) or (N, H, W, C), uint8 or floats on 0..255; any labels.

        Labels of any hashable type are mapped to 0..K-1 in sorted order; `class_names` defaults to their text.

        Shape:
            images (N, H, W[, C]), labels (N,) -> images uint8 (N, H, W, C), labels int64 (N,).
        """
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        if images.dtype != np.uint8:
            images = np.clip(np.rint(images.astype(np.float64)), 0, 255).astype(np.uint8)
        values, labels = np.unique(np.asarray(labels), return_inverse=True)
        names = tuple(str(v) for v in values) if class_names is None else tuple(class_names)
        if class_names is not None and len(names) != len(values):
            raise DataFormatError(
                f"`class_names` must name each of the {len(values)} labels. Received: {len(names)} names"
            )
        return cls(images, labels.reshape(-1), names)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple:
        return tuple(self.images.shape[1:])

    def subset(self, indices) -> "LabelledImages":
        """The images at `indices` (class names kept)."""
        indices = np.asarray(indices, dtype=np.int64)
        return LabelledImages(self.images[indices], self.labels[indices], self.class_names)

    def resized(self, size: int) -> "LabelledImages":
        """Resizes every image to `size` x `size` (area when shrinking, bilinear when growing)."""
        if self.images.shape[1:3] == (size, size):
            return self
        interpolation = cv2.INTER_AREA if size < min(self.images.shape[1:3]) else cv2.INTER_LINEAR
        out = np.stack([cv2.resize(image, (size, size), interpolation=interpolation) for image in self.images])
        return LabelledImages(out.reshape(len(out), size, size, self.images.shape[-1]), self.labels, self.class_names)

    def split(self, fractions, seed: int) -> tuple:
        """Stratified random split into len(fractions) + 1 parts (the last takes the rest).

        Each class contributes `round(fraction * class size)` images to each part, so every part keeps the class
        balance. The split is a pure function of `seed`.

        Args:
            fractions: fractions of the first parts, e.g. (0.1, 0.3) -> (val, test, train).
            seed: random seed.

        Returns:
            tuple of `LabelledImages`.
        """
        rng = np.random.default_rng([seed, 17])
        parts = [[] for _ in range(len(fractions) + 1)]
        for label in range(self.num_classes):
            members = rng.permutation(np.flatnonzero(self.labels == label))
            start = 0
            for part, fraction in zip(parts, fractions):
                count = int(round(fraction * len(members)))
                part.append(members[start : start + count])
                start += count
            parts[-1].append(members[start:])
        return tuple(self.subset(np.sort(np.concatenate(part))) for part in parts)
