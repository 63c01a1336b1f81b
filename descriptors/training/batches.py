"""Keras `PyDataset`s feeding the trainer: descriptor tuples and (noisy, clean) denoiser pairs.

Every batch is a pure function of (seed, epoch, batch index), so an interrupted run resumed at epoch e sees
exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import numpy as np

from descriptors.data.sampling import (
    NUM_VIEWS,
    add_negatives,
    augment_tuples,
    gather_tuples,
    pair_batches,
    random_triplets,
)
from descriptors.training.prefetched_batches import PrefetchedBatches


def epoch_rng(seed: int, epoch: int, stream: int = 0) -> np.random.Generator:
    """The random generator of one epoch of one stream (0 = sampling, 1 = augmentation, ...)."""
    return np.random.default_rng([seed, epoch, stream])


def plan_tuples(num_tracks: int, count: int, batch_size: int, arity: int, sampling: str, rng) -> np.ndarray:
    """Index plan (M, K, 2) of (track, view) for one epoch.

    ``sampling='pairs'`` lays out HardNet batches (one pair per track per batch) and adds a random negative when
    the loss needs triplets; ``'random_triplets'`` draws coursework triplets (and drops the negative for a
    pair loss).
    """
    if sampling == "pairs":
        plan = pair_batches(num_tracks, count, batch_size, rng)
        return add_negatives(plan, num_tracks, rng) if arity == 3 else plan
    plan = random_triplets(num_tracks, count, rng)
    return plan if arity == 3 else plan[:, :2]


class TupleBatches(PrefetchedBatches):
    """Batches of tuples of patches for a descriptor loss.

    Yields ``(x, y)`` with x float32 (B, K, P, P, 1) on the 0..255 scale and y float32 (B,) the track id of each
    tuple's anchor (losses that need class labels, e.g. ArcFace, read it; the triplet losses ignore it).

    Args:
        patches: uint8 (T, 16, P, P) track array (may be a `numpy.memmap`: only the batch's patches are read).
        plan: (M, K, 2) index plan from `plan_tuples`.
        batch_size: tuples per batch.
        augment_seed: when not None, apply flip/rot90 augmentation drawn from this seed (per batch).
        track_ids: when given, the plan's track index ``i`` means track ``track_ids[i]`` of ``patches`` (a subset
            without copying its pixels); ``y`` stays the plan's index.
    """

    def __init__(self, patches, plan, batch_size: int, augment_seed=None, track_ids=None, **kwargs):
        super().__init__(**kwargs)
        if patches.shape[1] != NUM_VIEWS:
            raise ValueError(f"`patches` must have shape (T, {NUM_VIEWS}, P, P). Received: {patches.shape}")
        self.patches = patches
        self.plan = plan
        self.batch_size = batch_size
        self.augment_seed = augment_seed
        self.track_ids = None if track_ids is None else np.asarray(track_ids)

    def __len__(self):
        return int(np.ceil(len(self.plan) / self.batch_size))

    def __getitem__(self, index):
        rows = self.plan[index * self.batch_size : (index + 1) * self.batch_size]
        if self.track_ids is None:
            tuples = gather_tuples(self.patches, rows)
        else:
            tuples = gather_tuples(self.patches, np.stack([self.track_ids[rows[..., 0]], rows[..., 1]], axis=-1))
        if self.augment_seed is not None:
            tuples = augment_tuples(tuples, np.random.default_rng([self.augment_seed, index]))
        x = tuples.astype(np.float32)[..., None]
        return x, rows[:, 0, 0].astype(np.float32)


class DenoisePairs(PrefetchedBatches):
    """Batches of (noisy, clean) patches, float32 (B, P, P, 1) on the 0..255 scale.

    Args:
        noisy: uint8 (N, P, P) noisy patches.
        clean: uint8 (N, P, P) the clean twins.
        order: int array of patch indices visited this epoch (e.g. a seeded permutation subset).
        batch_size: patches per batch.
    """

    def __init__(self, noisy, clean, order, batch_size: int, **kwargs):
        super().__init__(**kwargs)
        if noisy.shape != clean.shape:
            raise ValueError(f"`noisy` and `clean` must have the same shape. Received: {noisy.shape}, {clean.shape}")
        self.noisy, self.clean, self.order, self.batch_size = noisy, clean, order, batch_size

    def __len__(self):
        return int(np.ceil(len(self.order) / self.batch_size))

    def __getitem__(self, index):
        rows = np.sort(self.order[index * self.batch_size : (index + 1) * self.batch_size])
        return (
            self.noisy[rows].astype(np.float32)[..., None],
            self.clean[rows].astype(np.float32)[..., None],
        )
