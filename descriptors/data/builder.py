"""Image sequences with homographies -> an HPatches-layout dataset (see docs/CONVENTIONS.md).

Writes ``hpatches-release/`` (65 px, clean), ``nhpatches/`` (32 px area-resized, clean + ``_noise`` twins),
``tasks/`` (official-format task files + ``splits/splits.json``) and ``build_info.json``. Everything is written
into a temporary folder next to ``out`` and renamed at the end, so ``out`` is never half-written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from descriptors.data.detect import DetectorConfig
from descriptors.data.formats import resize_patches, write_patch_file
from descriptors.data.jitter import DEFAULT_JITTER, level_to_dict
from descriptors.data.noise import DEFAULT_NOISE, add_noise, noise_level_for
from descriptors.data.sequences import ImageSequence, list_sequence_folders, read_image_sequence
from descriptors.data.task_writer import write_splits, write_tasks
from descriptors.data.tracks import extract_tracks
from descriptors.errors import ConfigError
from hpatches_eval.patch_types import PATCH_TYPES
from hpatches_eval.splits import Split

BUILD_FORMAT_VERSION = 1
NHPATCHES_SIZE = 32


def split_sequences(names: list[str], test_fraction: float, rng: np.random.Generator, name: str = "default") -> Split:
    """Random train/test split by sequence, stratified by kind (``i_``, ``v_``, anything else).

    Each kind with at least two sequences puts ``round(test_fraction * n)`` of them (at least one, at most
    ``n - 1``) in the test set; a kind with one sequence goes to test only if there is no other test sequence.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}")
    groups: dict[str, list[str]] = {}
    for n in sorted(names):
        groups.setdefault(n[:2] if n[:2] in ("i_", "v_") else "other", []).append(n)
    test: list[str] = []
    for kind in sorted(groups):
        members = groups[kind]
        if len(members) >= 2:
            count = int(min(max(round(test_fraction * len(members)), 1), len(members) - 1))
            test += [members[i] for i in rng.permutation(len(members))[:count]]
    if not test and names:
        test = [sorted(names)[0]]
    train = [n for n in sorted(names) if n not in test]
    return Split(name=name, test=tuple(sorted(test)), train=tuple(train))


def _summary(values: np.ndarray) -> dict:
    if len(values) == 0:
        return {"count": 0}
    q = np.percentile(values, [25, 50, 75])
    return {"count": int(len(values)), "median": round(float(q[1]), 4), "mean": round(float(values.mean()), 4),
            "q25": round(float(q[0]), 4), "q75": round(float(q[2]), 4)}


def _write_sequence(tmp: Path, name: str, patches: np.ndarray, noise: dict, rng: np.random.Generator) -> dict:
    """Writes the 16 + 32 files of one sequence; returns the noisy-vs-clean absolute error sums per level."""
    errors: dict[str, list] = {}
    for i, patch_type in enumerate(PATCH_TYPES):
        write_patch_file(tmp / "hpatches-release" / name / f"{patch_type}.png", patches[i])
        small = resize_patches(patches[i], NHPATCHES_SIZE)
        noisy = add_noise(small, noise_level_for(patch_type, noise), rng)
        write_patch_file(tmp / "nhpatches" / name / f"{patch_type}.png", small, compression=6)
        write_patch_file(tmp / "nhpatches" / name / f"{patch_type}_noise.png", noisy, compression=6)
        key = "ref" if patch_type == "ref" else patch_type[0]
        diff = np.abs(noisy.astype(np.int16) - small.astype(np.int16))
        errors.setdefault(key, [0.0, 0])
        errors[key][0] += float(diff.sum())
        errors[key][1] += diff.size
    return errors


