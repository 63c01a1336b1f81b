"""`ImageMatcher`: two images -> keypoints, descriptors, matches, inliers and a homography.

Detection and description run on the working copy of each image (8-bit grey, longer side at most ``max_side``);
everything returned (keypoints, matched points, the homography) is in the pixel coordinates of the original
images. The robust estimator runs on working coordinates, so ``threshold`` is in working pixels.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from descriptors.data.geometry import build_pyramid
from descriptors.matching.describers import PatchDescriber, resolve_describer
from descriptors.matching.homography import MIN_MATCHES, change_coordinates, estimate_homography
from descriptors.matching.images import Rescale, downscale, read_image, to_gray_uint8
from descriptors.matching.keypoints import Keypoints, detect_keypoints
from descriptors.matching.matchers import Matches, match_descriptors


@dataclasses.dataclass
class ImageFeatures:
    """Keypoints and descriptors of one image.

    Attributes:
        keypoints: `Keypoints` in original pixel coordinates (sizes in original pixels).
        descriptors: float32 ``(K, D)``.
        shape: ``(H, W)`` of the original image.
        rescale: original -> working `Rescale`.
        working_keypoints: the same keypoints in working coordinates.
        timings: seconds spent in ``detect``, ``extract`` (patch cutting; 0 for OpenCV SIFT) and ``describe``.
    """

    keypoints: Keypoints
    descriptors: np.ndarray
    shape: tuple
    rescale: Rescale
    working_keypoints: Keypoints
    timings: dict


@dataclasses.dataclass
class MatchResult:
    """What `ImageMatcher.match` found.

    Attributes:
        features1: `ImageFeatures` of image 1.
        features2: `ImageFeatures` of image 2.
        matches: `Matches` (indices into the keypoints of each image).
        inliers: bool ``(M,)``, the robust estimator's inliers (all False without a homography).
        homography: 3x3 float64 mapping image 1 to image 2 (original pixels), or None.
        message: why there is no homography ("" when there is one).
    """

    features1: ImageFeatures
    features2: ImageFeatures
    matches: Matches
    inliers: np.ndarray
    homography: np.ndarray | None
    message: str = ""

    @property
    def points1(self) -> np.ndarray:
        """Matched points of image 1, original pixels. Shape: ``(M, 2)``."""
        return self.features1.keypoints.xy[self.matches.pairs[:, 0]]

    @property
    def points2(self) -> np.ndarray:
        """Matched points of image 2, original pixels. Shape: ``(M, 2)``."""
        return self.features2.keypoints.xy[self.matches.pairs[:, 1]]

    def summary(self, with_matches: bool = False) -> dict:
        """A JSON-ready dict: counts, homography (list of rows or None), message, timings, optionally matches."""
        out = {
            "keypoints": [len(self.features1.keypoints), len(self.features2.keypoints)],
            "matches": len(self.matches),
            "inliers": int(self.inliers.sum()),
            "homography": None if self.homography is None else self.homography.tolist(),
            "message": self.message,
            "image_shapes": [list(self.features1.shape), list(self.features2.shape)],
            "timings_s": {"image1": self.features1.timings, "image2": self.features2.timings},
        }
        if with_matches:
            out["matched_points"] = [[*p1, *p2, bool(i)] for p1, p2, i in
                                     zip(self.points1.tolist(), self.points2.tolist(), self.inliers)]
        return out


def _as_gray(image) -> np.ndarray:
    return to_gray_uint8(read_image(image) if isinstance(image, (str, Path)) else image)


class ImageMatcher:
    """Detect -> cut patches -> describe -> match -> robust homography, for pairs of images.

    Args:
        descriptor: any `resolve_describer` spec: ``"sift"`` (OpenCV SIFT on the image, default),
            ``"default"`` (the shipped model), ``"sift-patches"``, a pipeline folder, a ``.keras`` file, a
            callable on patches or a describer object.
        detector: ``"sift"`` (DoG, default), ``"orb"`` or ``"akaze"``.
        max_keypoints: strongest keypoints kept per image. Defaults to 2000.
        max_side: downscale images whose longer side exceeds this (None: never). Defaults to None.
        mutual: mutual nearest-neighbour check. Defaults to True.
        ratio: Lowe's ratio (None: no ratio test). Defaults to None.
        estimator: ``"magsac"`` (default) or ``"ransac"``.
        threshold: inlier threshold of the estimator, working pixels. Defaults to 3.
        name: label for tables; defaults to the describer's name.
    """

    def __init__(self, descriptor="sift", detector: str = "sift", max_keypoints: int | None = 2000,
                 max_side: int | None = None, mutual: bool = True, ratio: float | None = None,
                 estimator: str = "magsac", threshold: float = 3.0, name: str | None = None):
        self.describer = resolve_describer(descriptor)
        self.detector = detector
        self.max_keypoints = max_keypoints
        self.max_side = max_side
        self.mutual = mutual
        self.ratio = ratio
        self.estimator = estimator
        self.threshold = threshold
        self.name = name or self.describer.name
        downscale(np.zeros((1, 1), np.uint8), max_side)  # validates max_side now rather than on first use

    def features(self, image) -> ImageFeatures:
        """Keypoints and descriptors of an image (array of any supported dtype/channels, or a file path).

        Raises:
            FileNotFoundError, DataFormatError: an unreadable file. ShapeError, TypeError: an unusable array.
        """
        gray = _as_gray(image)
        working, rescale = downscale(gray, self.max_side)
        start = time.perf_counter()
        keypoints = detect_keypoints(working, self.detector, self.max_keypoints)
        timings = {"detect": time.perf_counter() - start, "extract": 0.0}
        pyramid = build_pyramid(working)
        start = time.perf_counter()
        if isinstance(self.describer, PatchDescriber):
            patches = self.describer.patches(working, keypoints, pyramid)
            timings["extract"] = time.perf_counter() - start
            start = time.perf_counter()
            descriptors = self.describer.describe_patches(patches)
        else:
            descriptors = self.describer.describe(working, keypoints, pyramid)
        timings["describe"] = time.perf_counter() - start
        original = keypoints.mapped(rescale.to_original, 1.0 / rescale.scale)
        return ImageFeatures(original, descriptors, gray.shape[:2], rescale, keypoints, timings)

    def match_features(self, features1: ImageFeatures, features2: ImageFeatures) -> MatchResult:
        """Matches two images' features and estimates the homography from image 1 to image 2."""
        counts = (len(features1.keypoints), len(features2.keypoints))
        if min(counts) == 0:
            matches = Matches.empty()
        else:
            matches = match_descriptors(features1.descriptors, features2.descriptors, self.mutual, self.ratio)
        homography, inliers = estimate_homography(
            features1.working_keypoints.xy[matches.pairs[:, 0]], features2.working_keypoints.xy[matches.pairs[:, 1]],
            self.estimator, self.threshold)
        message = ""
        if min(counts) < MIN_MATCHES:
            message = (f"Too few keypoints: image 1 has {counts[0]}, image 2 has {counts[1]}; a homography needs at "
                       f"least {MIN_MATCHES} in each (blank, tiny or very smooth image?)")
        elif len(matches) < MIN_MATCHES:
            message = f"Too few matches: {len(matches)}; a homography needs at least {MIN_MATCHES}"
        elif homography is None:
            message = f"The {self.estimator} estimator found no homography from {len(matches)} matches"
        homography = change_coordinates(homography, features1.rescale.matrix, features2.rescale.matrix)
        return MatchResult(features1, features2, matches, inliers, homography, message)

    def match(self, image1, image2) -> MatchResult:
        """Matches two images (arrays or file paths); see `MatchResult`."""
        return self.match_features(self.features(image1), self.features(image2))
