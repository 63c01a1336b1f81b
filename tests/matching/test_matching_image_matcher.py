"""Image-level matching on a photo warped by a known homography: accuracy, controls, inputs, downscaling."""

import cv2
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.matching import ImageMatcher, corner_error, detect_keypoints, resolve_describer
from descriptors.matching.describers import OpenCVSiftDescriber, PatchDescriber
from descriptors.matching.sequence_evaluation import pair_row


def _shuffled(features, seed=0):
    """The same features with descriptors assigned to the wrong keypoints (a control)."""
    order = np.random.default_rng(seed).permutation(len(features.descriptors))
    return type(features)(**{**features.__dict__, "descriptors": features.descriptors[order]})


@pytest.mark.parametrize("descriptor", ["sift", "sift-patches"])
def test_recovers_the_homography_and_beats_a_shuffled_control(warped_pair, descriptor):
    image1, image2, truth = warped_pair
    matcher = ImageMatcher(descriptor)
    features1, features2 = matcher.features(image1), matcher.features(image2)
    result = matcher.match_features(features1, features2)
    assert result.message == ""
    assert corner_error(result.homography, truth, image1.shape) < 3.0
    real = pair_row(result, truth)
    control = pair_row(matcher.match_features(features1, _shuffled(features2)), truth)
    assert real["mma@3"] > 0.8 and real["correct@3"] > 300
    assert control["mma@3"] < 0.1 and real["mma@3"] > control["mma@3"] + 0.5
    assert result.inliers.sum() > 0.8 * len(result.matches)
    again = matcher.match(image1, image2)  # deterministic
    np.testing.assert_array_equal(again.matches.pairs, result.matches.pairs)
    np.testing.assert_array_equal(again.homography, result.homography)


def test_shipped_model_on_keypoints(warped_pair, tmp_path):
    from descriptors.pretrained import load_default_pipeline

    image1, image2, truth = warped_pair
    matcher = ImageMatcher("default", max_keypoints=400)
    result = matcher.match(image1, image2)
    assert isinstance(matcher.describer, PatchDescriber) and matcher.name == "default"
    assert result.features1.descriptors.shape == (400, load_default_pipeline().descriptor_dim)
    assert corner_error(result.homography, truth, image1.shape) < 3.0
    # a lone .keras descriptor file is accepted too (no denoiser)
    path = tmp_path / "descriptor.keras"
    load_default_pipeline().descriptor.save(path)
    lone = resolve_describer(path)
    assert lone.name == "descriptor.keras" and lone.patch_descriptor.denoiser is None


def test_downscaling_keeps_keypoints_and_homography_in_original_pixels(warped_pair):
    image1, image2, truth = warped_pair
    result = ImageMatcher("sift", max_side=256).match(image1, image2)
    assert result.features1.rescale.scale == 0.5
    assert corner_error(result.homography, truth, image1.shape) < 3.0
    assert pair_row(result, truth)["mma@3"] > 0.8  # matches measured in original pixels
    working = result.features1.working_keypoints
    np.testing.assert_allclose(result.features1.keypoints.xy, (working.xy + 0.5) * 2 - 0.5)
    np.testing.assert_allclose(result.features1.keypoints.size, working.size * 2)


def test_a_blob_is_found_at_the_same_original_position_after_downscaling():
    ys, xs = np.mgrid[0:300, 0:400]
    blob = (255 * np.exp(-((xs - 100.0) ** 2 + (ys - 60.0) ** 2) / (2 * 3.0 ** 2))).astype(np.uint8)
    sizes = []
    for max_side in (None, 200):
        features = ImageMatcher("sift", max_side=max_side).features(blob)
        # OpenCV's SIFT reports blob centres about +0.25 px off (in the pixels it detects in): 0.5 px at half size
        np.testing.assert_allclose(features.keypoints.xy[0], [100.0, 60.0], atol=0.6)
        sizes.append(features.keypoints.size[0])
    assert sizes[1] == pytest.approx(sizes[0], rel=0.05)  # sizes are reported in original pixels too


def test_sixteen_bit_and_colour_inputs_give_the_same_result(warped_pair):
    image1, image2, _ = warped_pair
    matcher = ImageMatcher("sift", max_keypoints=500)
    reference = matcher.match(image1, image2)
    deep = matcher.match(image1.astype(np.uint16) * 257, image2.astype(np.uint16) * 257)
    colour = matcher.match(cv2.cvtColor(image1, cv2.COLOR_GRAY2BGR), image2)
    for other in (deep, colour):
        np.testing.assert_array_equal(other.matches.pairs, reference.matches.pairs)
        np.testing.assert_array_equal(other.homography, reference.homography)


def test_too_few_keypoints_give_an_empty_result_and_a_message(warped_pair):
    image1 = warped_pair[0]
    blank = np.full((200, 300), 128, np.uint8)
    matcher = ImageMatcher("sift")
    result = matcher.match(blank, image1)
    assert len(result.features1.keypoints) == 0 and len(result.matches) == 0
    assert result.homography is None and result.inliers.shape == (0,)
    assert "Too few keypoints: image 1 has 0" in result.message
    assert result.summary()["homography"] is None and result.summary()["keypoints"][0] == 0
    ys, xs = np.mgrid[0:200, 0:300]
    two = sum(np.exp(-((xs - cx) ** 2 + (ys - 100.0) ** 2) / 50.0) for cx in (80.0, 220.0))
    result = ImageMatcher("sift-patches", max_keypoints=3).match(two, two)  # float image, 0..1
    assert len(result.features1.keypoints) == 3 and result.homography is None
    assert "Too few keypoints" in result.message


def test_bad_options():
    with pytest.raises(ConfigError, match=r"`detector` must be one of \('sift', 'orb', 'akaze'\). Received: "
                                          r"detector='surf'"):
        detect_keypoints(np.zeros((32, 32), np.uint8), "surf")
    with pytest.raises(ConfigError, match="`max_keypoints` must be None or a positive integer"):
        detect_keypoints(np.zeros((32, 32), np.uint8), max_keypoints=0)
    with pytest.raises(ConfigError, match="`descriptor` must be one of .*Received: descriptor='hog'"):
        ImageMatcher("hog")
    with pytest.raises(FileNotFoundError, match="pipeline folder .* or a .keras file.*nowhere/model"):
        ImageMatcher("nowhere/model")
    with pytest.raises(ConfigError, match="`max_side` must be None or an integer >= 16"):
        ImageMatcher("sift", max_side=4)
    orb = detect_keypoints(np.zeros((32, 32), np.uint8), "orb")
    with pytest.raises(ConfigError, match="`opencv-sift` describer needs keypoints of the `sift` detector"):
        OpenCVSiftDescriber().describe(np.zeros((32, 32), np.uint8), orb)


def test_orb_keypoints_with_patch_descriptors(warped_pair):
    image1, image2, truth = warped_pair
    result = ImageMatcher("sift-patches", detector="orb", max_keypoints=800).match(image1, image2)
    assert len(result.features1.keypoints) == 800
    assert corner_error(result.homography, truth, image1.shape) < 3.0
