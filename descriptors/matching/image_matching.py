"""`ImageMatcher`: two images -> keypoints, descriptors, matches, inliers and a homography.

Detection and description run on the working copy of each image (8-bit grey, longer side at most ``max_side``,
`DEFAULT_MAX_SIDE` = 2000 px by default, so memory stays bounded for any image size); everything returned
(keypoints, matched points, the homography) is in the pixel coordinates of the original images. The robust
estimator runs on working coordinates, so ``threshold`` is in working pixels.

A homography is returned only when it is reliable: at least ``min_inliers`` inliers (default
`DEFAULT_MIN_INLIERS` = 15), an inlier ratio (inliers / matches) of at least ``min_inlier_ratio`` (default
`DEFAULT_MIN_INLIER_RATIO` = 0.1) and no degeneracy (`homography_problem`); otherwise ``homography`` is None and
``message`` starts with "no reliable homography". The defaults were measured on real and unrelated pairs (SIFT
keypoints, OpenCV SIFT and SIFT-on-patches descriptors, mutual nearest neighbours, MAGSAC++): the 40 pairs of the
matching benchmark (``v_churchill``, ``v_wormhole``, four descriptors, even the hardest 1-6 viewpoints) have
83..1245 inliers and ratios 0.127..0.94; 61 unrelated pairs (other sequences, scikit-image photos and textures,
blurred noise) have at most 8 inliers (ratios 0.0..0.6, from few matches). The ratio is relative to the matches
that pass the mutual / ratio filters: without the mutual check (``mutual=False``) every keypoint is a match and
real hard pairs fall to ratios of 0.05..0.09, so lower ``min_inlier_ratio`` there.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from descriptors.data.geometry import build_pyramid
from descriptors.errors import ConfigError
from descriptors.matching.describers import PatchDescriber, resolve_describer
from descriptors.matching.homography import (MIN_MATCHES, change_coordinates, estimate_homography,
                                             homography_problem)
from descriptors.matching.images import Rescale, downscale, read_image, to_gray_uint8
from descriptors.matching.keypoints import Keypoints, detect_keypoints
from descriptors.matching.matchers import Matches, match_descriptors

DEFAULT_MAX_SIDE = 2000
DEFAULT_MIN_INLIERS = 15
DEFAULT_MIN_INLIER_RATIO = 0.1
NO_RELIABLE = "no reliable homography"


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
        inliers: bool ``(M,)``, the inliers of the robust estimator's best model, kept also when that model is
            refused as unreliable (all False when the estimator found none).
        homography: 3x3 float64 mapping image 1 to image 2 (original pixels), or None when there is no reliable
            one.
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

    @property
    def inlier_ratio(self) -> float:
        """Inliers / matches (0 without matches)."""
        return float(self.inliers.sum() / len(self.matches)) if len(self.matches) else 0.0

    def summary(self, with_matches: bool = False) -> dict:
        """A JSON-ready dict: counts, inlier ratio, homography (rows or None), reason (None with one), timings.

        With ``with_matches`` it adds ``matched_points``: ``[x1, y1, x2, y2, inlier]`` per match.
        """
        out = {
            "keypoints": [len(self.features1.keypoints), len(self.features2.keypoints)],
            "matches": len(self.matches),
            "inliers": int(self.inliers.sum()),
            "inlier_ratio": self.inlier_ratio,
            "homography": None if self.homography is None else self.homography.tolist(),
            "reason": self.message or None,
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
        max_side: downscale images whose longer side exceeds this (None: never; memory then grows with the
            image: 8.7 GB peak for two 6000x6000 images, 1.3 GB at 2000). Defaults to `DEFAULT_MAX_SIDE` (2000).
        mutual: mutual nearest-neighbour check. Defaults to True.
        ratio: Lowe's ratio (None: no ratio test). Defaults to None.
        estimator: ``"magsac"`` (default) or ``"ransac"``.
        threshold: inlier threshold of the estimator, working pixels. Defaults to 3.
        name: label for tables; defaults to the describer's name.
        min_inliers: fewer inliers give no homography. Defaults to `DEFAULT_MIN_INLIERS` (15).
        min_inlier_ratio: a lower inliers / matches ratio gives no homography. Defaults to
            `DEFAULT_MIN_INLIER_RATIO` (0.1).

    Raises:
        ConfigError: a bad option (``max_side``, ``min_inliers``, ``min_inlier_ratio``, an unknown descriptor).
    """

    def __init__(self, descriptor="sift", detector: str = "sift", max_keypoints: int | None = 2000,
                 max_side: int | None = DEFAULT_MAX_SIDE, mutual: bool = True, ratio: float | None = None,
                 estimator: str = "magsac", threshold: float = 3.0, name: str | None = None,
                 min_inliers: int = DEFAULT_MIN_INLIERS, min_inlier_ratio: float = DEFAULT_MIN_INLIER_RATIO):
        if isinstance(min_inliers, bool) or not isinstance(min_inliers, (int, np.integer)) or min_inliers < 0:
            raise ConfigError(f"`min_inliers` must be an integer >= 0. Received: min_inliers={min_inliers!r}")
        if isinstance(min_inlier_ratio, bool) or not isinstance(min_inlier_ratio, (int, float, np.number)) \
                or not 0.0 <= min_inlier_ratio <= 1.0:
            raise ConfigError(f"`min_inlier_ratio` must be a number in [0, 1]. "
                              f"Received: min_inlier_ratio={min_inlier_ratio!r}")
        downscale(np.zeros((1, 1), np.uint8), max_side)  # validates max_side before any model is loaded
        self.describer = resolve_describer(descriptor)
        self.detector = detector
        self.max_keypoints = max_keypoints
        self.max_side = max_side
        self.mutual = mutual
        self.ratio = ratio
        self.estimator = estimator
        self.threshold = threshold
        self.min_inliers = int(min_inliers)
        self.min_inlier_ratio = float(min_inlier_ratio)
        self.name = name or self.describer.name

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
        if homography is not None:
            message = self.unreliable(int(inliers.sum()), len(matches), homography, features1.shape, features2.shape)
            if message:
                homography = None
        return MatchResult(features1, features2, matches, inliers, homography, message)

    def unreliable(self, inliers: int, matches: int, homography: np.ndarray, shape1: tuple, shape2: tuple) -> str:
        """Why an estimated homography is not reliable ("" when it is); see the module docstring.

        Args:
            inliers: the estimator's inlier count.
            matches: the number of matches it was estimated from.
            homography: the estimate, original pixels.
            shape1: shape of image 1.
            shape2: shape of image 2.
        """
        ratio = inliers / matches if matches else 0.0
        if inliers < self.min_inliers or ratio < self.min_inlier_ratio:
            return (f"{NO_RELIABLE}: {inliers} inliers of {matches} matches (ratio {ratio:.3f}); needs at least "
                    f"{self.min_inliers} inliers and an inlier ratio of at least {self.min_inlier_ratio:g}")
        problem = homography_problem(homography, shape1, shape2)
        return f"{NO_RELIABLE}: {problem} ({inliers} inliers of {matches} matches)" if problem else ""

    def match(self, image1, image2) -> MatchResult:
        """Matches two images (arrays or file paths); see `MatchResult`."""
        return self.match_features(self.features(image1), self.features(image2))
