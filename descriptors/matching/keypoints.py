"""Keypoint detection with OpenCV (SIFT/DoG by default, ORB or AKAZE) and the frames patches are cut from.

A `Keypoints` object holds OpenCV's keypoint fields as arrays, so it can be rescaled, indexed and turned back into
the exact ``cv2.KeyPoint`` list (OpenCV's SIFT descriptor needs the ``octave`` field). Its `frames` are the
``(x, y, sigma, angle)`` rows of `descriptors.data.detect`: ``sigma`` is the detection scale, ``KeyPoint.size / 2``
for SIFT and AKAZE (OpenCV stores a diameter of two sigmas, as `descriptors.data.detect` assumes), and
``KeyPoint.size / 10`` for ORB, whose ``size`` is the side of its 31-pixel descriptor window (so the 10-sigma
measurement region equals ORB's own support). ``angle`` is ``KeyPoint.angle`` in radians: OpenCV measures it in
image coordinates (x right, y down), the convention of `descriptors.data.geometry.frame_matrices`.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from descriptors.errors import ConfigError, ShapeError

DETECTORS = ("sift", "orb", "akaze")
SIGMA_PER_SIZE = {"sift": 0.5, "orb": 0.1, "akaze": 0.5}


@dataclasses.dataclass
class Keypoints:
    """K keypoints as arrays (OpenCV's fields).

    Attributes:
        xy: float64 ``(K, 2)`` centres, pixels.
        size: float64 ``(K,)`` OpenCV ``KeyPoint.size``.
        angle: float64 ``(K,)`` degrees, image coordinates; 0 where the detector gives none.
        response: float64 ``(K,)`` detector response.
        octave: int64 ``(K,)`` OpenCV's packed octave (SIFT's descriptor reads it).
        detector: name of the detector, one of `DETECTORS` (sets the size -> sigma convention).
    """

    xy: np.ndarray
    size: np.ndarray
    angle: np.ndarray
    response: np.ndarray
    octave: np.ndarray
    detector: str = "sift"

    def __post_init__(self):
        if self.detector not in DETECTORS:
            raise ConfigError(f"`detector` must be one of {DETECTORS}. Received: detector={self.detector!r}")
        self.xy = np.asarray(self.xy, np.float64).reshape(-1, 2)
        count = len(self.xy)
        for name in ("size", "angle", "response", "octave"):
            value = np.asarray(getattr(self, name), np.int64 if name == "octave" else np.float64).reshape(-1)
            if len(value) != count:
                raise ShapeError(f"`{name}` must have one value per keypoint ({count}). Received: {len(value)}")
            setattr(self, name, value)

    def __len__(self) -> int:
        return len(self.xy)

    @classmethod
    def empty(cls, detector: str = "sift") -> Keypoints:
        """No keypoints."""
        return cls(np.zeros((0, 2)), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), detector)

    @classmethod
    def from_cv(cls, keypoints, detector: str = "sift") -> Keypoints:
        """From a sequence of ``cv2.KeyPoint``; an angle of -1 (none) becomes 0."""
        if len(keypoints) == 0:
            return cls.empty(detector)
        rows = np.array([(k.pt[0], k.pt[1], k.size, k.angle, k.response, k.octave) for k in keypoints], np.float64)
        angle = np.where(rows[:, 3] < 0, 0.0, rows[:, 3])
        return cls(rows[:, :2], rows[:, 2], angle, rows[:, 4], rows[:, 5].astype(np.int64), detector)

    def to_cv(self) -> list:
        """The ``cv2.KeyPoint`` list (exact fields, including ``octave``)."""
        return [cv2.KeyPoint(float(x), float(y), float(s), float(a), float(r), int(o))
                for (x, y), s, a, r, o in zip(self.xy, self.size, self.angle, self.response, self.octave)]

    def subset(self, index) -> Keypoints:
        """Keypoints at ``index`` (an int array or a boolean mask)."""
        return Keypoints(self.xy[index], self.size[index], self.angle[index], self.response[index],
                         self.octave[index], self.detector)

    def frames(self) -> np.ndarray:
        """Frames ``(x, y, sigma, angle)`` as in `descriptors.data.detect`. Shape: ``(K, 4)`` float64."""
        sigma = self.size * SIGMA_PER_SIZE[self.detector]
        return np.column_stack([self.xy, sigma, np.deg2rad(self.angle)])

    def mapped(self, points_map, size_factor: float) -> Keypoints:
        """Keypoints with centres moved by ``points_map`` (a callable on ``(K, 2)``) and sizes times ``size_factor``."""
        return Keypoints(points_map(self.xy), self.size * size_factor, self.angle, self.response, self.octave,
                         self.detector)


def available_detectors() -> tuple:
    """The detectors this OpenCV build offers (AKAZE moved to opencv-contrib in OpenCV 5)."""
    return tuple(d for d in DETECTORS if d != "akaze" or hasattr(cv2, "AKAZE_create"))


def _create(detector: str, max_keypoints: int):
    if detector == "sift":
        return cv2.SIFT_create()
    if detector == "orb":
        return cv2.ORB_create(nfeatures=max_keypoints)
    if not hasattr(cv2, "AKAZE_create"):
        raise ConfigError(f"`detector` 'akaze' needs an OpenCV build with cv2.AKAZE_create (OpenCV 4.x, or "
                          f"opencv-contrib in OpenCV 5); this OpenCV {cv2.__version__} has none. "
                          f"Received: detector='akaze'; available: {available_detectors()}")
    return cv2.AKAZE_create()


def detect_keypoints(gray: np.ndarray, detector: str = "sift", max_keypoints: int | None = 2000) -> Keypoints:
    """Detects keypoints and keeps the strongest ``max_keypoints``, in a deterministic order.

    OpenCV's detectors run in parallel threads, so their output order may vary; keypoints are sorted by
    decreasing response, then by position, size and angle, before the top ``max_keypoints`` are kept.

    Args:
        gray: uint8 image ``(H, W)`` (see `descriptors.matching.images.to_gray_uint8`).
        detector: ``"sift"`` (DoG, default), ``"orb"`` or ``"akaze"`` (if this OpenCV build has it).
        max_keypoints: keep at most this many (None: all).

    Returns:
        `Keypoints` (possibly empty: a blank image has none).

    Raises:
        ConfigError: unknown or unavailable ``detector``, or a bad ``max_keypoints``.
        ShapeError: ``gray`` is not a uint8 ``(H, W)`` image.
    """
    if detector not in DETECTORS:
        raise ConfigError(f"`detector` must be one of {DETECTORS}. Received: detector={detector!r}")
    if max_keypoints is not None and (isinstance(max_keypoints, bool) or not isinstance(max_keypoints, (int, np.integer))
                                      or max_keypoints < 1):
        raise ConfigError(f"`max_keypoints` must be None or a positive integer. Received: max_keypoints={max_keypoints!r}")
    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.dtype != np.uint8:
        raise ShapeError(f"`gray` must be a uint8 (H, W) image. Received: dtype={gray.dtype}, shape={gray.shape}")
    limit = max_keypoints if max_keypoints is not None else 100_000
    found = Keypoints.from_cv(_create(detector, limit).detect(gray, None), detector)
    order = np.lexsort((found.angle, found.size, found.xy[:, 0], found.xy[:, 1], -found.response))
    return found.subset(order[:max_keypoints] if max_keypoints is not None else order)
