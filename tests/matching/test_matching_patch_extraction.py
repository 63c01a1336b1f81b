"""Patch extraction: analytic values on a ramp, rotation equivariance, agreement with the builder's warper."""

import cv2
import numpy as np
import pytest

from descriptors.data.geometry import build_pyramid, frame_matrices, patch_maps, warp_patches
from descriptors.errors import ConfigError, ShapeError
from descriptors.matching.keypoints import Keypoints, detect_keypoints
from descriptors.matching.patch_extraction import extract_patches

P = 32


def _expected_points(frame, extent=5.0):
    """Image point of each patch pixel, written out from the HPatches convention (oracle for the maps)."""
    x0, y0, sigma, angle = frame
    n = (np.arange(P) - (P - 1) / 2) / (P / 2)
    nu, nv = np.meshgrid(n, n)  # nu: along the columns (patch x), nv: along the rows
    r = extent * sigma
    xs = x0 + r * (np.cos(angle) * nu - np.sin(angle) * nv)
    ys = y0 + r * (np.sin(angle) * nu + np.cos(angle) * nv)
    return xs, ys


def test_patches_of_a_linear_ramp_match_the_analytic_values():
    ys, xs = np.mgrid[0:240, 0:320].astype(np.float64)
    ramp = lambda x, y: 0.5 * x + 0.25 * y + 10.0  # noqa: E731
    image = np.rint(ramp(xs, ys)).astype(np.uint8)
    # sigma 2 -> 0.31 image px per patch px (level 0); sigma 8 -> 1.25 (level 0); sigma 14 -> 2.19 (level 1)
    frames = np.array([[160.0, 120.0, 2.0, 0.0], [150.5, 110.25, 8.0, 0.7], [160.0, 120.0, 14.0, -2.0]])
    patches = extract_patches(image, frames)
    assert patches.shape == (3, P, P) and patches.dtype == np.uint8
    for patch, frame in zip(patches, frames):
        expected = ramp(*_expected_points(frame))
        assert np.abs(patch - expected).max() <= 1.0, frame  # rounding of the image and of the output


def test_patch_x_axis_follows_the_keypoint_angle():
    image = np.zeros((101, 101), np.uint8)
    image[:, 51:] = 200  # bright to the right: gradient direction +x
    left_dark = extract_patches(image, np.array([[50.0, 50.0, 2.0, 0.0]]))[0]
    assert left_dark[:, :12].max() == 0 and left_dark[:, -12:].min() == 200
    # angle +90 degrees (image coordinates, y down): patch x axis points down the image, the edge is horizontal
    turned = extract_patches(image, np.array([[50.0, 50.0, 2.0, np.pi / 2]]))[0]
    assert turned[:12, :].min() == 200 and turned[-12:, :].max() == 0


def test_rot90_image_gives_the_same_patches(astronaut_gray):
    image = astronaut_gray
    width = image.shape[1]
    rotated = np.ascontiguousarray(np.rot90(image))  # original (x, y) -> (y, W - 1 - x), directions turn -90 deg
    frames = np.array([[200.0, 150.0, 2.5, 0.3], [300.5, 280.0, 5.0, 2.0], [120.0, 400.0, 6.0, -1.0]])
    turned = np.column_stack([frames[:, 1], width - 1 - frames[:, 0], frames[:, 2], frames[:, 3] - np.pi / 2])
    a, b = extract_patches(image, frames), extract_patches(rotated, turned)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_arbitrary_rotation_with_pyramid_levels(astronaut_gray):
    centre = (255.5, 255.5)
    rotation = cv2.getRotationMatrix2D(centre, 30.0, 1.0)  # 2x3, counter-clockwise on screen
    rotated = cv2.warpAffine(astronaut_gray, rotation, (512, 512), flags=cv2.INTER_CUBIC)
    frames = np.array([[230.0, 260.0, 2.0, 0.4], [260.0, 240.0, 4.0, 1.0], [250.0, 250.0, 9.0, 2.5]])
    points = np.column_stack([frames[:, :2], np.ones(3)]) @ rotation.T
    turned = np.column_stack([points, frames[:, 2], frames[:, 3] - np.deg2rad(30.0)])
    a = extract_patches(astronaut_gray, frames).astype(float)
    b = extract_patches(rotated, turned).astype(float)
    wrong = extract_patches(rotated, turned + [0, 0, 0, np.pi / 2]).astype(float)
    for i in range(3):
        error, control = np.abs(a[i] - b[i]).mean(), np.abs(a[i] - wrong[i]).mean()
        assert error < 4.0 and error < control / 10, (i, error, control)


def test_same_patches_as_the_dataset_builder_warper(astronaut_gray):
    keypoints = detect_keypoints(astronaut_gray, max_keypoints=300)
    frames = keypoints.frames()
    pyramid = build_pyramid(astronaut_gray)
    ours = extract_patches(astronaut_gray, frames, pyramid=pyramid)
    builder = warp_patches(pyramid, patch_maps(frame_matrices(frames, 5.0), P), P)
    assert np.abs(ours.astype(int) - builder.astype(int)).max() <= 1
    assert np.mean(ours != builder) < 0.01


def test_keypoint_frames_follow_the_detect_module_convention():
    keypoints = Keypoints.from_cv([cv2.KeyPoint(10.0, 20.0, 6.0, 90.0, 0.5, 3), cv2.KeyPoint(1.0, 2.0, 4.0, -1.0)])
    np.testing.assert_allclose(keypoints.frames(), [[10.0, 20.0, 3.0, np.pi / 2], [1.0, 2.0, 2.0, 0.0]])
    orb = Keypoints.from_cv([cv2.KeyPoint(10.0, 20.0, 31.0, 45.0)], detector="orb")
    np.testing.assert_allclose(orb.frames(), [[10.0, 20.0, 3.1, np.pi / 4]])
    assert [k.octave for k in keypoints.to_cv()] == [3, 0]
    assert extract_patches(np.zeros((8, 8), np.uint8), np.zeros((0, 4))).shape == (0, P, P)


def test_extraction_errors():
    image = np.zeros((40, 40), np.uint8)
    with pytest.raises(ShapeError, match=r"`frames` must have shape \(K, 4\).*\(2, 3\)"):
        extract_patches(image, np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"`gray` must be an \(H, W\) image"):
        extract_patches(np.zeros((4, 4, 3), np.uint8), np.zeros((1, 4)))
    with pytest.raises(ConfigError, match="`size` must be a positive integer. Received: size=0"):
        extract_patches(image, np.zeros((1, 4)), size=0)
    with pytest.raises(ConfigError, match="`extent` must be positive"):
        extract_patches(image, np.zeros((1, 4)), extent=0.0)
