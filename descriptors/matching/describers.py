"""Descriptors for keypoints of an image: OpenCV SIFT on the image, or any patch descriptor on our patches.

A describer is an object with ``name`` and ``describe(gray, keypoints, pyramid=None) -> (K, D) float32``.
`resolve_describer` turns a short specification into one:

- ``"default"``: the shipped model (`descriptors.pretrained.load_default_pipeline`) on our patches;
- ``"sift"`` (alias ``"opencv-sift"``): OpenCV SIFT descriptors computed on the image at the keypoints;
- ``"sift-patches"``: `descriptors.baselines.SiftPatchDescriptor` (the HPatches SIFT recipe) on our patches;
- a folder written by `DescriptorPipeline.save` (a trained pipeline, with or without its denoiser);
- a ``.keras`` file holding a descriptor model (wrapped in a `DescriptorPipeline` without denoiser);
- any callable ``patches (N, P, P) uint8 -> (N, D)`` (a `DescriptorPipeline`, a baseline, ...).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from descriptors.errors import ConfigError, ShapeError
from descriptors.matching.keypoints import Keypoints
from descriptors.matching.patch_extraction import EXTENT, PATCH_SIDE, extract_patches

BUILTIN = ("default", "sift", "opencv-sift", "sift-patches")


def _checked(descriptors, count: int, name: str) -> np.ndarray:
    out = np.asarray(descriptors, np.float32)
    if out.ndim != 2 or len(out) != count:
        raise ShapeError(f"Describer {name!r} must return (K, D) descriptors for K={count} keypoints. "
                         f"Received: shape={out.shape}")
    return out


class OpenCVSiftDescriber:
    """OpenCV's SIFT descriptor computed on the image at SIFT keypoints (the usual SIFT baseline).

    It needs keypoints from the SIFT detector: OpenCV reads the scale-space layer from ``KeyPoint.octave``.
    """

    name = "opencv-sift"

    def __init__(self):
        self._sift = cv2.SIFT_create()

    def describe(self, gray: np.ndarray, keypoints: Keypoints, pyramid=None) -> np.ndarray:
        """Shape: gray ``(H, W)`` uint8, K keypoints -> ``(K, 128)`` float32."""
        if keypoints.detector != "sift":
            raise ConfigError("The `opencv-sift` describer needs keypoints of the `sift` detector (OpenCV reads "
                              f"their octave field). Received: detector={keypoints.detector!r}; use `sift-patches`")
        if len(keypoints) == 0:
            return np.zeros((0, 128), np.float32)
        cv_keypoints = keypoints.to_cv()
        kept, descriptors = self._sift.compute(gray, cv_keypoints)
        if descriptors is None or len(kept) != len(cv_keypoints):
            raise ShapeError(f"OpenCV SIFT dropped keypoints: {len(cv_keypoints)} given, {len(kept)} described")
        return _checked(descriptors, len(keypoints), self.name)


class PatchDescriber:
    """A patch descriptor run on HPatches-style patches cut at the keypoints (`extract_patches`).

    Args:
        patch_descriptor: callable ``(N, P, P) uint8 -> (N, D)``, e.g. a `DescriptorPipeline`.
        name: label used in tables and errors.
        size: patch side handed to the descriptor. Defaults to 32.
        extent: region half-side in units of the keypoint sigma. Defaults to 5.
    """

    def __init__(self, patch_descriptor, name: str = "patches", size: int = PATCH_SIDE, extent: float = EXTENT):
        if not callable(patch_descriptor):
            raise TypeError(f"`patch_descriptor` must be callable (patches -> descriptors). "
                            f"Received: {type(patch_descriptor).__name__}")
        self.patch_descriptor = patch_descriptor
        self.name = name
        self.size = size
        self.extent = extent

    def patches(self, gray: np.ndarray, keypoints: Keypoints, pyramid=None) -> np.ndarray:
        """The patches the descriptor sees. Shape: ``(K, size, size)`` uint8."""
        return extract_patches(gray, keypoints.frames(), self.size, self.extent, pyramid)

    def describe(self, gray: np.ndarray, keypoints: Keypoints, pyramid=None) -> np.ndarray:
        """Shape: gray ``(H, W)`` uint8, K keypoints -> ``(K, D)`` float32."""
        return self.describe_patches(self.patches(gray, keypoints, pyramid))

    def describe_patches(self, patches: np.ndarray) -> np.ndarray:
        """Runs the descriptor on already cut patches. Shape: ``(K, P, P)`` -> ``(K, D)`` float32."""
        if len(patches) == 0:
            out = np.asarray(self.patch_descriptor(patches[:0]))
            return np.zeros((0, out.shape[-1] if out.ndim == 2 else 0), np.float32)
        return _checked(self.patch_descriptor(patches), len(patches), self.name)


def _load_pipeline(path: Path):
    from descriptors.models.pipeline import DescriptorPipeline

    if path.is_dir():
        return DescriptorPipeline.load(path)
    import keras  # a lone .keras descriptor file: the pipeline wraps it, nothing else touches Keras

    import descriptors.models  # noqa: F401  registers the custom layers and models

    return DescriptorPipeline(keras.saving.load_model(path, compile=False))


def resolve_describer(spec, name: str | None = None):
    """Builds a describer from a name, a path or a callable (see the module docstring).

    Args:
        spec: ``"default"``, ``"sift"``/``"opencv-sift"``, ``"sift-patches"``, a pipeline folder, a ``.keras``
            file, a callable on patches, or an object that already has ``describe`` (returned as is).
        name: label for tables; defaults to the spec.

    Raises:
        FileNotFoundError: a path that does not exist, or a folder without ``pipeline.json``.
        ConfigError: a string that is neither a known name nor a path.
    """
    if hasattr(spec, "describe") and hasattr(spec, "name") and not callable(spec):
        return spec
    if callable(spec):
        return PatchDescriber(spec, name or type(spec).__name__)
    if not isinstance(spec, (str, Path)):
        raise ConfigError(f"`descriptor` must be one of {BUILTIN}, a pipeline folder, a .keras file or a callable. "
                          f"Received: descriptor={spec!r}")
    text = str(spec)
    if text in ("sift", "opencv-sift"):
        return OpenCVSiftDescriber()
    if text == "sift-patches":
        from descriptors.baselines import SiftPatchDescriptor

        return PatchDescriber(SiftPatchDescriptor(), name or text)
    if text == "default":
        from descriptors.pretrained import load_default_pipeline

        return PatchDescriber(load_default_pipeline(), name or text)
    path = Path(text)
    if path.is_dir() or (path.suffix == ".keras" and path.is_file()):
        return PatchDescriber(_load_pipeline(path), name or path.name)
    if path.suffix == ".keras" or path.exists() or "/" in text:
        raise FileNotFoundError(f"`descriptor` must be a pipeline folder (with pipeline.json) or a .keras file. "
                                f"Received: descriptor={text!r}, which does not exist or is neither")
    raise ConfigError(f"`descriptor` must be one of {BUILTIN}, a pipeline folder or a .keras file. "
                      f"Received: descriptor={text!r}")
