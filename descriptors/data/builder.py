"""Image sequences with homographies -> an HPatches-layout dataset (see docs/CONVENTIONS.md).

Writes ``hpatches-release/`` (65 px, clean), ``nhpatches/`` (32 px area-resized, clean + ``_noise`` twins),
``tasks/`` (official-format task files + ``splits/splits.json``) and ``build_info.json``. Everything is written
into a hidden staging folder next to ``out`` (``.<name>.tmp-<pid>-<token>``, see `hpatches_eval.output_safety`)
and renamed at the end, so ``out`` is never half-written; the staging folder of a killed build is removed by the
next build of the same ``out``. ``out`` must be new, empty, or a dataset this builder wrote (replaced only with
``overwrite``), and may not overlap the inputs.

Sequences that cannot give correct patches (flat or tiny images, degenerate homographies, too few keypoints; see
`descriptors.data.screening`), and sequences with fewer than 5 targets (the patch layout needs e1..e5), are
skipped with a `SkippedSequenceWarning` and listed in ``build_info.json``
(``skipped_sequences``); the build fails only when what is left cannot make the requested split.

With ``jobs > 1`` the sequences are built in that many worker processes ("spawn" start method, safe when TensorFlow
is loaded in the parent): each worker reads one sequence, extracts its tracks and encodes its PNG files with the
sequence's own random generator, and returns them; the parent writes every file and merges the per-sequence results
in input order, so the output is byte-identical to ``jobs=1``. Workers never write anything, and on an error or
Ctrl-C they are stopped before the staging folder is removed.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import contextlib
import dataclasses
import json
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from descriptors.data.build_checks import DATASET_KIND, LEGACY_MARKERS, check_build_options, check_dataset_output
from descriptors.data.build_split import choose_split, split_sequences
from descriptors.data.detect import DetectorConfig
from descriptors.data.formats import encode_patch_png, resize_patches
from descriptors.data.jitter import DEFAULT_JITTER, level_to_dict
from descriptors.data.noise import DEFAULT_NOISE, add_noise, noise_level_for
from descriptors.data.screening import limits, sequence_problem, tracks_problem
from descriptors.data.sequences import NUM_IMAGES, ImageSequence, SequenceLoader, list_sequence_folders
from descriptors.data.task_writer import write_splits, write_tasks
from descriptors.data.tracks import extract_tracks
from descriptors.errors import ConfigError, DataFormatError
from descriptors.progress import tqdm
from hpatches_eval.cli_contract import one_line
from hpatches_eval.output_safety import staged_dir
from hpatches_eval.patch_types import PATCH_TYPES

__all__ = ["build_dataset", "build_dataset_from_sequences", "check_build_options", "check_dataset_output",
           "split_sequences", "SkippedSequenceWarning"]

BUILD_FORMAT_VERSION = 1
NHPATCHES_SIZE = 32


class SkippedSequenceWarning(UserWarning):
    """The builder skipped a sequence it cannot make patches from (see `descriptors.data.screening`)."""


def _summary(values: np.ndarray) -> dict:
    if len(values) == 0:
        return {"count": 0}
    q = np.percentile(values, [25, 50, 75])
    return {"count": int(len(values)), "median": round(float(q[1]), 4), "mean": round(float(values.mean()), 4),
            "q25": round(float(q[0]), 4), "q75": round(float(q[2]), 4)}


def _encode_sequence(name: str, patches: np.ndarray, noise: dict, rng: np.random.Generator) -> tuple[dict, dict]:
    """The 16 + 32 files of one sequence (``{relative path: PNG bytes}``) and the noisy-vs-clean absolute error
    sums per level."""
    files, errors = {}, {}
    for i, patch_type in enumerate(PATCH_TYPES):
        files[f"hpatches-release/{name}/{patch_type}.png"] = encode_patch_png(patches[i], 1)
        small = resize_patches(patches[i], NHPATCHES_SIZE)
        noisy = add_noise(small, noise_level_for(patch_type, noise), rng)
        files[f"nhpatches/{name}/{patch_type}.png"] = encode_patch_png(small, 6)
        files[f"nhpatches/{name}/{patch_type}_noise.png"] = encode_patch_png(noisy, 6)
        key = "ref" if patch_type == "ref" else patch_type[0]
        diff = np.abs(noisy.astype(np.int16) - small.astype(np.int16))
        errors.setdefault(key, [0.0, 0])
        errors[key][0] += float(diff.sum())
        errors[key][1] += diff.size
    return files, errors


@dataclasses.dataclass
class _SequenceResult:
    """What the build of one sequence gives the parent (small, picklable): ``skip`` is the reason when skipped."""

    name: str
    skip: str | None = None
    filter_counts: dict | None = None
    num_tracks: int = 0
    ref_std: np.ndarray | None = None
    overlaps: dict = dataclasses.field(default_factory=dict)
    errors: dict = dataclasses.field(default_factory=dict)
    files: dict = dataclasses.field(default_factory=dict)
    warnings: list = dataclasses.field(default_factory=list)


def _build_sequence(item, seed: np.random.SeedSequence, fallback_name: str, options: dict) -> _SequenceResult:
    """Reads, screens, extracts and encodes one sequence (in the parent with ``jobs=1``, else in a worker); the
    warnings it raises are recorded in the result, to be raised again by the parent in input order."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _extract_and_encode(item, np.random.default_rng(seed), fallback_name, options)
    result.warnings = [(w.category, str(w.message)) for w in caught]
    return result


