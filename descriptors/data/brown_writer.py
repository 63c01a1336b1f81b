"""Exports a dataset we build (HPatches layout) to the Brown / UBC PhotoTour layout, so FPR95 runs without Brown.

Each row ``i`` of sequence ``seq`` (one scene point seen in ``ref``, ``e1..e5``, ``h1..h5``, ``t1..t5``) becomes
one 3D point; its patches are written one after the other, resized to 64x64 (``cv2.INTER_AREA``, as
`descriptors.data.formats.HPatchesRelease` does), in ``patchesNNNN.bmp`` 16x16 grids. The other files:

* ``info.txt``: ``<point id> <image index>``, the image index being ``sequence position * T + type position``
  (T patch types), i.e. one "image" per sequence and patch type;
* ``interest.txt``: ``<image index> <x> <y> <orientation> <scale>``. The HPatches layout keeps no keypoint
  positions, so these are synthetic but plausible values drawn once per point from the seed (x, y in 0..640,
  orientation in 0..2pi, scale 1.6 * 2^u, u in 0..3); FPR95 does not use them;
* ``m50_<n>_<n>_0.txt`` for each requested ``n``: ``n // 2`` matching pairs (a random point with at least two
  patches, two different patches of it) and ``n - n // 2`` non-matching pairs (two random patches of different
  points), shuffled; lines ``i pid_i 0 j pid_j 0 0``. Each list depends only on ``(seed, n)``.

Everything is deterministic given the seed; the folder is staged and renamed into place (never half-written).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from descriptors.data.brown_reader import (GRID, IMAGE_SIDE, PATCH_SIZE, PATCHES_PER_IMAGE, image_name,
                                           pairs_name)
from descriptors.data.formats import HPatchesRelease
from descriptors.errors import DataFormatError
from hpatches_eval.output_safety import check_output_dir, staged_dir
from hpatches_eval.patch_types import PATCH_TYPES

KIND = "brown-subset"
DEFAULT_PAIR_COUNTS = (1000, 10000, 100000)


def open_release(source: str | Path, layout: str = "hpatches-release", noisy: bool = False) -> HPatchesRelease:
    """The patch folder of a dataset: ``<source>/<layout>`` when it exists, else ``source`` itself.

    Raises:
        DataFormatError: ``layout`` is unknown or the folder is not an HPatches-layout patch folder.
    """
    if layout not in ("hpatches-release", "nhpatches"):
        raise DataFormatError(f"`layout` must be 'hpatches-release' or 'nhpatches'. Received: layout={layout!r}")
    source = Path(source)
    folder = source / layout if (source / layout).is_dir() else source
    try:
        return HPatchesRelease(folder, noisy=noisy, size=PATCH_SIZE)
    except (OSError, ValueError) as error:
        raise DataFormatError(f"{folder} is not an HPatches-layout patch folder: {error}") from error


def make_pairs(point_ids: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` balanced pairs: ``count // 2`` matching, the rest non-matching, shuffled.

    Shape:
        point_ids: (N,) ids, patches of one point need not be adjacent; output: (count, 7) int64 lines of an
        ``m50`` file.

    Raises:
        DataFormatError: no point has two patches, or all patches belong to one point.
    """
    point_ids = np.asarray(point_ids, dtype=np.int64)
    order = np.argsort(point_ids, kind="stable")
    points, starts, sizes = np.unique(point_ids[order], return_index=True, return_counts=True)
    usable = np.flatnonzero(sizes >= 2)
    if usable.size == 0 or points.size < 2:
        raise DataFormatError(f"Pairs need a point with two patches and two points. Received: {points.size} points, "
                              f"{usable.size} with two patches or more")
    n_pos = count // 2
    chosen = usable[rng.integers(usable.size, size=n_pos)]
    a = rng.integers(sizes[chosen])
    b = rng.integers(sizes[chosen] - 1)
    b = b + (b >= a)
    first = np.concatenate([order[starts[chosen] + a], rng.integers(point_ids.size, size=count - n_pos)])
    second = np.concatenate([order[starts[chosen] + b], rng.integers(point_ids.size, size=count - n_pos)])
    negatives = np.arange(n_pos, count)
    while True:
        clash = negatives[point_ids[first[negatives]] == point_ids[second[negatives]]]
        if clash.size == 0:
            break
        second[clash] = rng.integers(point_ids.size, size=clash.size)
    shuffle = rng.permutation(count)
    first, second = first[shuffle], second[shuffle]
    zeros = np.zeros(count, np.int64)
    return np.stack([first, point_ids[first], zeros, second, point_ids[second], zeros, zeros], axis=1)


