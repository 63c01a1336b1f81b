"""`evaluate`: run the HPatches tasks on a descriptor set and collect a `Results`."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from hpatches_eval._version import __version__
from hpatches_eval.descriptor_sets import DescriptorSet, from_arrays, from_csv_dir
from hpatches_eval.distances import check_distance
from hpatches_eval.errors import TaskFileError
from hpatches_eval.guards import descriptor_flags, make_flag
from hpatches_eval.metrics import check_ap_kind
from hpatches_eval.patch_files import check_patch_counts
from hpatches_eval.results import Results
from hpatches_eval.splits import Split, get_split
from hpatches_eval.task_files import TaskFiles
from hpatches_eval.tasks.matching import evaluate_matching
from hpatches_eval.tasks.retrieval import POOL_SIZES, evaluate_retrieval
from hpatches_eval.tasks.verification import evaluate_verification

TASKS = ("verification", "matching", "retrieval")


def _as_descriptor_set(descriptors, delimiter, name) -> DescriptorSet:
    if isinstance(descriptors, DescriptorSet):
        return descriptors
    if isinstance(descriptors, (str, os.PathLike)):
        return from_csv_dir(descriptors, delimiter=delimiter, name=name)
    if isinstance(descriptors, Mapping):
        return from_arrays(descriptors, name=name or "arrays")
    raise TypeError(
        "`descriptors` must be a DescriptorSet, a descriptor folder path or a mapping of arrays. "
        f"Received: {type(descriptors).__name__}"
    )


def _check_tasks(tasks) -> tuple[str, ...]:
    tasks = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    if tasks == ("all",):
        return TASKS
    unknown = [task for task in tasks if task not in TASKS]
    if unknown or not tasks:
        raise ValueError(f"`tasks` must be a non-empty subset of {TASKS} or 'all'. Received: tasks={tasks!r}")
    return tuple(task for task in TASKS if task in tasks)


def evaluate(
    descriptors,
    tasks_dir: str | os.PathLike | None = None,
    split: str | Split = "a",
    tasks=TASKS,
    distance: str = "L2",
    ap: str = "trapezoid",
    data_dir: str | os.PathLike | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    pools=POOL_SIZES,
    splits_file: str | os.PathLike | None = None,
) -> Results:
    """Evaluates descriptors on HPatches verification, matching and retrieval with the official protocol.

    Args:
        descriptors: a `DescriptorSet`, an official-format descriptor folder ``<dir>/<seq>/<type>.csv``, or a
            mapping ``{(seq, type): (N, D)}`` / ``{seq: {type: (N, D)}}``.
        tasks_dir: folder of task files (official ``tasks/`` or ``<dataset root>/tasks``); its
            ``splits/splits.json`` defines the splits. None: official splits, matching only.
        split: split name (or a `Split`); only its test sequences are evaluated.
        tasks: any of ``"verification"``, ``"matching"``, ``"retrieval"`` (or ``"all"``).
        distance: ``"L2"`` (default) or ``"L1"``.
        ap: ``"trapezoid"`` (official "AP", the area under the PR curve) or ``"standard"`` (mean precision at
            each positive).
        data_dir: optional dataset root or hpatches-release folder; descriptor row counts are checked against
            its patch PNGs.
        delimiter: CSV delimiter when ``descriptors`` is a folder (None = detect).
        name: descriptor name for the results (default: folder name / "arrays").
        pools: retrieval pool sizes.
        splits_file: a ``splits.json`` defining ``split`` (overrides the one of ``tasks_dir``).

    Returns:
        A `Results` (tables, summary, flat dict, JSON-able parameters and flags).

    Raises:
        ValueError: bad arguments, unknown split, verification/retrieval without task files.
        DescriptorError: missing sequence, inconsistent or non-finite descriptors, row counts not matching.
        TaskFileError: missing or invalid task files.
    """
    tasks = _check_tasks(tasks)
    check_distance(distance)
    check_ap_kind(ap)
    task_files = TaskFiles(tasks_dir) if tasks_dir is not None else None
    needs_files = [task for task in tasks if task != "matching"]
    if task_files is None and needs_files:
        raise ValueError(
            f"Tasks {needs_files} need task files: pass `tasks_dir` (the official hpatches-benchmark tasks/ folder "
            "or <dataset root>/tasks), or evaluate tasks=('matching',) only."
        )
    if isinstance(split, Split):
        split_obj = split
    elif splits_file is not None:
        split_obj = get_split(split, splits_file)
    else:
        split_obj = task_files.split(split) if task_files is not None else get_split(split)
    dset = _as_descriptor_set(descriptors, delimiter, name)
    dset.require(split_obj.test)
    for seq in split_obj.test:
        dset.sequence(seq)  # loads and validates now, so errors come before any long computation
    if data_dir is not None:
        check_patch_counts(dset, data_dir, split_obj.test)
    flags = descriptor_flags(dset, split_obj.test)
    params = {
        "descriptor": dset.name,
        "descriptor_source": dset.source,
        "descriptor_dim": dset.dim,
        "split": split_obj.name,
        "split_test_sequences": list(split_obj.test),
        "splits_file": _splits_source(split, splits_file, task_files),
        "tasks": list(tasks),
        "distance": distance,
        "ap": ap,
        "retrieval_pools": [int(k) for k in pools],
        "tasks_dir": str(Path(tasks_dir).resolve()) if tasks_dir is not None else None,
        "task_files": [],
        "data_dir": str(Path(data_dir).resolve()) if data_dir is not None else None,
        "package_version": __version__,
    }
    results = Results(params=params, flags=flags)

    if "verification" in tasks:
        if not task_files.has_verification(split_obj.name):
            missing = task_files.missing_verification(split_obj.name)
            if tasks == ("verification",):
                raise TaskFileError(f"Verification task files not found: {missing}")
            results.flags.append(make_flag("verification_skipped", f"verification skipped: no task files {missing}"))
        else:
            start = time.perf_counter()
            pairs, records = task_files.load_verification(split_obj.name)
            params["task_files"] += records
            paths = {key: record["path"] for key, record in zip(pairs, records)}
            grids = evaluate_verification(dset, pairs, distance, ap, paths=paths)
            results.verification_auc, results.verification_ap = grids["auc"], grids["ap"]
            results.timings["verification"] = time.perf_counter() - start
    if "matching" in tasks:
        start = time.perf_counter()
        results.matching = evaluate_matching(dset, split_obj.test, distance, ap)
        results.timings["matching"] = time.perf_counter() - start
    if "retrieval" in tasks:
        start = time.perf_counter()
        queries, distractors, records = task_files.load_retrieval(split_obj.name)
        params["task_files"] += records
        paths = (records[0]["path"], records[1]["path"])
        results.retrieval, _ = evaluate_retrieval(dset, queries, distractors, distance, ap, pools, paths)
        results.timings["retrieval"] = time.perf_counter() - start
    return results


def _splits_source(split, splits_file, task_files) -> str:
    """Where the split definition came from, for the results parameters."""
    if isinstance(split, Split):
        return "given Split object"
    if splits_file is not None:
        return str(splits_file)
    if task_files is not None and task_files.splits_file() is not None:
        return str(task_files.splits_file())
    return "official"