def _extract_and_encode(item, rng: np.random.Generator, fallback_name: str, options: dict) -> _SequenceResult:
    try:
        sequence = item() if callable(item) else item
    except (DataFormatError, FileNotFoundError) as error:
        return _SequenceResult(fallback_name, skip=f"unreadable: {one_line(error)}")
    if not isinstance(sequence, ImageSequence):
        raise ConfigError(f"`sequences` must hold ImageSequence objects. Received: {type(sequence).__name__}")
    result = _SequenceResult(sequence.name)
    problem = sequence_problem(sequence) if sequence.num_targets == NUM_IMAGES - 1 else (
        f"holds {len(sequence.images)} images; the HPatches patch layout (e1..e5, h1..h5, t1..t5) needs "
        f"{NUM_IMAGES} (a reference and {NUM_IMAGES - 1} targets); match such pairs with "
        "descriptors.matching instead")
    if problem is None:
        tracks = extract_tracks(sequence, rng, detector=options["detector"], jitter=options["jitter"],
                                max_tracks=options["max_tracks"])
        result.filter_counts = tracks.counts
        problem = tracks_problem(tracks.counts)
    if problem is not None:
        result.skip = problem
        return result
    result.num_tracks = tracks.patches.shape[1]
    result.ref_std = tracks.patches[0].reshape(result.num_tracks, -1).std(axis=1)
    result.overlaps = dict(tracks.overlaps)
    result.files, result.errors = _encode_sequence(sequence.name, tracks.patches, options["noise"], rng)
    return result


def _init_worker(parent_pid: int) -> None:
    """Worker initializer: ignores Ctrl-C (it reaches the whole process group; only the parent handles it) and
    exits as soon as the parent is gone (e.g. killed), instead of building sequences nobody will write."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def exit_when_orphaned():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=exit_when_orphaned, daemon=True).start()


def _picklable(item) -> bool:
    if isinstance(item, ImageSequence):
        return True
    try:
        pickle.dumps(item)
    except Exception:  # noqa: BLE001 (lambdas, local functions, open handles, ...: built in the parent instead)
        return False
    return True


def _stop_workers(executor: concurrent.futures.ProcessPoolExecutor) -> None:
    """Cancels what has not started and terminates the running workers (their work is discarded)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=30)