def build_dataset(sequences, out: str | Path, *, seed: int = 0, test_fraction: float = 1 / 3,
                  split_name: str = "default", test_sequences: list[str] | None = None,
                  max_tracks_per_sequence: int | None = None, detector: DetectorConfig = DetectorConfig(),
                  jitter: dict = DEFAULT_JITTER, noise: dict = DEFAULT_NOISE, n_pairs: int | None = None,
                  n_queries: int | None = None, n_distractors: int | None = None, overwrite: bool = False,
                  progress: bool = True, extra_info: dict | None = None) -> Path:
    """Builds an HPatches-layout dataset from image sequences.

    Args:
        sequences: `ImageSequence` objects (or a zero-argument callable per sequence returning one, so that only
            one sequence is in memory at a time). Names must be unique.
        out: the dataset folder to create.
        seed: seed of every random choice (clustering, jitter, noise, split, tasks); same seed, same bytes.
        test_fraction: fraction of sequences (per kind i_/v_) in the test set; ignored if ``test_sequences``.
        split_name: name of the split in ``tasks/splits/splits.json`` and in the task file names.
        test_sequences: explicit test sequences (the others train).
        max_tracks_per_sequence: cap on patch tracks per sequence (random subset); ``None`` keeps all.
        detector, jitter, noise: see `detect.DetectorConfig`, `jitter.DEFAULT_JITTER`, `noise.DEFAULT_NOISE`.
        n_pairs: rows per verification file (default ``min(100000, 20 * test tracks)``).
        n_queries, n_distractors: retrieval sizes (defaults ``min(2000, test tracks // 4)`` and
            ``min(8000, test tracks)``; fewer are written if not enough distinct patches pass the std filter).
        overwrite: replace an existing ``out``.
        progress: show tqdm progress bars.
        extra_info: merged into ``build_info.json``.

    Returns:
        ``out`` as a `Path`.

    Raises:
        FileExistsError: if ``out`` exists and ``overwrite`` is false.
        ConfigError: on invalid options, duplicate names, or when no sequence yields patches.
    """
    out = Path(out)
    if test_sequences is None and not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"`test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}")
    if max_tracks_per_sequence is not None and max_tracks_per_sequence < 2:
        raise ConfigError(f"`max_tracks_per_sequence` must be >= 2 or None. "
                          f"Received: max_tracks_per_sequence={max_tracks_per_sequence!r}")
    if out.exists() and not overwrite:
        raise FileExistsError(f"Output folder {out} already exists; pass overwrite=True to replace it.")
    start_time = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        seeds = np.random.SeedSequence(seed)
        split_rng, task_rng, *seq_seeds = [np.random.default_rng(s) for s in seeds.spawn(2 + len(sequences))]
        counts, ref_std, overlaps, errors, per_sequence, skipped = {}, {}, {"e": [], "h": [], "t": []}, {}, {}, []
        for item, rng in tqdm(list(zip(sequences, seq_seeds)), desc="Building patch sequences", disable=not progress,
                              unit="seq"):
            sequence = item() if callable(item) else item
            if not isinstance(sequence, ImageSequence):
                raise ConfigError(f"`sequences` must hold ImageSequence objects. Received: {type(sequence).__name__}")
            if sequence.name in counts or sequence.name in skipped:
                raise ConfigError(f"Sequence names must be unique. Received: duplicate {sequence.name!r}")
            tracks = extract_tracks(sequence, rng, detector=detector, jitter=jitter, max_tracks=max_tracks_per_sequence)
            per_sequence[sequence.name] = tracks.counts
            if tracks.patches.shape[1] < 2:
                skipped.append(sequence.name)
                continue
            counts[sequence.name] = tracks.patches.shape[1]
            ref_std[sequence.name] = tracks.patches[0].reshape(counts[sequence.name], -1).std(axis=1)
            for level, values in tracks.overlaps.items():
                overlaps[level].append(values)
            for key, (total, size) in _write_sequence(tmp, sequence.name, tracks.patches, noise, rng).items():
                errors.setdefault(key, [0.0, 0])
                errors[key][0] += total
                errors[key][1] += size
        if not counts:
            raise ConfigError(f"No sequence yielded at least 2 patch tracks. Received: {skipped}")
        if test_sequences is not None:
            unknown = sorted(set(test_sequences) - set(counts))
            if unknown or not test_sequences:
                raise ConfigError(f"`test_sequences` must name built sequences. Received unknown: {unknown}")
            split = Split(split_name, tuple(sorted(test_sequences)),
                          tuple(sorted(set(counts) - set(test_sequences))))
        else:
            split = split_sequences(list(counts), test_fraction, split_rng, split_name)
        write_splits(tmp / "tasks" / "splits" / "splits.json", [split])
        test_tracks = sum(counts[s] for s in split.test)
        sizes = {"n_pairs": min(100_000, 20 * test_tracks) if n_pairs is None else int(n_pairs),
                 "n_queries": max(1, min(2000, test_tracks // 4)) if n_queries is None else int(n_queries),
                 "n_distractors": max(1, min(8000, test_tracks)) if n_distractors is None else int(n_distractors)}
        written = write_tasks(tmp / "tasks", split, counts, lambda s, i: ref_std[s][i], rng=task_rng, **sizes)
        info = {
            "format_version": BUILD_FORMAT_VERSION, "seed": seed, "split": dataclasses.asdict(split),
            "num_sequences": len(counts), "num_tracks": int(sum(counts.values())), "tracks_per_sequence": counts,
            "filter_counts_per_sequence": per_sequence, "skipped_sequences": skipped,
            "patch_size": 65, "nhpatches_size": NHPATCHES_SIZE,
            "detector": dataclasses.asdict(detector),
            "scale_definition": "sigma = OpenCV SIFT KeyPoint.size / 2 (DoG) or the Gaussian derivative scale "
                                "(Hessian, Harris); the 65 px patch covers the square of half-side extent*sigma",
            "jitter": {k: level_to_dict(v) for k, v in jitter.items()},
            "measured_overlap": {k: _summary(np.concatenate(v) if v else np.zeros(0)) for k, v in overlaps.items()},
            "noise": {k: dataclasses.asdict(v) for k, v in noise.items()},
            "measured_noise_mae": {k: round(total / size, 3) for k, (total, size) in errors.items()},
            "tasks_requested": sizes, "tasks_written": written,
            "out_of_image_policy": "drop the track (every kept patch is fully inside its image)",
            "build_seconds": round(time.perf_counter() - start_time, 1),
        }
        info.update(extra_info or {})
        fd, info_tmp = tempfile.mkstemp(suffix=".json", dir=tmp)
        with os.fdopen(fd, "w") as f:
            json.dump(info, f, indent=1)
        os.replace(info_tmp, tmp / "build_info.json")
        if out.exists() and not overwrite:
            raise FileExistsError(f"Output folder {out} appeared while building; not replacing it.")
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, trash / "old")
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def build_dataset_from_sequences(folder_or_list, out: str | Path, **kwargs) -> Path:
    """Builds a dataset from hpatches-sequences-release folders (``<seq>/1..6.ppm``, ``H_1_2..H_1_6``).

    Args:
        folder_or_list: a folder holding sequence folders, or a list of sequence folders.
        out: the dataset folder to create.
        **kwargs: passed to `build_dataset`.

    Returns:
        ``out`` as a `Path`.
    """
    if isinstance(folder_or_list, (str, os.PathLike)):
        folders = list_sequence_folders(folder_or_list)
    else:
        folders = [Path(f) for f in folder_or_list]
        if not folders:
            raise ConfigError("`folder_or_list` must name at least one sequence folder. Received: []")
    loaders = [lambda f=f: read_image_sequence(f) for f in folders]
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"Sequence folder not found: {folder}")
    kwargs.setdefault("extra_info", {"source": [str(f) for f in folders]})
    return build_dataset(loaders, out, **kwargs)
