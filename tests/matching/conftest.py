"""Images the matching tests make: a scikit-image photo warped by a known homography (nothing read from disk)."""

import cv2
import numpy as np
import pytest
import skimage.data

TRUE_H = np.array([[0.92, 0.12, 24.0], [-0.10, 0.95, 38.0], [1.2e-4, -6e-5, 1.0]])


@pytest.fixture(scope="session")
def astronaut_gray():
    return cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2GRAY)


@pytest.fixture(scope="session")
def warped_pair(astronaut_gray):
    """``(image1, image2, H)`` with ``image2 = warpPerspective(image1, H)`` (same 512x512 size)."""
    height, width = astronaut_gray.shape
    return astronaut_gray, cv2.warpPerspective(astronaut_gray, TRUE_H, (width, height)), TRUE_H