def _results_in_order(sequences, seeds, names, options, jobs: int, on_result):
    """Yields the `_SequenceResult` of every sequence in input order; the error of a sequence is raised when its
    turn comes (so the first failing sequence is reported, as with ``jobs=1``) and stops the workers.

    ``on_result(result)`` is called as each result arrives (any order; it writes the files and moves the progress
    bar). With ``jobs > 1``, items that cannot be pickled (e.g. lambdas) are built in the parent while the workers
    build the others.
    """
    fallback = [name or f"sequence #{i + 1}" for i, name in enumerate(names)]
    if jobs == 1:
        for i, (item, seed) in enumerate(zip(sequences, seeds)):
            result = _build_sequence(item, seed, fallback[i], options)
            on_result(result)
            yield result
        return
    results, pending = {}, {}

    def collect(done):
        for future in done:
            i = pending.pop(future)
            try:
                results[i] = future.result()
            except concurrent.futures.process.BrokenProcessPool:
                results[i] = concurrent.futures.process.BrokenProcessPool(
                    f"a worker process of the parallel build (jobs={jobs}) died before finishing sequence "
                    f"{fallback[i]!r}: killed, out of memory, or started from a script that calls build_dataset "
                    "without an `if __name__ == \"__main__\":` guard (see the multiprocessing docs); nothing was "
                    "written")
            except Exception as error:  # noqa: BLE001 (raised in input order, as jobs=1 would)
                results[i] = error
            else:
                on_result(results[i])

    executor = concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
        initargs=(os.getpid(),))
    try:
        local = []
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
        try:  # workers are started by submit: started with Ctrl-C ignored, they never print its traceback
            for i, (item, seed) in enumerate(zip(sequences, seeds)):
                if _picklable(item):
                    pending[executor.submit(_build_sequence, item, seed, fallback[i], options)] = i
                else:
                    local.append(i)
        finally:
            if in_main_thread:
                signal.signal(signal.SIGINT, previous)
        for i in local:
            try:
                results[i] = _build_sequence(sequences[i], seeds[i], fallback[i], options)
            except Exception as error:  # noqa: BLE001
                results[i] = error
            else:
                on_result(results[i])
            collect(concurrent.futures.wait(pending, timeout=0).done)
        for i in range(len(sequences)):
            while i not in results:
                collect(concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED).done)
            result = results.pop(i)
            if isinstance(result, Exception):
                raise result
            yield result
    except BaseException:
        _stop_workers(executor)
        raise
    executor.shutdown(wait=True)


def _make_readable(folder: Path) -> None:
    """Gives every file the mode a plain ``open`` would (0666 less the umask): temp files are created 0600."""
    umask = os.umask(0o022)
    os.umask(umask)
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            path.chmod(0o666 & ~umask)


def _known_name(item) -> str | None:
    if isinstance(item, ImageSequence):
        return item.name
    name = getattr(item, "sequence_name", None)
    return name if isinstance(name, str) else None


def _skip(skipped: dict, name: str, reason: str, test_sequences) -> None:
    """Records and warns about a skipped sequence; fails at once when it was a requested test sequence."""
    if test_sequences is not None and name in test_sequences:
        raise DataFormatError(f"Requested test sequence {name!r} cannot be used: {reason}")
    skipped[name] = reason
    warnings.warn(f"Sequence {name!r} skipped: {reason}", SkippedSequenceWarning, stacklevel=3)


