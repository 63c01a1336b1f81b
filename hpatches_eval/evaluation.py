"""`evaluate`: run the HPatches tasks on a descriptor set and collect a `Results`.

It runs in two steps, `prepare` then `run`: `prepare` reads and validates **every** input (arguments, split,
descriptors of the test sequences and of any sequence a task file names, patch counts, task files and their rows)
without computing anything, so a bad input fails fast; `run` computes the tasks and the flags.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path

from hpatches_eval._version import __version__
from hpatches_eval.descriptor_sets import DescriptorSet, from_arrays, from_csv_dir
from hpatches_eval.distances import check_distance
from hpatches_eval.errors import DescriptorError, TaskFileError
from hpatches_eval.guards import descriptor_flags, make_flag
from hpatches_eval.metrics import check_ap_kind
from hpatches_eval.patch_files import check_patch_counts
from hpatches_eval.results import Results
from hpatches_eval.splits import Split, get_split
from hpatches_eval.task_files import TaskFiles
from hpatches_eval.tasks import retrieval as retrieval_task
from hpatches_eval.tasks import verification as verification_task
from hpatches_eval.tasks.matching import evaluate_matching
from hpatches_eval.tasks.retrieval import NUM_POSITIVES, POOL_SIZES, evaluate_retrieval
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


def _check_pools(pools) -> tuple[int, ...]:
    try:
        sizes = tuple(int(k) for k in pools)
        whole = all(float(k) == size for k, size in zip(pools, sizes))
    except (TypeError, ValueError, OverflowError):
        sizes, whole = (), False
    if not sizes or not whole or min(sizes) < NUM_POSITIVES:
        raise ValueError(f"`pools` must be pool sizes >= {NUM_POSITIVES} (integers). Received: pools={pools!r}")
    return sizes


@dataclasses.dataclass
class PreparedEvaluation:
    """Validated inputs of one evaluation (see `prepare`); `run` computes it.

    Attributes:
        descriptors: the descriptor set, every sequence needed already loaded and validated.
        split: the split evaluated.
        tasks: the tasks to run, in `TASKS` order.
        params: the JSON-able parameters written in the results.
        verification: ``(pairs, records)`` of the verification files; None when not run.
        verification_missing: verification files missing with ``tasks="all"`` (the task is then skipped, flagged).
        retrieval: ``(queries, distractors, records)`` of the retrieval files; None when not run.
    """

    descriptors: DescriptorSet
    split: Split
    tasks: tuple[str, ...]
    params: dict
    verification: tuple | None = None
    verification_missing: list = dataclasses.field(default_factory=list)
    retrieval: tuple | None = None


def prepare(
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
) -> PreparedEvaluation:
    """Reads and validates every input of `evaluate` (same arguments) without computing any task.

    Raises:
        ValueError, DescriptorError, TaskFileError, FileNotFoundError: as `evaluate`; all of them before any work.
    """
    tasks = _check_tasks(tasks)
    check_distance(distance)
    check_ap_kind(ap)
    pools = _check_pools(pools) if "retrieval" in tasks else tuple(pools)
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
    try:
        dset.require(split_obj.test)
    except DescriptorError as error:
        source = _splits_source(split, splits_file, task_files)
        where = "the official HPatches splits" if source == "official" else source
        raise DescriptorError(f"{error} Split {split_obj.name!r} is defined by {where}.") from None
    for seq in split_obj.test:
        dset.sequence(seq)  # loads and validates now, so errors come before any long computation
    if data_dir is not None:
        check_patch_counts(dset, data_dir, split_obj.test)
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
    prepared = PreparedEvaluation(descriptors=dset, split=split_obj, tasks=tasks, params=params)
    if "verification" in tasks:
        if not task_files.has_verification(split_obj.name):
            missing = task_files.missing_verification(split_obj.name)
            if tasks == ("verification",):
                raise TaskFileError(f"Verification task files not found: {missing}")
            prepared.verification_missing = missing
        else:
            pairs, records = task_files.load_verification(split_obj.name)
            verification_task.check_pairs(dset, pairs, {key: r["path"] for key, r in zip(pairs, records)})
            prepared.verification = (pairs, records)
    if "retrieval" in tasks:
        queries, distractors, records = task_files.load_retrieval(split_obj.name)
        retrieval_task.check_rows(dset, queries, distractors, (records[0]["path"], records[1]["path"]))
        prepared.retrieval = (queries, distractors, records)
    return prepared


def run(prepared: PreparedEvaluation) -> Results:
    """Computes the tasks of a `prepare`-d evaluation, with the flags of anything suspicious."""
    dset, split_obj, params = prepared.descriptors, prepared.split, dict(prepared.params)
    params["task_files"] = list(params["task_files"])
    distance, ap, pools = params["distance"], params["ap"], tuple(params["retrieval_pools"])
    results = Results(params=params, flags=descriptor_flags(dset, split_obj.test))
    if prepared.verification_missing:
        results.flags.append(make_flag(
            "verification_skipped", f"verification skipped: no task files {prepared.verification_missing}"))
    if prepared.verification is not None:
        start = time.perf_counter()
        pairs, records = prepared.verification
        params["task_files"] += records
        paths = {key: record["path"] for key, record in zip(pairs, records)}
        grids = evaluate_verification(dset, pairs, distance, ap, paths=paths)
        results.verification_auc, results.verification_ap = grids["auc"], grids["ap"]
        results.timings["verification"] = time.perf_counter() - start
    if "matching" in prepared.tasks:
        start = time.perf_counter()
        results.matching = evaluate_matching(dset, split_obj.test, distance, ap)
        results.timings["matching"] = time.perf_counter() - start
    if prepared.retrieval is not None:
        start = time.perf_counter()
        queries, distractors, records = prepared.retrieval
        params["task_files"] += records
        paths = (records[0]["path"], records[1]["path"])
        results.flags += retrieval_task.pool_flags(queries, distractors, pools)
        results.retrieval, _ = evaluate_retrieval(dset, queries, distractors, distance, ap, pools, paths)
        results.timings["retrieval"] = time.perf_counter() - start
    return results


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

    Every input is read and validated first (`prepare`), then the tasks run (`run`).

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
        pools: retrieval pool sizes (integers >= 5).
        splits_file: a ``splits.json`` defining ``split`` (overrides the one of ``tasks_dir``).

    Returns:
        A `Results` (tables, summary, flat dict, JSON-able parameters and flags). Flags (also warned as
        `EvaluationWarning`) mark numbers that are not what they seem: constant or collapsed descriptors (over
        the split and per sequence), retrieval pools without distractors or shorter than their size, skipped
        verification.

    Raises:
        ValueError: bad arguments, unknown split, verification/retrieval without task files.
        DescriptorError: missing sequence, inconsistent or non-finite descriptors, row counts not matching.
        TaskFileError: missing or invalid task files.
    """
    return run(prepare(descriptors, tasks_dir, split, tasks, distance, ap, data_dir, delimiter, name, pools,
                       splits_file))


def _splits_source(split, splits_file, task_files) -> str:
    """Where the split definition came from, for the results parameters."""
    if isinstance(split, Split):
        return "given Split object"
    if splits_file is not None:
        return str(splits_file)
    if task_files is not None and task_files.splits_file() is not None:
        return str(task_files.splits_file())
    return "official"
