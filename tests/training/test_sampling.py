"""Samplers: the coursework's random triplets, HardNet pair batches, tuple augmentation."""

import numpy as np
import pytest

from descriptors.data.sampling import add_negatives, augment_tuples, gather_tuples, pair_batches, random_triplets


def test_random_triplets_follow_the_coursework_rules():
    rng = np.random.default_rng(0)
    triplets = random_triplets(num_tracks=100, num_triplets=320, rng=rng)
    assert triplets.shape == (320, 3, 2)
    anchors, positives, negatives = triplets[:, 0], triplets[:, 1], triplets[:, 2]
    assert np.array_equal(anchors[:, 0], positives[:, 0])  # same track
    assert np.all(anchors[:, 1] != positives[:, 1])  # two distinct views
    assert np.all(negatives[:, 0] != anchors[:, 0])  # negative from another track
    for block in anchors[:, 0].reshape(10, 32):  # anchors unique within each block of 32
        assert len(set(block.tolist())) == 32
    assert triplets[..., 1].min() >= 0 and triplets[..., 1].max() <= 15
    # Uniform views: every one of the 16 views appears.
    assert set(np.unique(triplets[..., 1])) == set(range(16))


def test_random_triplets_are_deterministic_given_the_generator():
    a = random_triplets(50, 100, np.random.default_rng(3))
    b = random_triplets(50, 100, np.random.default_rng(3))
    c = random_triplets(50, 100, np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_pair_batches_hold_one_pair_per_track_per_batch():
    pairs = pair_batches(num_tracks=70, num_pairs=200, batch_size=32, rng=np.random.default_rng(1))
    assert pairs.shape == (192, 2, 2)  # 6 whole batches of 32
    assert np.array_equal(pairs[:, 0, 0], pairs[:, 1, 0])
    assert np.all(pairs[:, 0, 1] != pairs[:, 1, 1])
    for batch in pairs[:, 0, 0].reshape(6, 32):
        assert len(set(batch.tolist())) == 32


def test_pair_batches_shrink_the_batch_to_the_number_of_tracks():
    pairs = pair_batches(num_tracks=5, num_pairs=20, batch_size=32, rng=np.random.default_rng(1))
    assert pairs.shape == (20, 2, 2)
    for batch in pairs[:, 0, 0].reshape(4, 5):
        assert sorted(batch.tolist()) == [0, 1, 2, 3, 4]


def test_samplers_reject_impossible_requests():
    with pytest.raises(ValueError, match="`num_tracks` must be at least 2 to draw negatives. Received: num_tracks=1"):
        random_triplets(1, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="must both be at least 2"):
        pair_batches(10, 10, 1, np.random.default_rng(0))


def test_add_negatives_and_gather():
    rng = np.random.default_rng(2)
    pairs = pair_batches(8, 8, 8, rng)
    triplets = add_negatives(pairs, 8, rng)
    assert triplets.shape == (8, 3, 2) and np.all(triplets[:, 2, 0] != triplets[:, 0, 0])
    patches = np.arange(8 * 16 * 2 * 2, dtype=np.int64).reshape(8, 16, 2, 2).astype(np.uint8)
    pixels = gather_tuples(patches, triplets)
    assert pixels.shape == (8, 3, 2, 2)
    t, v = triplets[5, 2]
    assert np.array_equal(pixels[5, 2], patches[t, v])


def test_augmentation_applies_one_transform_per_tuple():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(64, 1, 8, 8)).astype(np.uint8)
    tuples = np.repeat(base, 3, axis=1)  # three identical members
    out = augment_tuples(tuples, np.random.default_rng(5))
    assert np.array_equal(out[:, 0], out[:, 1]) and np.array_equal(out[:, 0], out[:, 2])
    # Each output is one of the 8 dihedral transforms of its input, and several different ones occur.
    used = set()
    for i in range(64):
        for k in range(8):
            candidate = np.rot90(base[i, 0], k % 4)
            candidate = candidate[:, ::-1] if k >= 4 else candidate
            if np.array_equal(candidate, out[i, 0]):
                used.add(k)
                break
        else:
            raise AssertionError(f"tuple {i} is not a flip/rotation of its input")
    assert len(used) >= 6
