"""The registry of photographs shipped in the pinned wheels: loads offline, and duplicates are found."""

import socket

import cv2
import numpy as np
import pytest

from descriptors.data.default import PHOTOS
from descriptors.data.default_wide import NEW_PHOTOS, WIDE_PHOTOS
from descriptors.data.photo_dedup import DUPLICATE_THRESHOLD, find_duplicates, photo_signature, photo_similarity
from descriptors.data.photo_sources import DEFAULT_V1, PHOTO_SOURCES, load_source_photo
from descriptors.errors import ConfigError


@pytest.fixture(scope="module")
def photos():
    """Every registered photograph, loaded with network connections refused."""
    original = socket.socket.connect

    def refuse(*args, **kwargs):
        raise AssertionError("a photo loader tried to open a network connection")

    socket.socket.connect = refuse
    try:
        return {name: source.load() for name, source in PHOTO_SOURCES.items()}
    finally:
        socket.socket.connect = original


def test_every_photo_loads_offline_as_a_sensible_uint8_image(photos):
    assert list(photos) == list(PHOTO_SOURCES)
    for name, image in photos.items():
        assert image.dtype == np.uint8 and image.ndim in (2, 3), name
        assert image.ndim == 2 or image.shape[2] == 3, name
        assert 160 <= min(image.shape[:2]) and max(image.shape[:2]) <= 1500, (name, image.shape)
        assert image.std() > 10, name  # not flat
    assert {PHOTO_SOURCES[n].package for n in NEW_PHOTOS} == {"scikit-image", "scikit-learn", "matplotlib"}
    assert photos["china"].shape == (427, 640, 3) and photos["grace_hopper"].shape == (600, 512, 3)


def test_default_v1_entries_are_the_default_photos(photos):
    import skimage.data

    assert DEFAULT_V1 == tuple(PHOTOS.values())
    for name, stem in PHOTOS.items():
        raw = skimage.data.stereo_motorcycle()[0] if name == "motorcycle_left" else getattr(skimage.data, name)()
        np.testing.assert_array_equal(photos[stem], np.asarray(raw)[..., :3] if raw.ndim == 3 else raw)


def test_wide_photos_are_the_registry_less_its_duplicates(photos):
    assert find_duplicates(photos) == {"cat": "chelsea"}
    assert set(WIDE_PHOTOS) == set(PHOTO_SOURCES) - {"cat"} and len(WIDE_PHOTOS) == len(set(WIDE_PHOTOS)) == 21


def test_dedup_on_a_known_duplicate_and_a_known_distinct_pair(photos):
    chelsea = photos["chelsea"]
    assert photo_similarity(chelsea, photos["cat"]) == pytest.approx(1.0)
    # the same photo re-encoded smaller, brighter and in BGR order is still the same photo
    altered = cv2.resize(chelsea, (225, 150), interpolation=cv2.INTER_AREA)[..., ::-1].astype(np.float32) * 1.3
    assert photo_similarity(chelsea, np.clip(altered, 0, 255) ** 1.1 / 255 ** 0.1) > DUPLICATE_THRESHOLD
    assert photo_similarity(photos["astronaut"], photos["coffee"]) < 0.5
    assert find_duplicates({"a": photos["astronaut"], "b": photos["coffee"]}) == {}
    assert find_duplicates({"b": chelsea, "a": altered, "c": photos["coffee"]}) == {"a": "b"}


def test_photo_signature_by_hand():
    image = np.zeros((64, 64), np.uint8)
    image[:, 32:] = 255  # left half black, right half white: signature -1/32 left, +1/32 right
    signature = photo_signature(image).reshape(32, 32)
    np.testing.assert_allclose(signature[:, :16], -1 / 32)
    np.testing.assert_allclose(signature[:, 16:], 1 / 32)
    np.testing.assert_array_equal(photo_signature(np.full((10, 10, 3), 9)), np.zeros(1024))  # flat
    with pytest.raises(ConfigError, match=r"`image` must be an \(H, W\) or \(H, W, C\) array\. Received: shape=\(5,\)"):
        photo_signature(np.zeros(5))


def test_unknown_photo_name_is_refused():
    with pytest.raises(ConfigError, match=r"`name` must be one of \[.*'grace_hopper'.*\]\. Received: name='lena'"):
        load_source_photo("lena")
