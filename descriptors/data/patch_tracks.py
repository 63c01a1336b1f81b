"""Patch tracks in memory for training: every physical patch with its 16 views (ref, e1..e5, h1..h5, t1..t5).

A track is one class for metric learning: its 16 views show the same 3-D point. Tracks are kept as one uint8
array so that a training set of ~100k tracks at 32 px costs 16 * 1 KiB per track and nothing more. At real
N-HPatches size (~157k tracks, 2.5 GB per copy) `load_tracks` can write that array to a ``.npy`` file sequence by
sequence and hand it back memory-mapped, so the process holds one sequence at a time and the operating system pages
the rest in and out as batches are drawn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import mmap
import os
from pathlib import Path

import numpy as np

from descriptors.progress import tqdm
from hpatches_eval.patch_types import PATCH_TYPES


@dataclasses.dataclass(frozen=True)
class PatchTracks:
    """Patches of several sequences, grouped by track.

    Attributes:
        patches: uint8 array (T, 16, P, P): view ``v`` of track ``i`` (views in `PATCH_TYPES` order).
        sequence_index: int32 array (T,): index into ``sequences`` of each track's sequence.
        sequences: sequence names.
    """

    patches: np.ndarray
    sequence_index: np.ndarray
    sequences: tuple[str, ...]

    def __post_init__(self):
        if self.patches.ndim != 4 or self.patches.shape[1] != len(PATCH_TYPES):
            raise ValueError(
                f"`patches` must have shape (T, {len(PATCH_TYPES)}, P, P). Received: shape={self.patches.shape}"
            )
        if self.sequence_index.shape != (self.patches.shape[0],):
            raise ValueError(
                "`sequence_index` must have one entry per track. "
                f"Received: {self.sequence_index.shape[0]} entries for {self.patches.shape[0]} tracks"
            )

    @property
    def num_tracks(self) -> int:
        return int(self.patches.shape[0])

    @property
    def patch_size(self) -> int:
        return int(self.patches.shape[-1])

    def subset(self, track_ids: np.ndarray) -> "PatchTracks":
        """Returns the tracks ``track_ids`` (a copy)."""
        return PatchTracks(self.patches[track_ids], self.sequence_index[track_ids], self.sequences)

    def with_patches(self, patches: np.ndarray) -> "PatchTracks":
        """Returns the same tracks with other pixel data of the same (T, 16) layout (e.g. denoised views)."""
        return PatchTracks(patches, self.sequence_index, self.sequences)


def load_tracks(source, sequences, verbose: bool = True, store=None) -> PatchTracks:
    """Loads every track of ``sequences`` from a patch source into one array.

    Args:
        source: an object with ``load_sequence(seq) -> uint8 (16, N, P, P)`` such as
            `descriptors.data.formats.HPatchesRelease` (its ``noisy``/``size`` settings decide what is read).
        sequences: sequence names to load.
        verbose: show a progress bar.
        store: None to load into memory; else a ``.npy`` path: the tracks are written there one sequence at a
            time (the source must also have ``num_patches(seq)``) and returned as a read-only `numpy.memmap`.
            An existing file at ``store`` is replaced.

    In memory, the last few loads under ``CACHE_MAX_BYTES`` from a folder source are kept (read-only) and handed
    out again while the sequence folders are unchanged (their modification times are part of the key).

    Returns:
        `PatchTracks` with T = total number of tracks over ``sequences``.

    Raises:
        ValueError: if ``sequences`` is empty, or ``store`` is given for a source without ``num_patches``.

    Example:
        >>> tracks = load_tracks(source, ["v_churchill"], store="cache/noisy.npy")  # doctest: +SKIP
        >>> tracks.patches.shape, type(tracks.patches).__name__  # doctest: +SKIP
        ((1432, 16, 32, 32), 'memmap')
    """
    sequences = tuple(sequences)
    if not sequences:
        raise ValueError("`sequences` must name at least one sequence. Received: an empty list")
    if store is not None:
        return _stored_tracks(source, sequences, Path(store), verbose)
    key = _cache_key(source, sequences)
    if key in _RECENT:
        _RECENT[key] = _RECENT.pop(key)  # most recently used last
        return _RECENT[key]
    tracks = _loaded_tracks(source, sequences, verbose)
    if key is not None and tracks.patches.nbytes <= CACHE_MAX_BYTES:
        tracks.patches.flags.writeable = False  # shared by later calls: nobody may write into it
        tracks.sequence_index.flags.writeable = False
        _RECENT[key] = tracks
        while len(_RECENT) > CACHE_ENTRIES:
            _RECENT.pop(next(iter(_RECENT)))
    return tracks


CACHE_ENTRIES = 4  # recent in-memory loads kept per process (train() called again in a notebook or a test run)
CACHE_MAX_BYTES = 512 << 20  # only small loads are kept; real-size data is read again (or memory-mapped)
_RECENT: dict = {}


def _cache_key(source, sequences):
    """A key that changes when the patch files change, for sources reading a folder (else None: not cached)."""
    root = getattr(source, "root", None)
    if root is None:
        return None
    try:
        stamps = tuple(((Path(root) / seq).stat().st_mtime_ns, (Path(root) / seq / "ref.png").stat().st_mtime_ns)
                       for seq in sequences)
    except OSError:
        return None
    return (type(source).__name__, str(Path(root).resolve()), getattr(source, "noisy", None),
            getattr(source, "patch_size", None), sequences, stamps)


def _loaded_tracks(source, sequences: tuple[str, ...], verbose: bool) -> PatchTracks:
    if hasattr(source, "num_patches"):  # one array filled in place: peak memory one copy plus one sequence
        counts = [source.num_patches(seq) for seq in sequences]
        patches, start = None, 0
        for block in _track_blocks(source, sequences, counts, verbose):
            if patches is None:
                patches = np.empty((sum(counts), *block.shape[1:]), np.uint8)
            patches[start:start + len(block)] = block
            start += len(block)
        return PatchTracks(patches=patches, sequence_index=_sequence_index(counts), sequences=sequences)
    blocks = []
    for seq in tqdm(sequences, desc="loading patches", disable=not verbose, leave=False):
        views = source.load_sequence(seq)  # (16, N, P, P)
        blocks.append(np.ascontiguousarray(np.swapaxes(views, 0, 1)))
    patches = np.concatenate(blocks, axis=0) if len(blocks) > 1 else blocks[0]
    return PatchTracks(patches=patches, sequence_index=_sequence_index([len(b) for b in blocks]),
                       sequences=sequences)


def _sequence_index(counts) -> np.ndarray:
    return np.concatenate([np.full(count, i, dtype=np.int32) for i, count in enumerate(counts)])


def _track_blocks(source, sequences, counts, verbose):
    """Yields each sequence's tracks (N, 16, P, P), checked against ``counts``, with a progress bar."""
    for count, seq in zip(counts, tqdm(sequences, desc="loading patches", disable=not verbose, leave=False)):
        block = np.swapaxes(source.load_sequence(seq), 0, 1)
        if len(block) != count:
            raise ValueError(f"{seq!r}: load_sequence gave {len(block)} tracks, num_patches {count}")
        yield block


