"""No answer rather than a wrong one (inlier gates, degenerate estimates) and the default cap on image size."""

import cv2
import numpy as np
import pytest
import skimage.data

from descriptors.errors import ConfigError
from descriptors.matching import ImageMatcher, corner_error
from descriptors.matching.homography import MAX_AREA_CHANGE, homography_problem
from descriptors.matching.image_matching import DEFAULT_MAX_SIDE, DEFAULT_MIN_INLIER_RATIO, DEFAULT_MIN_INLIERS


def noise_image(seed: int, side: int = 384) -> np.ndarray:
    """Blurred uniform noise: plenty of SIFT keypoints, nothing in common between two seeds."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (side, side), dtype=np.uint8), (0, 0), 1.5)


def test_defaults_are_the_documented_ones():
    assert (DEFAULT_MIN_INLIERS, DEFAULT_MIN_INLIER_RATIO, DEFAULT_MAX_SIDE) == (15, 0.1, 2000)
    matcher = ImageMatcher("sift")
    assert (matcher.min_inliers, matcher.min_inlier_ratio, matcher.max_side) == (15, 0.1, 2000)


def test_unrelated_noise_images_give_no_homography_and_say_why():
    result = ImageMatcher("sift").match(noise_image(0), noise_image(1))
    inliers, matches = int(result.inliers.sum()), len(result.matches)
    assert matches > 300 and 4 <= inliers < 15  # the estimator's best chance model is kept as evidence
    assert result.homography is None
    assert result.message == (f"no reliable homography: {inliers} inliers of {matches} matches "
                              f"(ratio {inliers / matches:.3f}); needs at least 15 inliers and an inlier ratio of "
                              "at least 0.1")
    summary = result.summary()
    assert summary["homography"] is None and summary["reason"] == result.message
    assert summary["inliers"] == inliers and summary["inlier_ratio"] == pytest.approx(inliers / matches)


def test_a_warped_pair_passes_the_gates_and_each_gate_can_refuse_it(warped_pair):
    image1, image2, truth = warped_pair
    matcher = ImageMatcher("sift")
    features1, features2 = matcher.features(image1), matcher.features(image2)
    result = matcher.match_features(features1, features2)
    inliers, matches = int(result.inliers.sum()), len(result.matches)
    assert result.message == "" and result.summary()["reason"] is None
    assert corner_error(result.homography, truth, image1.shape) < 1.5
    assert inliers >= 300 and inliers / matches > 0.8
    strict_count = ImageMatcher("sift", min_inliers=inliers + 1).match_features(features1, features2)
    assert strict_count.homography is None and strict_count.inliers.sum() == inliers
    assert strict_count.message.startswith(f"no reliable homography: {inliers} inliers of {matches} matches")
    strict_ratio = ImageMatcher("sift", min_inlier_ratio=1.0).match_features(features1, features2)
    assert strict_ratio.homography is None and "an inlier ratio of at least 1" in strict_ratio.message
    at_limit = ImageMatcher("sift", min_inliers=inliers, min_inlier_ratio=inliers / matches)
    np.testing.assert_array_equal(at_limit.match_features(features1, features2).homography, result.homography)


@pytest.mark.parametrize("homography,reason", [
    (np.diag([1e-5, 1e-5, 1.0]), "scales the area of image 1 by 1e-10"),
    (np.diag([40.0, 40.0, 1.0]), "scales the area of image 1 by 1.6e+03"),
    (np.array([[1.0, 0, 0], [0, 1, 0], [-0.004, 0, 1]]), "sends a corner of image 1 to or beyond the horizon"),
    (np.array([[1.0, 0, 0], [0, 1, 0], [np.nan, 0, 1]]), "non-finite"),
    # scaled to [-1, 1] (u = x * 2/511 - 1) this is [[1000, 0, 999], [0, 1e-3, -0.999], [0, 0, 1]]
    (np.diag([1000.0, 1e-3, 1.0]), "near-singular (condition number "
     f"{np.linalg.cond([[1000, 0, 999], [0, 1e-3, -0.999], [0, 0, 1]]):.3g} > 100000)"),
])
def test_degenerate_homographies_are_refused(homography, reason):
    assert reason in homography_problem(homography, (512, 512), (512, 512))


def test_plausible_homographies_pass(warped_pair):
    truth = warped_pair[2]
    assert homography_problem(truth, (512, 512), (512, 512)) == ""
    assert homography_problem(np.eye(3), (512, 512), (512, 512)) == ""
    # a zoom just inside the area bound, and the same view at a lower resolution
    side = np.sqrt(MAX_AREA_CHANGE) * 0.99
    assert homography_problem(np.diag([side, side, 1.0]), (100, 100), (3200, 3200)) == ""
    assert homography_problem(np.diag([0.1, 0.1, 1.0]), (5000, 5000), (500, 500)) == ""


def test_a_degenerate_estimate_with_many_inliers_is_refused(warped_pair, monkeypatch):
    import descriptors.matching.image_matching as image_matching

    image1, image2, _ = warped_pair

    def collapsed(points1, points2, method, threshold):
        return np.diag([1e-5, 1e-5, 1.0]), np.ones(len(points1), bool)

    monkeypatch.setattr(image_matching, "estimate_homography", collapsed)
    result = ImageMatcher("sift", max_keypoints=300).match(image1, image2)
    assert result.homography is None and result.inliers.all()
    assert result.message.startswith("no reliable homography: the estimate scales the area of image 1 by 1e-10")
    assert result.message.endswith(f"({len(result.matches)} inliers of {len(result.matches)} matches)")


def test_large_images_are_downscaled_by_default_and_results_stay_in_original_pixels():
    # 2500 x 625 (four different photos): longer than the default cap of 2000 px, small enough to be quick
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    wide = np.hstack([cv2.resize(cv2.cvtColor(p, cv2.COLOR_RGB2GRAY), (625, 625), interpolation=cv2.INTER_AREA)
                      for p in photos])
    truth = np.array([[1.0, 0.0, 37.0], [0.0, 1.0, -21.0], [0.0, 0.0, 1.0]])
    moved = cv2.warpPerspective(wide, truth, wide.shape[::-1])
    result = ImageMatcher("sift", max_keypoints=800).match(wide, moved)
    rescale = result.features1.rescale
    assert result.features1.shape == (625, 2500)
    assert (rescale.scale_x, rescale.scale_y) == (2000 / 2500, 500 / 625)
    working, original = result.features1.working_keypoints, result.features1.keypoints
    assert working.xy[:, 0].max() < 2000 and original.xy[:, 0].max() > 2000
    np.testing.assert_allclose(original.xy, (working.xy + 0.5) / 0.8 - 0.5)
    np.testing.assert_allclose(original.size, working.size / 0.8)
    assert result.message == "" and corner_error(result.homography, truth, wide.shape) < 2.0
    inlier_shift = result.points2[result.inliers] - result.points1[result.inliers]
    np.testing.assert_allclose(np.median(inlier_shift, axis=0), [37.0, -21.0], atol=0.5)
    uncapped = ImageMatcher("sift", max_keypoints=10, max_side=None).features(wide)
    assert uncapped.rescale.scale == 1.0


@pytest.mark.parametrize("kwargs,message", [
    ({"min_inliers": -1}, r"`min_inliers` must be an integer >= 0. Received: min_inliers=-1"),
    ({"min_inliers": 2.5}, r"`min_inliers` must be an integer >= 0. Received: min_inliers=2.5"),
    ({"min_inlier_ratio": 1.5}, r"`min_inlier_ratio` must be a number in \[0, 1\]. Received: min_inlier_ratio=1.5"),
    ({"min_inlier_ratio": float("nan")}, r"`min_inlier_ratio` must be a number in \[0, 1\]. Received: "
                                         r"min_inlier_ratio=nan"),
])
def test_bad_gate_options(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ImageMatcher("sift", **kwargs)
