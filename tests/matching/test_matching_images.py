"""Image input: 16-bit / colour / float conversion, unreadable files, downscaling coordinates."""

import cv2
import numpy as np
import pytest

from descriptors.errors import ConfigError, DataFormatError, ShapeError
from descriptors.matching.images import Rescale, downscale, read_image, to_gray_uint8


def test_uint16_is_scaled_to_the_full_8_bit_range_not_clipped():
    image = np.array([[0, 257, 1000, 32896, 65535]], np.uint16)
    # 1000 * 255 / 65535 = 3.89 -> 4 (a clip or a cast would give 255 or 232)
    np.testing.assert_array_equal(to_gray_uint8(image), [[0, 1, 4, 128, 255]])


def test_colour_float_bool_and_alpha_conversions():
    bgr = np.zeros((2, 2, 3), np.uint8)
    bgr[0, 0] = (255, 0, 0)  # pure blue: luma 0.114 * 255 = 29.07
    bgr[0, 1] = (0, 0, 255)  # pure red: 0.299 * 255 = 76.2
    np.testing.assert_array_equal(to_gray_uint8(bgr)[0], [29, 76])
    bgra = np.concatenate([bgr, np.full((2, 2, 1), 7, np.uint8)], axis=2)
    np.testing.assert_array_equal(to_gray_uint8(bgra), to_gray_uint8(bgr))
    bgr16 = bgr.astype(np.uint16) * 257
    np.testing.assert_array_equal(to_gray_uint8(bgr16), to_gray_uint8(bgr))
    np.testing.assert_array_equal(to_gray_uint8(np.array([[0.0, 0.5, 1.0, 2.0]])), [[0, 128, 255, 255]])
    np.testing.assert_array_equal(to_gray_uint8(np.array([[True, False]])), [[255, 0]])
    np.testing.assert_array_equal(to_gray_uint8(np.full((3, 4, 1), 9, np.uint8)), np.full((3, 4), 9))


def test_conversion_errors():
    with pytest.raises(TypeError, match=r"`image` must be uint8, uint16, bool or float.*int32"):
        to_gray_uint8(np.zeros((4, 4), np.int32))
    with pytest.raises(ShapeError, match=r"`image` must have shape .*Received: image.shape=\(4, 4, 2\)"):
        to_gray_uint8(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ShapeError, match="must not be empty"):
        to_gray_uint8(np.zeros((0, 4), np.uint8))


def test_16_bit_png_round_trip(tmp_path, astronaut_gray):
    path = tmp_path / "deep.png"
    assert cv2.imwrite(str(path), astronaut_gray.astype(np.uint16) * 257)
    image = read_image(path)
    assert image.dtype == np.uint16
    np.testing.assert_array_equal(to_gray_uint8(image), astronaut_gray)


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image")
    with pytest.raises(DataFormatError, match=r"junk.png' must be an image OpenCV can decode"):
        read_image(junk)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(DataFormatError, match="0 bytes"):
        read_image(empty)
    with pytest.raises(FileNotFoundError, match="Image file not found: .*missing.png"):
        read_image(tmp_path / "missing.png")


def test_downscale_sizes_and_pixel_centre_mapping():
    image = np.zeros((300, 400), np.uint8)
    small, rescale = downscale(image, 200)
    assert small.shape == (150, 200) and rescale == Rescale(0.5, 0.5)
    # pixel edges stay on pixel edges: original pixel 0..1 (centres 0 and 1) average into working pixel 0
    np.testing.assert_allclose(rescale.to_working([[0.5, 0.5], [-0.5, -0.5]]), [[0.0, 0.0], [-0.5, -0.5]])
    np.testing.assert_allclose(rescale.to_original(rescale.to_working([[10.0, 20.0]])), [[10.0, 20.0]])
    homogeneous = rescale.matrix @ np.array([10.0, 20.0, 1.0])
    np.testing.assert_allclose(homogeneous[:2], rescale.to_working([[10.0, 20.0]])[0])
    same, identity = downscale(image, 400)
    assert same is image and identity == Rescale()
    with pytest.raises(ConfigError, match=r"`max_side` must be None or an integer >= 16. Received: max_side=8"):
        downscale(image, 8)
