"""Image-level matching: OpenCV keypoints, HPatches-style patches, any toolkit descriptor, robust homography.

Quick use::

    from descriptors.matching import ImageMatcher
    result = ImageMatcher("default").match("a.png", "b.png")   # shipped model on SIFT keypoints
    result.homography, result.inliers.sum()

CLI: ``python -m descriptors.match IMG1 IMG2 --out matches.png``. Sequence evaluation (MMA, homography accuracy):
`evaluate_sequences`, `summarize`, `plot_mma`. Numpy and OpenCV only; Keras runs inside the descriptor pipeline.
"""

from descriptors.matching.describers import OpenCVSiftDescriber, PatchDescriber, resolve_describer
from descriptors.matching.drawing import draw_matches, write_png
from descriptors.matching.homography import (corner_error, estimate_homography, homography_problem, project,
                                             reprojection_errors)
from descriptors.matching.image_matching import ImageFeatures, ImageMatcher, MatchResult
from descriptors.matching.images import Rescale, downscale, read_image, to_gray_uint8
from descriptors.matching.keypoints import DETECTORS, Keypoints, detect_keypoints
from descriptors.matching.matchers import Matches, match_descriptors
from descriptors.matching.patch_extraction import extract_patches
from descriptors.matching.plots import plot_mma
from descriptors.matching.sequence_evaluation import evaluate_sequences, evaluation_dict, summarize, write_evaluation

__all__ = [
    "DETECTORS", "ImageFeatures", "ImageMatcher", "Keypoints", "MatchResult", "Matches", "OpenCVSiftDescriber",
    "PatchDescriber", "Rescale", "corner_error", "detect_keypoints", "downscale", "draw_matches",
    "estimate_homography", "evaluate_sequences", "evaluation_dict", "extract_patches", "homography_problem",
    "match_descriptors", "plot_mma", "project", "read_image", "reprojection_errors", "resolve_describer", "summarize",
    "to_gray_uint8", "write_evaluation", "write_png",
]
