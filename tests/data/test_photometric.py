"""The photometric transforms of the wide default dataset's ``i_`` sequences, checked by hand."""

import numpy as np
import pytest

from descriptors.data.photometric import (
    apply_shading,
    colour_temperature,
    exposure,
    gamma,
    growing_strengths,
    illumination_sequence_wide,
    realistic_change,
    shading_field,
    temperature_gains,
)
from descriptors.errors import ConfigError


def test_gamma_keeps_the_ends_and_bends_the_middle():
    out = gamma(np.array([0, 64, 255], np.uint8), 2.2)
    np.testing.assert_allclose(out, [0.0, 255 * (64 / 255) ** 2.2, 255.0], rtol=1e-5, atol=1e-4)
    assert out[1] == pytest.approx(12.18, abs=0.01)  # 255 * exp(2.2 * ln(0.25098)) = 255 * 0.04777
    assert gamma(np.array([64.0]), 0.5)[0] == pytest.approx(255 * (64 / 255) ** 0.5, rel=1e-5)  # brighter
    np.testing.assert_array_equal(gamma(np.arange(256), 1.0), np.arange(256, dtype=np.float32))
    with pytest.raises(ConfigError, match=r"`g` must be > 0\. Received: g=0"):
        gamma(np.zeros(3), 0)


def test_exposure_is_a_gain_clipped_like_a_sensor():
    np.testing.assert_allclose(exposure(np.array([0, 100, 200], np.uint8), 1.5), [0, 150, 255])
    np.testing.assert_allclose(exposure(np.array([100.0, 255.0]), 0.5), [50, 127.5])
    with pytest.raises(ConfigError, match=r"`gain` must be > 0\. Received: gain=-1"):
        exposure(np.zeros(3), -1)


def test_colour_temperature_scales_each_channel_by_its_gain():
    np.testing.assert_allclose(temperature_gains(0.3), [np.exp(0.3), 1.0, np.exp(-0.3)], rtol=1e-6)
    np.testing.assert_array_equal(temperature_gains(0.0), [1, 1, 1])
    bgr = np.zeros((2, 3, 3), np.uint8) + np.array([10, 20, 30], np.uint8)  # B=10, G=20, R=30
    out = colour_temperature(bgr, (2.0, 1.0, 0.5))  # R x2, G x1, B x0.5
    assert out.shape == (2, 3, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[1, 2], [5, 20, 60])
    np.testing.assert_allclose(colour_temperature(bgr, (2.0, 1.0, 0.5), order="rgb")[0, 0], [20, 20, 15])
    grey = np.full((4, 4), 77, np.uint8)
    np.testing.assert_array_equal(colour_temperature(grey, (2.0, 1.0, 0.5)), grey)  # no colour to change
    with pytest.raises(ConfigError, match=r"`gains_rgb` must be three gains > 0\. Received: gains_rgb=\(1, 0, 1\)"):
        colour_temperature(bgr, (1, 0, 1))
    with pytest.raises(ConfigError, match=r"`order` must be 'bgr' or 'rgb'\. Received: order='hsv'"):
        colour_temperature(bgr, (1, 1, 1), order="hsv")


def test_shading_field_is_smooth_bounded_with_mean_one_and_seeded():
    field = shading_field((120, 160, 3), 0.3, np.random.default_rng(0))
    assert field.shape == (120, 160) and field.dtype == np.float32
    assert field.min() >= 0.7 - 1e-5 and field.max() <= 1.3 + 1e-5
    assert np.abs(field - 1).max() == pytest.approx(0.3, abs=1e-5)  # the amplitude is reached
    assert field.mean() == pytest.approx(1.0, abs=1e-4)
    # smooth: neighbouring pixels differ by a small fraction of the range (white noise would differ by ~0.3)
    steps = max(np.abs(np.diff(field, axis=0)).max(), np.abs(np.diff(field, axis=1)).max())
    assert steps < 0.03
    np.testing.assert_array_equal(field, shading_field((120, 160), 0.3, np.random.default_rng(0)))
    assert not np.array_equal(field, shading_field((120, 160), 0.3, np.random.default_rng(1)))
    np.testing.assert_array_equal(shading_field((5, 7), 0.0, np.random.default_rng(0)), np.ones((5, 7)))
    with pytest.raises(ConfigError, match=r"`amplitude` must be in \[0, 1\)\. Received: amplitude=1\.0"):
        shading_field((5, 7), 1.0, np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"`cells` must be an integer >= 1\. Received: cells=0"):
        shading_field((5, 7), 0.2, np.random.default_rng(0), cells=0)


def test_apply_shading_multiplies_every_channel():
    field = np.array([[0.5, 1.0], [1.5, 2.0]], np.float32)
    out = apply_shading(np.full((2, 2, 3), 100, np.uint8), field)
    np.testing.assert_allclose(out[..., 0], [[50, 100], [150, 200]])
    np.testing.assert_array_equal(out[..., 0], out[..., 2])
    np.testing.assert_allclose(apply_shading(np.full((2, 2), 10.0), field), [[5, 10], [15, 20]])
    with pytest.raises(ConfigError, match=r"`field` must have the image's shape \(3, 2\)\. Received: \(2, 2\)"):
        apply_shading(np.zeros((3, 2)), field)


def test_realistic_change_strength_zero_is_identity_and_strength_one_changes():
    image = np.random.default_rng(5).integers(0, 256, (40, 60, 3)).astype(np.uint8)
    np.testing.assert_array_equal(realistic_change(image, 0.0, np.random.default_rng(3)), image)
    strong = realistic_change(image, 1.0, np.random.default_rng(3))
    assert strong.dtype == np.uint8 and strong.shape == image.shape
    np.testing.assert_array_equal(strong, realistic_change(image, 1.0, np.random.default_rng(3)))
    assert np.abs(strong.astype(int) - image).mean() > 5
    grey = image[..., 1]
    assert realistic_change(grey, 0.5, np.random.default_rng(3)).shape == grey.shape
    with pytest.raises(ConfigError, match=r"`strength` must be in \[0, 1\]\. Received: strength=1\.5"):
        realistic_change(image, 1.5, np.random.default_rng(0))


def test_strengths_grow_along_the_sequence():
    for seed in range(5):
        s = growing_strengths(np.random.default_rng(seed))
        k = np.arange(5)
        assert np.all(np.diff(s) > 0) and np.all(s >= (k + 0.3) / 5) and np.all(s <= (k + 1) / 5)


def test_illumination_sequence_wide_changes_more_along_the_sequence():
    photo = np.random.default_rng(1).integers(30, 220, (64, 80, 3)).astype(np.uint8)
    sequence = illumination_sequence_wide("i_x", photo, np.random.default_rng(0))
    assert sequence.name == "i_x" and len(sequence.images) == 6
    assert sequence.images[0] is photo
    assert all(np.array_equal(h, np.eye(3)) for h in sequence.homographies)
    changes = [np.abs(image.astype(int) - photo).mean() for image in sequence.images[1:]]
    assert changes[-1] > changes[0]
