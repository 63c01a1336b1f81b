"""A Brown subset as a training patch source: 16-view tracks grouped into pseudo-sequences.

Training reads tracks of 16 views (`descriptors.data.patch_tracks`); a Brown 3D point has a variable number
``k`` of patches (positives = patches sharing a point id). Every point with ``k >= 2`` becomes one track whose
16 views are its patches in a seeded random order, repeated cyclically when ``k < 16`` (so two distinct views
are the same patch with probability about ``(16 / k - 1) / 15``; HardNet's own loader instead draws two distinct
patches per point) and the first 16 when ``k > 16``. Points with one patch are left out. Tracks are grouped in
order into pseudo-sequences ``brown-0000``, ``brown-0001``, ... of ``points_per_sequence`` tracks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descriptors.data.brown_reader import BrownSubset
from descriptors.data.formats import resize_patches
from descriptors.errors import DataFormatError
from hpatches_eval.patch_types import PATCH_TYPES

VIEWS = len(PATCH_TYPES)


class BrownTrackSource:
    """Patch source (``sequences``, ``load``, ``load_sequence``) over a Brown subset folder.

    Args:
        root: the subset folder (see `BrownSubset`).
        size: side of the returned patches (area-resized from 64, as the Brown papers feed 32 px networks).
        points_per_sequence: tracks per pseudo-sequence.
        seed: seed of the view order.

    Raises:
        DataFormatError: the folder is malformed or has no point with two patches.
    """

    def __init__(self, root: str | Path, size: int = 32, points_per_sequence: int = 1000, seed: int = 0):
        self.subset = BrownSubset(root)
        self.patch_size = int(size)
        ids = self.subset.point_ids
        order = np.argsort(ids, kind="stable")
        _, starts, sizes = np.unique(ids[order], return_index=True, return_counts=True)
        usable = np.flatnonzero(sizes >= 2)
        if usable.size == 0:
            raise DataFormatError(f"{self.subset.root / 'info.txt'} has no 3D point with two patches or more; "
                                  "training needs positives (patches sharing a point id).")
        rng = np.random.default_rng(seed)
        self.views = np.empty((usable.size, VIEWS), np.int64)  # patch index of view v of track t
        slots = np.arange(VIEWS)
        for track, point in enumerate(usable):
            members = order[starts[point] + rng.permutation(sizes[point])]
            self.views[track] = members[slots % members.size]
        self.points_per_sequence = int(points_per_sequence)
        count = -(-usable.size // self.points_per_sequence)
        self.sequences = [f"brown-{i:04d}" for i in range(count)]
        self.noisy = False

    def __repr__(self) -> str:
        return (f"BrownTrackSource(root={str(self.subset.root)!r}, tracks={len(self.views)}, "
                f"size={self.patch_size})")

    def _block(self, seq: str) -> np.ndarray:
        if seq not in self.sequences:
            raise KeyError(f"{seq!r} is not a pseudo-sequence of {self.subset.root} "
                           f"(brown-0000 .. {self.sequences[-1]})")
        start = self.sequences.index(seq) * self.points_per_sequence
        return self.views[start:start + self.points_per_sequence]

    def num_patches(self, seq: str) -> int:
        """Tracks in pseudo-sequence ``seq``."""
        return int(len(self._block(seq)))

    def load_sequence(self, seq: str) -> np.ndarray:
        """Every view of the tracks of ``seq``. Shape: (16, N, S, S) uint8."""
        block = self._block(seq)
        patches = resize_patches(self.subset.patches(block.reshape(-1)), self.patch_size)
        patches = patches.reshape(len(block), VIEWS, self.patch_size, self.patch_size)
        return np.ascontiguousarray(np.swapaxes(patches, 0, 1))

    def load(self, seq: str, patch_type: str) -> np.ndarray:
        """View ``patch_type`` (its position in ref, e1..e5, h1..h5, t1..t5) of the tracks of ``seq``.

        Shape: (N, S, S) uint8.
        """
        view = PATCH_TYPES.index(patch_type)
        return resize_patches(self.subset.patches(self._block(seq)[:, view]), self.patch_size)
