"""Shared fixtures of the data tests: small synthetic sequences from a scikit-image photograph."""

import cv2
import numpy as np
import pytest

from descriptors.data.default import load_photo
from descriptors.data.synthetic import illumination_sequence, viewpoint_sequence


@pytest.fixture(scope="session")
def small_photo():
    return cv2.resize(load_photo("camera"), (320, 320), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def small_sequences(small_photo):
    return [viewpoint_sequence("v_cam", small_photo, np.random.default_rng(0)),
            illumination_sequence("i_cam", small_photo, np.random.default_rng(1)),
            viewpoint_sequence("v_cam2", small_photo, np.random.default_rng(2))]
