"""PK batches: P classes x K images per batch, laid out (P, K, H, W, C) for `TupleEncoder` and the losses.

Each row of a batch holds K images of one class ("K views of one identity", the losses' layout) and the P rows
are P distinct classes. For a triplet loss (input arity 3) the rows become (anchor, positive, negative): two
images of the row's class and the first image of the next row's class. Every batch is a pure function of
(seed, epoch, batch index), so a resumed run sees the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import numpy as np

from descriptors.errors import ConfigError
from descriptors.training.prefetched_batches import PrefetchedBatches

LAYOUTS = ("pk", "triplets")


def plan_pk_batches(labels, p: int, k: int, num_batches: int, rng) -> np.ndarray:
    """Index plan (num_batches, P, K) into the image array.

    Per batch, P distinct classes are drawn uniformly; per class, K distinct images (with replacement only when
    the class has fewer than K).

    Raises:
        ConfigError: fewer than P classes, or P < 2, K < 1.

    Shape:
        labels (N,) -> (num_batches, P, K) int64.
    """
    labels = np.asarray(labels)
    classes = np.unique(labels)
    if isinstance(p, bool) or not isinstance(p, int) or not 2 <= p <= len(classes):
        raise ConfigError(f"`p` must be an integer in 2..{len(classes)} (the number of classes). Received: p={p!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"`k` must be a positive integer. Received: k={k!r}")
    members = {c: np.flatnonzero(labels == c) for c in classes}
    plan = np.empty((num_batches, p, k), dtype=np.int64)
    for batch in range(num_batches):
        for row, c in enumerate(rng.choice(classes, size=p, replace=False)):
            pool = members[c]
            plan[batch, row] = rng.choice(pool, size=k, replace=len(pool) < k)
    return plan


def pk_to_triplets(plan: np.ndarray) -> np.ndarray:
    """(anchor, positive, negative) rows from a PK plan with K >= 2: the negative is row r+1's first image.

    Shape:
        (M, P, K) -> (M, P, 3).
    """
    if plan.shape[-1] < 2:
        raise ConfigError(f"A triplet loss needs `k` >= 2. Received: k={plan.shape[-1]}")
    negatives = np.roll(plan[:, :, 0], -1, axis=1)
    return np.stack([plan[:, :, 0], plan[:, :, 1], negatives], axis=-1)


class PKBatches(PrefetchedBatches):
    """Batches `(x, y)`: x float32 (P, K', H, W, C) on 0..255, y float32 (P,) the class of each row.

    Args:
        images: uint8 (N, H, W, C).
        labels: int (N,) class indices.
        plan: (M, P, K') index plan from `plan_pk_batches` (or `pk_to_triplets`).
        augment: None or a callable `(images (n, H, W, C) float32, seed) -> images` (e.g. an `Augmenter`),
            applied to every image of the batch.
        augment_seed: base seed of the augmentation; batch i uses `[augment_seed, i]`.

    Shape:
        x (P, K', H, W, C), y (P,).
    """

    def __init__(self, images, labels, plan, augment=None, augment_seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.images, self.labels = images, np.asarray(labels)
        self.plan = np.asarray(plan)
        self.augment, self.augment_seed = augment, int(augment_seed)

    def __len__(self):
        return len(self.plan)

    def __getitem__(self, index):
        rows = self.plan[index]
        x = self.images[rows.reshape(-1)].astype(np.float32)
        if self.augment is not None:
            x = self.augment(x, [self.augment_seed, index])
        x = x.reshape(rows.shape + self.images.shape[1:])
        return x, self.labels[rows[:, 0]].astype(np.float32)
