"""Jitter, noise, geometry and task-generator pieces against hand-computed or brute-force values."""

import numpy as np
import pandas as pd
import pytest

from descriptors.data.geometry import circle_iou, frame_matrices, normaliser, points_inside
from descriptors.data.jitter import DEFAULT_JITTER, JitterLevel, ellipse_overlap, sample_jitter
from descriptors.data.noise import DEFAULT_NOISE, NoiseLevel, add_noise
from descriptors.data.task_writer import retrieval_lists, verification_pairs
from descriptors.errors import ConfigError
from hpatches_eval.splits import Split


def test_circle_iou_matches_hand_values_and_monte_carlo():
    assert circle_iou(np.zeros(2), 1.0, np.zeros((1, 2)), np.array([1.0]))[0] == pytest.approx(1.0)
    assert circle_iou(np.zeros(2), 1.0, np.zeros((1, 2)), np.array([2.0]))[0] == pytest.approx(0.25)
    assert circle_iou(np.zeros(2), 1.0, np.array([[3.0, 0]]), np.array([1.0]))[0] == 0.0
    # two unit discs one radius apart: lens area 2*pi/3 - sqrt(3)/2
    lens = 2 * np.pi / 3 - np.sqrt(3) / 2
    assert circle_iou(np.zeros(2), 1.0, np.array([[1.0, 0]]), np.array([1.0]))[0] == pytest.approx(
        lens / (2 * np.pi - lens))
    pts = np.random.default_rng(0).uniform(-3, 3, (400_000, 2))
    a = np.hypot(*pts.T) < 1.0
    b = np.hypot(*(pts - [0.8, 0.3]).T) < 1.5
    assert circle_iou(np.zeros(2), 1.0, np.array([[0.8, 0.3]]), np.array([1.5]))[0] == pytest.approx(
        (a & b).sum() / (a | b).sum(), abs=0.01)


def test_ellipse_overlap_matches_monte_carlo():
    jitters = sample_jitter(DEFAULT_JITTER["t"], 5, np.random.default_rng(1))
    pts = np.random.default_rng(2).uniform(-3, 3, (300_000, 2))
    for j, value in zip(jitters, ellipse_overlap(jitters)):
        inside_disc = np.hypot(*pts.T) < 1
        back = (pts - j[:2, 2]) @ np.linalg.inv(j[:2, :2]).T  # a point is in J(disc) if J^-1 maps it into the disc
        inside_ellipse = np.hypot(*back.T) < 1
        assert value == pytest.approx((inside_disc & inside_ellipse).sum() / (inside_disc | inside_ellipse).sum(),
                                      abs=0.01)
    assert ellipse_overlap(np.eye(3)[None])[0] == pytest.approx(1.0)


def test_default_jitter_medians_hit_the_targets():
    rng = np.random.default_rng(0)
    medians = {k: np.median(ellipse_overlap(sample_jitter(v, 4000, rng))) for k, v in DEFAULT_JITTER.items()}
    assert medians["e"] == pytest.approx(0.85, abs=0.015)
    assert medians["h"] == pytest.approx(0.72, abs=0.015)
    assert medians["t"] == pytest.approx(0.60, abs=0.015)
    j = sample_jitter(JitterLevel(rotation=10, log_scale=0, log_anisotropy=0, translation=0), 100, rng)
    angles = np.degrees(np.arctan2(j[:, 1, 0], j[:, 0, 0]))
    assert np.abs(angles).max() <= 10 and np.allclose(np.linalg.det(j[:, :2, :2]), 1)


def test_frame_geometry():
    f = frame_matrices(np.array([[100.0, 50.0, 2.0, np.pi / 2]]), extent=5.0)
    np.testing.assert_allclose(f[0] @ [1, 0, 1], [100, 60, 1], atol=1e-12)  # x axis -> image "down" at pi/2
    n = normaliser(65)
    np.testing.assert_allclose(n @ [32, 32, 1], [0, 0, 1])
    np.testing.assert_allclose(n @ [-0.5, 64.5, 1], [-1, 1, 1])
    maps = f @ n
    assert points_inside(maps, (200, 200), 65).tolist() == [True]
    assert points_inside(maps, (200, 109), 65).tolist() == [False]  # x + 10 > 108


def test_noise_strength_increases_and_is_seeded():
    patches = np.random.default_rng(0).integers(40, 216, (200, 32, 32), dtype=np.uint8)
    mae = {k: np.abs(add_noise(patches, v, np.random.default_rng(1)).astype(int) - patches).mean()
           for k, v in DEFAULT_NOISE.items()}
    assert 2 < mae["ref"] < mae["e"] < mae["h"] < mae["t"] < 15
    assert 4.5 < mae["e"] and mae["t"] < 12
    a = add_noise(patches, DEFAULT_NOISE["h"], np.random.default_rng(5))
    np.testing.assert_array_equal(a, add_noise(patches, DEFAULT_NOISE["h"], np.random.default_rng(5)))
    pure = add_noise(patches, NoiseLevel(gaussian=10.0, block=0.0, impulse=0.0), np.random.default_rng(2))
    assert np.std(pure.astype(float) - patches) == pytest.approx(10.0, rel=0.03)


def test_verification_pairs_rules():
    split = Split("s", test=("a", "b"), train=("c",))
    pairs = verification_pairs(split, {"a": 2, "b": 7, "c": 100}, 5000, np.random.default_rng(0))
    pos, intra, inter = pairs["pos"], pairs["neg_intra"], pairs["neg_inter"]
    assert list(pos.columns) == ["s1", "t1", "idx1", "s2", "t2", "idx2"]
    assert set(pos.s1) == {"a", "b"} and set(inter.s2) == {"a", "b"}
    assert (pos.t1 != pos.t2).all() and set(pos.t1) | set(pos.t2) == {0, 1, 2, 3, 4}  # image 5 never appears
    a = intra[intra.s1 == "a"]
    assert ((a.idx1 == 0) & (a.idx2 == 1) | (a.idx1 == 1) & (a.idx2 == 0)).all()
    assert 0.4 < (inter.s1 == inter.s2).mean() < 0.6  # inter negatives are not forced to another sequence
    with pytest.raises(ConfigError, match=r"at least 2 patches. Received: \['a'\]"):
        verification_pairs(split, {"a": 1, "b": 7}, 10, np.random.default_rng(0))


def test_retrieval_lists_rules():
    split = Split("s", test=("a", "b"))
    std = {"a": np.array([0, 20, 30, 5, 11.0]), "b": np.array([50, 50, 1.0])}
    q, d = retrieval_lists(split, {"a": 5, "b": 3}, lambda s, i: std[s][i], 3, 10, np.random.default_rng(0))
    good = {("a", 1), ("a", 2), ("a", 4), ("b", 0), ("b", 1)}
    assert len(q) == 3 and set(map(tuple, q.values)) <= good
    assert set(map(tuple, d.values)) == good - set(map(tuple, q.values))
    assert isinstance(q, pd.DataFrame) and list(d.columns) == ["s", "idx"]
