"""Matching rules against a brute-force oracle; homography estimation, corner error and coordinate changes."""

import numpy as np
import pytest

from descriptors.errors import ConfigError, ShapeError
from descriptors.matching.homography import (change_coordinates, corner_error, estimate_homography, image_corners,
                                             project, reprojection_errors)
from descriptors.matching.matchers import match_descriptors, pairwise_distances


def _oracle(desc1, desc2, mutual, ratio):
    pairs = []
    for i, a in enumerate(desc1):
        d = [float(np.linalg.norm(a - b)) for b in desc2]
        j = int(np.argmin(d))
        back = int(np.argmin([np.linalg.norm(c - desc2[j]) for c in desc1]))
        second = sorted(d)[1] if len(d) > 1 else np.inf
        if (not mutual or back == i) and (ratio is None or d[j] < ratio * second):
            pairs.append((i, j))
    return pairs


@pytest.mark.parametrize("mutual,ratio", [(True, None), (False, None), (False, 0.8), (True, 0.8)])
def test_matching_equals_the_brute_force_oracle(mutual, ratio):
    rng = np.random.default_rng(3)
    desc2 = rng.standard_normal((40, 8))
    desc1 = np.concatenate([desc2[:25] + 0.3 * rng.standard_normal((25, 8)), rng.standard_normal((15, 8))])
    matches = match_descriptors(desc1, desc2, mutual=mutual, ratio=ratio)
    assert [tuple(p) for p in matches.pairs] == _oracle(desc1, desc2, mutual, ratio)
    np.testing.assert_allclose(matches.distances, np.linalg.norm(desc1[matches.pairs[:, 0]] - desc2[matches.pairs[:, 1]],
                                                                 axis=1), rtol=1e-5)


def test_hand_made_matching_cases():
    desc1 = np.array([[0.0, 0.0], [10.0, 0.0], [0.3, 0.0]])
    desc2 = np.array([[0.1, 0.0], [10.0, 1.0], [10.0, -1.2]])
    # rows 0 and 2 both pick column 0, which picks row 0 back (0.1 < 0.2): row 2 is not mutual
    assert match_descriptors(desc1, desc2).pairs.tolist() == [[0, 0], [1, 1]]
    assert match_descriptors(desc1, desc2, mutual=False).pairs.tolist() == [[0, 0], [1, 1], [2, 0]]
    # ratio 0.9: row 1 has 1.0 vs 1.2 -> 0.83 < 0.9 kept; with 0.8 dropped
    assert match_descriptors(desc1, desc2, ratio=0.9).pairs.tolist() == [[0, 0], [1, 1]]
    assert match_descriptors(desc1, desc2, ratio=0.8).pairs.tolist() == [[0, 0]]
    assert len(match_descriptors(np.zeros((0, 2)), desc2)) == 0
    assert match_descriptors(desc1[:1], desc2[:1], ratio=0.5).pairs.tolist() == [[0, 0]]
    np.testing.assert_allclose(pairwise_distances([[0.0, 0.0]], [[3.0, 4.0]]), [[5.0]])
    with pytest.raises(ShapeError, match="same D"):
        match_descriptors(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ConfigError, match=r"`ratio` must be None or a number in \(0, 1\]. Received: ratio=1.5"):
        match_descriptors(desc1, desc2, ratio=1.5)


def test_corner_error_and_projection_by_hand():
    shape = (101, 201)
    np.testing.assert_array_equal(image_corners(shape), [[0, 0], [200, 0], [0, 100], [200, 100]])
    shifted = np.array([[1.0, 0, 3.0], [0, 1.0, 4.0], [0, 0, 1.0]])
    assert corner_error(shifted, np.eye(3), shape) == pytest.approx(5.0)
    assert corner_error(None, np.eye(3), shape) == float("inf")
    scale = np.diag([2.0, 2.0, 2.0])  # the same map as the identity
    assert corner_error(scale, np.eye(3), shape) == pytest.approx(0.0)
    np.testing.assert_allclose(project(shifted, [[1.0, 1.0]]), [[4.0, 5.0]])
    np.testing.assert_allclose(reprojection_errors(shifted, [[1.0, 1.0]], [[4.0, 1.0]]), [4.0])


def test_change_coordinates_moves_a_homography_between_resolutions():
    h = np.array([[1.1, 0.05, 10.0], [-0.02, 0.9, 5.0], [1e-4, 2e-4, 1.0]])
    to_small1 = np.array([[0.5, 0, -0.25], [0, 0.5, -0.25], [0, 0, 1.0]])
    to_small2 = np.array([[0.25, 0, -0.375], [0, 0.25, -0.375], [0, 0, 1.0]])
    small = change_coordinates(h, np.linalg.inv(to_small1), np.linalg.inv(to_small2))  # H in working pixels
    points = np.array([[10.0, 20.0], [300.0, 100.0]])
    working1 = project(to_small1, points)
    np.testing.assert_allclose(project(small, working1), project(to_small2, project(h, points)), atol=1e-9)
    np.testing.assert_allclose(change_coordinates(small, to_small1, to_small2), h / h[2, 2], atol=1e-12)
    assert change_coordinates(None, to_small1, to_small2) is None


@pytest.mark.parametrize("method", ["magsac", "ransac"])
def test_estimate_homography_with_outliers(method):
    rng = np.random.default_rng(0)
    h = np.array([[0.9, 0.1, 20.0], [-0.1, 1.05, -10.0], [2e-4, -1e-4, 1.0]])
    points1 = rng.uniform(0, 500, (200, 2))
    points2 = project(h, points1) + rng.normal(0, 0.3, (200, 2))
    outliers = rng.permutation(200)[:60]
    points2[outliers] = rng.uniform(0, 500, (60, 2))
    estimate, inliers = estimate_homography(points1, points2, method)
    assert corner_error(estimate, h, (500, 500)) < 1.0
    truth = np.ones(200, bool)
    truth[outliers] = False
    assert np.mean(inliers == truth) > 0.97
    again, _ = estimate_homography(points1, points2, method)
    np.testing.assert_array_equal(again, estimate)  # deterministic


def test_estimate_homography_edge_cases():
    estimate, inliers = estimate_homography(np.zeros((3, 2)), np.zeros((3, 2)))
    assert estimate is None and inliers.tolist() == [False] * 3
    with pytest.raises(ConfigError, match=r"`method` must be one of \('magsac', 'ransac'\). Received: method='lmeds'"):
        estimate_homography(np.zeros((5, 2)), np.zeros((5, 2)), "lmeds")
    with pytest.raises(ConfigError, match="`threshold` must be a positive number"):
        estimate_homography(np.zeros((5, 2)), np.zeros((5, 2)), threshold=0)
    with pytest.raises(ShapeError, match=r"must both have shape \(M, 2\)"):
        estimate_homography(np.zeros((5, 2)), np.zeros((4, 2)))