def _stored_tracks(source, sequences: tuple[str, ...], store: Path, verbose: bool) -> PatchTracks:
    if not hasattr(source, "num_patches"):
        raise ValueError(f"`store` needs a source with num_patches(seq). Received: {type(source).__name__}")
    counts = [source.num_patches(seq) for seq in sequences]
    blocks = _track_blocks(source, sequences, counts, verbose)
    first = next(blocks)
    with npy_writer(store, (sum(counts), *first.shape[1:])) as write:
        write(first)
        del first
        for block in blocks:
            write(block)
    return PatchTracks(patches=open_random_access(store), sequence_index=_sequence_index(counts),
                       sequences=sequences)


def open_random_access(path) -> np.memmap:
    """A ``.npy`` file memory-mapped read-only, with the kernel told that reads are random (``MADV_RANDOM``: no
    read-ahead of neighbouring disk pages for the scattered tracks of a batch).

    The resident size still counts the pages the kernel maps around each touched page when they are already cached
    (Linux "fault-around": measured ~128 KB per random touch of a freshly written file, with or without the
    advice); those are clean page cache that the kernel drops under memory pressure, not the process's own memory
    (see the anonymous RSS in docs/performance.md).
    """
    patches = np.load(path, mmap_mode="r")
    advise = getattr(getattr(patches, "_mmap", None), "madvise", None)
    if advise is not None and hasattr(mmap, "MADV_RANDOM"):
        with contextlib.suppress(OSError, ValueError):
            advise(mmap.MADV_RANDOM)
    return patches


@contextlib.contextmanager
def npy_writer(path, shape: tuple[int, ...]):
    """Writes a uint8 ``.npy`` file of ``shape`` block by block with plain file writes; yields ``write(block)``.

    Unlike filling a writable memmap, the written pages never count in this process's resident memory. The file is
    written under a temporary name and renamed into place only when all ``shape[0]`` rows were written, so a reader
    never sees a half-written file.

    Raises:
        ValueError: the blocks hold more or fewer rows than ``shape[0]`` (nothing is left at ``path``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    rows = [0]
    try:
        with open(partial, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, {"descr": "|u1", "fortran_order": False, "shape": shape})

            def write(block):
                block = np.ascontiguousarray(block, dtype=np.uint8)
                if block.shape[1:] != tuple(shape[1:]) or rows[0] + len(block) > shape[0]:
                    raise ValueError(f"{path}: a block of shape {block.shape} does not fit {shape} "
                                     f"after {rows[0]} rows")
                handle.write(block.tobytes())
                rows[0] += len(block)

            yield write
        if rows[0] != shape[0]:
            raise ValueError(f"{path}: {rows[0]} rows were written, {shape[0]} expected")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