def build_dataset(sequences, out: str | Path, *, seed: int = 0, test_fraction: float = 1 / 3,
                  split_name: str = "default", test_sequences: list[str] | None = None,
                  max_tracks_per_sequence: int | None = None, detector: DetectorConfig = DetectorConfig(),
                  jitter: dict = DEFAULT_JITTER, noise: dict = DEFAULT_NOISE, n_pairs: int | None = None,
                  n_queries: int | None = None, n_distractors: int | None = None, overwrite: bool = False,
                  progress: bool = True, extra_info: dict | None = None, inputs=(), jobs: int = 1) -> Path:
    """Builds an HPatches-layout dataset from image sequences.

    Args:
        sequences: `ImageSequence` objects (or a zero-argument callable per sequence returning one, so that only
            one sequence is in memory at a time, e.g. `descriptors.data.sequences.SequenceLoader`). Names must be
            unique.
        out: the dataset folder to create: new, empty, or a dataset this builder wrote (with ``overwrite``).
        seed: seed of every random choice (clustering, jitter, noise, split, tasks); same seed, same bytes.
        test_fraction: fraction of sequences (per kind i_/v_) in the test set; ignored if ``test_sequences``.
        split_name: name of the split in ``tasks/splits/splits.json`` and in the task file names.
        test_sequences: explicit test sequences (the others train; all of them makes a test-only dataset).
        max_tracks_per_sequence: cap on patch tracks per sequence (random subset); ``None`` keeps all.
        detector, jitter, noise: see `detect.DetectorConfig`, `jitter.DEFAULT_JITTER`, `noise.DEFAULT_NOISE`.
        n_pairs: rows per verification file (default ``min(100000, 20 * test tracks)``).
        n_queries, n_distractors: retrieval sizes (defaults ``min(2000, test tracks // 4)`` and
            ``min(8000, test tracks)``; fewer are written if not enough distinct patches pass the std filter).
        overwrite: replace an existing dataset at ``out`` (never a folder of anything else).
        progress: show tqdm progress bars.
        extra_info: merged into ``build_info.json``.
        inputs: input paths (e.g. the sequence folders) that ``out`` may not equal, lie inside, or contain.
        jobs: worker processes building sequences; ``1`` (default) starts none. The output is byte-identical for
            every value (only ``build_seconds`` in ``build_info.json`` differs, as between any two builds). Callable
            items that cannot be pickled (e.g. lambdas) are built in the parent process. Workers are started with
            the "spawn" method, so a script calling this with ``jobs > 1`` needs an ``if __name__ == "__main__":``
            guard, as with any `multiprocessing` code.

    Returns:
        ``out`` as a `Path`.

    Raises:
        FileExistsError: if ``out`` holds something that may not be replaced (see `check_dataset_output`).
        ConfigError: on invalid options or duplicate names (before any work).
        DataFormatError: when the sequences left after skipping cannot make the split: none left, a requested
            test sequence skipped, or no train/test sequence left (the message says which and why).
    """
    out = Path(out)
    sequences = list(sequences)
    if isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1:
        raise ConfigError(f"`jobs` must be an integer >= 1. Received: jobs={jobs!r} ({type(jobs).__name__})")
    check_build_options(seed=seed, test_fraction=test_fraction, split_name=split_name, test_sequences=test_sequences,
                        max_tracks_per_sequence=max_tracks_per_sequence, n_pairs=n_pairs, n_queries=n_queries,
                        n_distractors=n_distractors)
    if test_sequences is not None:
        test_sequences = sorted(set(test_sequences))
    if not sequences:
        raise ConfigError("`sequences` must hold at least one sequence. Received: []")
    names = [_known_name(item) for item in sequences]
    known = [n for n in names if n is not None]
    duplicates = sorted({n for n in known if known.count(n) > 1})
    if duplicates:
        raise ConfigError(f"Sequence names must be unique. Received: duplicate {duplicates[0]!r}")
    if test_sequences is not None and len(known) == len(names) and set(test_sequences) - set(known):
        raise ConfigError(f"`test_sequences` must name sequences of the input. Received unknown: "
                          f"{sorted(set(test_sequences) - set(known))}; known: {sorted(known)}")
    check_dataset_output(out, overwrite=overwrite, inputs=inputs)
    start_time = time.perf_counter()
    with staged_dir(out, kind=DATASET_KIND, legacy_markers=LEGACY_MARKERS,
                    format_version=BUILD_FORMAT_VERSION) as tmp:
        split_seed, task_seed, *seq_seeds = np.random.SeedSequence(seed).spawn(2 + len(sequences))
        split_rng, task_rng = np.random.default_rng(split_seed), np.random.default_rng(task_seed)
        counts, ref_std, overlaps, errors, per_sequence, skipped = {}, {}, {"e": [], "h": [], "t": []}, {}, {}, {}
        options = {"detector": detector, "jitter": jitter, "noise": noise, "max_tracks": max_tracks_per_sequence}
        bar = tqdm(total=len(sequences), desc="Building patch sequences", disable=not progress, unit="seq")

        def write_files(result: _SequenceResult) -> None:  # as each sequence is done, in any order
            for relative, data in result.files.items():
                (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
                (tmp / relative).write_bytes(data)
            result.files = {}
            bar.update(1)

        results = _results_in_order(sequences, seq_seeds, names, options, min(int(jobs), len(sequences)), write_files)
        with bar, contextlib.closing(results):  # closed (workers stopped) before the staging folder is removed
            for result in results:  # merged in input order: the same build_info.json and task files for any jobs
                for category, message in result.warnings:
                    warnings.warn(message, category, stacklevel=2)
                if result.name in counts or result.name in skipped or result.name in per_sequence:
                    raise ConfigError(f"Sequence names must be unique. Received: duplicate {result.name!r}")
                if result.filter_counts is not None:
                    per_sequence[result.name] = result.filter_counts
                if result.skip is not None:
                    _skip(skipped, result.name, result.skip, test_sequences)
                    continue
                counts[result.name] = result.num_tracks
                ref_std[result.name] = result.ref_std
                for level, values in result.overlaps.items():
                    overlaps[level].append(values)
                for key, (total, size) in result.errors.items():
                    errors.setdefault(key, [0.0, 0])
                    errors[key][0] += total
                    errors[key][1] += size
        split = choose_split(sorted(counts), skipped, test_sequences=test_sequences, test_fraction=test_fraction,
                             rng=split_rng, name=split_name)
        write_splits(tmp / "tasks" / "splits" / "splits.json", [split])
        test_tracks = sum(counts[s] for s in split.test)
        sizes = {"n_pairs": min(100_000, 20 * test_tracks) if n_pairs is None else int(n_pairs),
                 "n_queries": max(1, min(2000, test_tracks // 4)) if n_queries is None else int(n_queries),
                 "n_distractors": max(1, min(8000, test_tracks)) if n_distractors is None else int(n_distractors)}
        written = write_tasks(tmp / "tasks", split, counts, lambda s, i: ref_std[s][i], rng=task_rng, **sizes)
        info = {
            "format_version": BUILD_FORMAT_VERSION, "seed": seed, "split": dataclasses.asdict(split),
            "num_sequences": len(counts), "num_sequences_input": len(sequences),
            "num_tracks": int(sum(counts.values())),
            "tracks_per_sequence": counts, "filter_counts_per_sequence": per_sequence,
            "skipped_sequences": [{"name": name, "reason": reason} for name, reason in skipped.items()],
            "screening": limits(),
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
        _make_readable(tmp)
        if not overwrite and out.is_dir() and any(out.iterdir()):
            raise FileExistsError(f"Output folder {out} appeared while building; not replacing it.")
    return out


def build_dataset_from_sequences(folder_or_list, out: str | Path, **kwargs) -> Path:
    """Builds a dataset from hpatches-sequences-release folders (``<seq>/1..6.ppm``, ``H_1_2..H_1_6``).

    Args:
        folder_or_list: a folder holding sequence folders, or a list of sequence folders.
        out: the dataset folder to create (it may not equal, lie inside, or contain the input folders).
        **kwargs: passed to `build_dataset`.

    Returns:
        ``out`` as a `Path`.
    """
    if isinstance(folder_or_list, (str, os.PathLike)):
        folders = list_sequence_folders(folder_or_list)
        inputs = [Path(folder_or_list)]
    else:
        folders = [Path(f) for f in folder_or_list]
        if not folders:
            raise ConfigError("`folder_or_list` must name at least one sequence folder. Received: []")
        inputs = list(folders)
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"Sequence folder not found: {folder}")
    kwargs.setdefault("extra_info", {"source": [str(f) for f in folders]})
    kwargs["inputs"] = list(kwargs.get("inputs", ())) + inputs
    return build_dataset([SequenceLoader(f) for f in folders], out, **kwargs)
