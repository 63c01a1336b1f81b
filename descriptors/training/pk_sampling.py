"""PK batches: P tracks x K views per row, so a (B, K, D) batch holds B = P distinct tracks with K views each."""

from __future__ import annotations

import numpy as np

from descriptors.data.sampling import NUM_VIEWS, pair_batches


def pk_batches(num_tracks: int, num_rows: int, batch_size: int, views: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of K distinct views of one track; every batch of ``batch_size`` rows has distinct tracks.

    The track layout is that of `pair_batches` (one permutation slice per batch); the K views of a row are a
    uniform draw without replacement among the 16.

    Args:
        num_tracks: number of tracks T (>= 2).
        num_rows: rows M (rounded down to whole batches, at least one).
        batch_size: rows per batch P.
        views: K in 2..16.
        rng: the random generator.

    Returns:
        int64 (M', K, 2) of (track, view).

    Raises:
        ValueError: ``views`` outside 2..16 (and the errors of `pair_batches`).
    """
    if not 2 <= views <= NUM_VIEWS:
        raise ValueError(f"`views` must be in 2..{NUM_VIEWS}. Received: views={views!r}")
    tracks = pair_batches(num_tracks, num_rows, batch_size, rng)[:, 0, 0]
    chosen = np.argsort(rng.random((len(tracks), NUM_VIEWS)), axis=1)[:, :views]
    out = np.empty((len(tracks), views, 2), dtype=np.int64)
    out[..., 0] = tracks[:, None]
    out[..., 1] = chosen
    return out