def _write_bitmap(path: Path, cells: list[np.ndarray]) -> None:
    image = np.zeros((IMAGE_SIDE, IMAGE_SIDE), np.uint8)
    for cell, patch in enumerate(cells):
        row, column = divmod(cell, GRID)
        image[row * PATCH_SIZE:(row + 1) * PATCH_SIZE, column * PATCH_SIZE:(column + 1) * PATCH_SIZE] = patch
    if not cv2.imwrite(str(path), image):
        raise OSError(f"Cannot write the bitmap {path}")


def _write_table(path: Path, table: np.ndarray, fmt: str) -> None:
    np.savetxt(path, table, fmt=fmt, delimiter=" ")


def write_brown(
    source: str | Path,
    out: str | Path,
    *,
    sequences: Sequence[str] | None = None,
    patch_types: Sequence[str] = PATCH_TYPES,
    layout: str = "hpatches-release",
    noisy: bool = False,
    pair_counts: Sequence[int] = DEFAULT_PAIR_COUNTS,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Writes ``sequences`` of an HPatches-layout dataset as one Brown subset folder ``out``.

    Args:
        source: a dataset root (with ``hpatches-release/`` or ``nhpatches/``) or the patch folder itself.
        out: the subset folder to write (new, empty, or one we wrote before with ``overwrite=True``).
        sequences: the sequences to export, in this order (default: all of the folder, sorted).
        patch_types: the patch types of each point, in this order (default: ref, e1..e5, h1..h5, t1..t5).
        layout: ``"hpatches-release"`` (65 px) or ``"nhpatches"`` (32 px) under ``source``.
        noisy: with ``nhpatches``, export the ``<type>_noise.png`` twins.
        pair_counts: the ``m50_<n>_<n>_0.txt`` lists to write (each ``n >= 2``).
        seed: seed of the pairs and of ``interest.txt``.
        overwrite: replace an ``out`` we wrote before.

    Returns:
        ``out`` as a Path.

    Raises:
        DataFormatError: a bad source, sequence or patch type, or a pair count below 2.
        UsageError: ``out`` cannot be written or is not ours (see `hpatches_eval.output_safety`).
    """
    release = open_release(source, layout, noisy)
    sequences = list(release.sequences if sequences is None else sequences)
    unknown = sorted(set(sequences) - set(release.sequences))
    if unknown or not sequences:
        raise DataFormatError(f"`sequences` must name sequences of {release.root}. Received unknown: {unknown[:10]}"
                              if unknown else f"`sequences` must not be empty (source {release.root}).")
    bad_types = [t for t in patch_types if t not in PATCH_TYPES]
    if bad_types or len(patch_types) < 2 or len(set(patch_types)) != len(patch_types):
        raise DataFormatError(f"`patch_types` must be at least two distinct names of {PATCH_TYPES}. "
                              f"Received: {list(patch_types)}")
    counts = [int(n) for n in pair_counts]
    if any(n < 2 for n in counts):
        raise DataFormatError(f"`pair_counts` must be integers >= 2. Received: {list(pair_counts)}")
    out = check_output_dir(out, kind=KIND, overwrite=overwrite, inputs=[release.root])
    rng = np.random.default_rng(seed)
    point_ids, images, cells, written = [], [], [], 0
    with staged_dir(out, kind=KIND, source_sequences=len(sequences), seed=seed) as staging:
        for seq_position, seq in enumerate(sequences):
            stack = np.stack([release.load(seq, t) for t in patch_types], axis=1)  # (rows, T, 64, 64)
            first_point = point_ids[-1] + 1 if point_ids else 0
            for row in range(stack.shape[0]):
                for type_position in range(len(patch_types)):
                    cells.append(stack[row, type_position])
                    point_ids.append(first_point + row)
                    images.append(seq_position * len(patch_types) + type_position)
                    if len(cells) == PATCHES_PER_IMAGE:
                        _write_bitmap(staging / image_name(written), cells)
                        cells, written = [], written + 1
        if cells:
            _write_bitmap(staging / image_name(written), cells)
        point_ids, images = np.asarray(point_ids, np.int64), np.asarray(images, np.int64)
        _write_table(staging / "info.txt", np.stack([point_ids, images], axis=1), "%d")
        n_points = int(point_ids[-1]) + 1
        per_point = np.stack([rng.uniform(0, 640, n_points), rng.uniform(0, 640, n_points),
                              rng.uniform(0, 2 * np.pi, n_points), 1.6 * 2 ** rng.uniform(0, 3, n_points)], axis=1)
        interest = np.concatenate([images[:, None].astype(np.float64), per_point[point_ids]], axis=1)
        _write_table(staging / "interest.txt", interest, ["%d", "%.2f", "%.2f", "%.4f", "%.4f"])
        for count in counts:
            pairs = make_pairs(point_ids, count, np.random.default_rng([seed, count]))
            _write_table(staging / pairs_name(count), pairs, "%d")
    return out
