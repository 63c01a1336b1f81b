"""Which patches go into a training tuple: random triplets (the coursework) and HardNet pair batches.

A patch is addressed by (track, view) with view in 0..15 (`PATCH_TYPES` order). Samplers return index arrays
of shape (M, K, 2) holding (track, view) for the K members of each tuple (K = 2 for pairs anchor/positive,
K = 3 for triplets anchor/positive/negative). They are pure functions of their arguments and the generator
passed in, so a training epoch can be replayed exactly from (seed, epoch).
"""

from __future__ import annotations

import numpy as np

NUM_VIEWS = 16


def _two_distinct_views(count: int, rng: np.random.Generator, num_views: int = NUM_VIEWS) -> np.ndarray:
    """Draws ``count`` ordered pairs of distinct views uniformly. Shape (count, 2)."""
    first = rng.integers(0, num_views, size=count)
    second = (first + rng.integers(1, num_views, size=count)) % num_views
    return np.stack([first, second], axis=1)


def random_triplets(
    num_tracks: int, num_triplets: int, rng: np.random.Generator, unique_block: int = 32
) -> np.ndarray:
    """Random triplets exactly as the 2019 coursework drew them (no mining).

    The anchor track is uniform and unique within each block of ``unique_block`` consecutive triplets; anchor
    and positive are two distinct random views of it; the negative is a random view of another random track.

    Args:
        num_tracks: number of tracks T (classes), at least 2.
        num_triplets: number of triplets M.
        rng: the random generator.
        unique_block: size of the blocks with distinct anchor tracks (the coursework hard-coded 32).

    Returns:
        int64 array (M, 3, 2) of (track, view) for anchor, positive, negative.

    Raises:
        ValueError: if there are fewer than 2 tracks or fewer tracks than ``unique_block``.
    """
    if num_tracks < 2:
        raise ValueError(f"`num_tracks` must be at least 2 to draw negatives. Received: num_tracks={num_tracks}")
    block = min(unique_block, num_tracks)
    anchors = np.concatenate(
        [rng.choice(num_tracks, size=block, replace=False) for _ in range(-(-num_triplets // block))]
    )[:num_triplets]
    negatives = (anchors + rng.integers(1, num_tracks, size=num_triplets)) % num_tracks
    views = _two_distinct_views(num_triplets, rng)
    negative_views = rng.integers(0, NUM_VIEWS, size=num_triplets)
    out = np.empty((num_triplets, 3, 2), dtype=np.int64)
    out[:, 0] = np.stack([anchors, views[:, 0]], axis=1)
    out[:, 1] = np.stack([anchors, views[:, 1]], axis=1)
    out[:, 2] = np.stack([negatives, negative_views], axis=1)
    return out


def pair_batches(num_tracks: int, num_pairs: int, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Positive pairs laid out so that every batch holds at most one pair per track (HardNet sampling).

    Tracks are visited in random permutations; each batch of ``batch_size`` consecutive pairs comes from one
    permutation slice, so hardest-in-batch negatives are never views of the anchor's own 3-D point.

    Args:
        num_tracks: number of tracks T, at least ``batch_size``... or the batch shrinks to T.
        num_pairs: number of pairs M (rounded down to whole batches, at least one batch).
        batch_size: pairs per batch B.
        rng: the random generator.

    Returns:
        int64 array (M', 2, 2) of (track, view) for anchor and positive, M' = whole batches.

    Raises:
        ValueError: if ``num_tracks`` < 2 or ``batch_size`` < 2.
    """
    if num_tracks < 2 or batch_size < 2:
        raise ValueError(
            "`num_tracks` and `batch_size` must both be at least 2. "
            f"Received: num_tracks={num_tracks}, batch_size={batch_size}"
        )
    batch = min(batch_size, num_tracks)
    per_permutation = num_tracks // batch
    num_batches = max(1, num_pairs // batch)
    tracks = []
    for start in range(0, num_batches, per_permutation):
        take = min(per_permutation, num_batches - start)
        tracks.append(rng.permutation(num_tracks)[: take * batch])
    tracks = np.concatenate(tracks)
    views = _two_distinct_views(len(tracks), rng)
    out = np.empty((len(tracks), 2, 2), dtype=np.int64)
    out[:, 0, 0] = out[:, 1, 0] = tracks
    out[:, :, 1] = views
    return out


def add_negatives(pairs: np.ndarray, num_tracks: int, rng: np.random.Generator) -> np.ndarray:
    """Turns (M, 2, 2) pairs into (M, 3, 2) triplets with a random negative of another track."""
    anchors = pairs[:, 0, 0]
    negatives = (anchors + rng.integers(1, num_tracks, size=len(pairs))) % num_tracks
    extra = np.stack([negatives, rng.integers(0, NUM_VIEWS, size=len(pairs))], axis=1)[:, None, :]
    return np.concatenate([pairs, extra], axis=1)


def gather_tuples(patches: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Collects the pixels of tuples.

    Args:
        patches: uint8 (T, 16, P, P) track array.
        index: (M, K, 2) (track, view) indices from a sampler.

    Returns:
        uint8 (M, K, P, P).
    """
    return patches[index[..., 0], index[..., 1]]


def augment_tuples(tuples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flip and 90-degree rotation, the same transform for every member of a tuple.

    Applying one transform per tuple keeps anchor and positive aligned (the descriptor should not learn
    rotation invariance) while multiplying the apparent number of 3-D points by 8.

    Args:
        tuples: (M, K, P, P) patches.
        rng: the random generator.

    Returns:
        A new array of the same shape.
    """
    out = np.empty_like(tuples)
    turns = rng.integers(0, 4, size=len(tuples))
    flips = rng.random(len(tuples)) < 0.5
    for turn in range(4):
        for flip in (False, True):
            sel = (turns == turn) & (flips == flip)
            if not sel.any():
                continue
            chunk = np.rot90(tuples[sel], k=turn, axes=(-2, -1))
            out[sel] = chunk[..., ::-1] if flip else chunk
    return out
