"""Shared fixtures of the data tests: small synthetic sequences from a scikit-image photograph, and a tiny dataset
built from the sequences of `tiny_sequences` (usable ones interleaved with unusable ones)."""

import warnings

import cv2
import numpy as np
import pytest

from descriptors.data.builder import build_dataset
from descriptors.data.default import load_photo
from descriptors.data.synthetic import illumination_sequence, viewpoint_sequence
from tiny_sequences import bad_sequences, good_sequences


@pytest.fixture(scope="session")
def small_photo():
    return cv2.resize(load_photo("camera"), (320, 320), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def small_sequences(small_photo):
    return [viewpoint_sequence("v_cam", small_photo, np.random.default_rng(0)),
            illumination_sequence("i_cam", small_photo, np.random.default_rng(1)),
            viewpoint_sequence("v_cam2", small_photo, np.random.default_rng(2))]


@pytest.fixture(scope="session")
def tiny_built(tmp_path_factory):
    """A dataset built from the three good tiny sequences interleaved with every kind of unusable one.

    Returns:
        ``(dataset folder, caught warnings)``.
    """
    bad = bad_sequences()
    good = good_sequences()
    sequences = [good[0], *[s for s, _ in list(bad.values())[:4]], good[1], *[s for s, _ in list(bad.values())[4:]],
                 good[2]]
    out = tmp_path_factory.mktemp("tiny") / "ds"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_dataset(sequences, out, seed=1, max_tracks_per_sequence=20, progress=False, split_name="tiny")
    return out, caught
