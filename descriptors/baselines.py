"""Hand-crafted reference descriptors for comparison tables: OpenCV SIFT on the patch and normalised pixels.

Both are plain callables ``patches -> descriptors`` like `DescriptorPipeline`, so `hpatches_eval` takes them
unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

from descriptors.errors import ShapeError

SIFT_SUPPORT = 5.303  # the official hpatches-benchmark recipe: keypoint size = 2 * (P / 2) / 5.303


def _as_gray_stack(patches) -> np.ndarray:
    patches = np.asarray(patches)
    if patches.ndim == 4 and patches.shape[-1] == 1:
        patches = patches[..., 0]
    if patches.ndim != 3 or patches.shape[1] != patches.shape[2]:
        raise ShapeError(f"`patches` must have shape (N, P, P) or (N, P, P, 1). Received: shape={patches.shape}")
    return patches


class SiftPatchDescriptor:
    """OpenCV SIFT computed on one keypoint at the patch centre (the official HPatches baseline recipe).

    The keypoint size is ``2 * (P / 2) / 5.303`` so SIFT's support roughly covers the patch; orientation 0 (patches are
    already oriented). Descriptors are L2-normalised 128-d float32 (RootSIFT optional).

    Args:
        root: apply RootSIFT (L1 normalise, square root).
    """

    def __init__(self, root: bool = False):
        self.root = root
        self._sift = cv2.SIFT_create()

    def __call__(self, patches) -> np.ndarray:
        """Shape: (N, P, P[, 1]) uint8 or float 0..255 -> (N, 128) float32."""
        patches = _as_gray_stack(patches)
        size = patches.shape[1]
        centre = (size - 1) / 2.0
        keypoint = [cv2.KeyPoint(centre, centre, 2.0 * (size / 2.0) / SIFT_SUPPORT, 0.0)]
        out = np.empty((len(patches), 128), dtype=np.float32)
        for i, patch in enumerate(np.clip(patches, 0, 255).astype(np.uint8)):
            _, desc = self._sift.compute(patch, keypoint)
            out[i] = desc[0] if desc is not None else 0.0
        if self.root:
            out = np.sqrt(out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12))
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


class NormalizedPixels:
    """The patch itself as a descriptor: resized to ``size`` x ``size``, zero mean, unit norm.

    Args:
        size: side of the resized patch (area interpolation); the descriptor has size * size dims.
    """

    def __init__(self, size: int = 16):
        self.size = size

    def __call__(self, patches) -> np.ndarray:
        """Shape: (N, P, P[, 1]) -> (N, size * size) float32."""
        patches = _as_gray_stack(patches).astype(np.float32)
        if patches.shape[1] != self.size:
            patches = np.stack([cv2.resize(p, (self.size, self.size), interpolation=cv2.INTER_AREA) for p in patches])
        flat = patches.reshape(len(patches), -1)
        flat = flat - flat.mean(axis=1, keepdims=True)
        return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-6)
