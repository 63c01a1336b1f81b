"""HPatches over several splits: ``evaluate_splits`` runs each split and combines them as papers report them.

Papers report HPatches as the mean over the splits ``a``, ``b`` and ``c`` (each: 40 test sequences, 20 ``i_`` and
20 ``v_``); ``illum``, ``view`` and ``full`` overlap them, so ``"all"`` evaluates every official split found but
averages over ``a``, ``b``, ``c`` only (all the splits found when none of those is there).

Combined numbers (`MultiSplitResults.combined`): for every summary number (``verification``, ``matching``,
``retrieval``, ``mean``; see `hpatches_eval.results`) and every figure cell (`figure_cells`: per noise level and
negative type / sequence category / level), the **mean** over the splits averaged and their **sample standard
deviation** (n - 1 in the denominator; null for a single split), plus ``n``. A number that some split lacks (task
not run) is null. Flags of any split carry into the combined result with the split's name
(``{"split": "b", "code": ..., "message": "split 'b': ..."}``).

JSON format (``"kind": "hpatches_eval.multi_split"``, ``schema_version`` 1)::

    {"kind": "hpatches_eval.multi_split", "schema_version": 1,
     "splits": ["a", "b", "c"], "mean_over": ["a", "b", "c"],
     "params": {"descriptor": ..., "distance": ..., "ap": ..., "tasks": [...]},
     "combined": {"n": 3,
                  "summary": {"mean": {"verification": ..., ...}, "std": {...}},
                  "cells": {"mean": {"verif_e_inter_ap": ..., "match_e_v_map": ..., "retr_e_map": ...},
                            "std": {...}}},
     "flags": [...],
     "per_split": {"a": <a single-split results JSON object>, ...}}

`load_multi_split` checks every per-split object as `hpatches_eval.load_results` does and recomputes the combined
numbers; when the stored ones differ, it adds a ``stored_combined_mismatch`` flag.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from hpatches_eval.evaluation import TASKS, _as_descriptor_set, _check_tasks, prepare, run
from hpatches_eval.guards import make_flag
from hpatches_eval.patch_types import NOISE_LEVELS
from hpatches_eval.results import Results, _reject_constant, describe_mismatches, one_line, write_json_atomic
from hpatches_eval.results_schema import SUMMARY_KEYS
from hpatches_eval.splits import load_splits
from hpatches_eval.task_files import RETRIEVAL_FILES, VERIFICATION_FILES, TaskFiles
from hpatches_eval.tasks.retrieval import POOL_SIZES

KIND = "hpatches_eval.multi_split"
SCHEMA_VERSION = 1
OFFICIAL_SPLITS = ("a", "b", "c", "illum", "view", "full")
PAPER_SPLITS = ("a", "b", "c")
NEGATIVES = ("inter", "intra")
CATEGORIES = ("i", "v")
_REL_TOL = 1e-9


def figure_cells(results: Results) -> dict:
    """The numbers of the HPatches figure for one result (fractions; absent task -> no keys).

    Keys: ``verif_<level>_<inter|intra>_ap`` (imbalanced AP), ``match_<level>_map`` and
    ``match_<level>_<i|v>_map`` (illumination / viewpoint sequences), ``retr_<level>_map`` (mean over the pool
    sizes), for level in e, h, t.
    """
    cells = {}
    if results.verification_ap is not None:
        for level in results.verification_ap.index:
            for neg in results.verification_ap.columns:
                cells[f"verif_{level}_{neg}_ap"] = float(results.verification_ap.loc[level, neg])
    if results.matching is not None:
        for level, value in results.matching_by_level["map"].items():
            cells[f"match_{level}_map"] = float(value)
        by_category = results.matching_by_category
        for level in by_category.index:
            for category in by_category.columns:
                value = by_category.loc[level, category]
                if not (isinstance(value, float) and math.isnan(value)):
                    cells[f"match_{level}_{category}_map"] = float(value)
    if results.retrieval is not None:
        for level in NOISE_LEVELS:
            if level in results.retrieval.index:
                cells[f"retr_{level}_map"] = float(results.retrieval.loc[level].mean())
    return cells


def _mean_std(values: list) -> tuple[float | None, float | None]:
    if not values or any(v is None for v in values):
        return None, None
    array = np.asarray(values, dtype=np.float64)
    std = float(array.std(ddof=1)) if array.size > 1 else None
    return float(array.mean()), std


def combine(per_split: dict, mean_over) -> dict:
    """Mean and sample std over the splits ``mean_over`` of the summaries and figure cells of ``per_split``.

    Args:
        per_split: ``{split name: Results}``.
        mean_over: the split names averaged (a subset of ``per_split``).

    Returns:
        ``{"n", "summary": {"mean", "std"}, "cells": {"mean", "std"}}`` (see the module docstring).
    """
    chosen = [per_split[name] for name in mean_over]
    summaries = [r.summary for r in chosen]
    cells = [figure_cells(r) for r in chosen]
    out = {"n": len(chosen), "summary": {"mean": {}, "std": {}}, "cells": {"mean": {}, "std": {}}}
    for key in SUMMARY_KEYS:
        out["summary"]["mean"][key], out["summary"]["std"][key] = _mean_std([s[key] for s in summaries])
    order = {"verif": 0, "match": 1, "retr": 2}
    keys = sorted(set().union(*cells), key=lambda k: (order.get(k.split("_")[0], 3), k)) if cells else []
    for key in keys:
        out["cells"]["mean"][key], out["cells"]["std"][key] = _mean_std([c.get(key) for c in cells])
    return out


class MultiSplitResults:
    """The results of one descriptor on several splits, and their combination.

    Attributes:
        per_split: ``{split name: Results}`` in the order evaluated.
        mean_over: the splits averaged in `combined`.
        params: the parameters shared by every split (descriptor, distance, ap, tasks).
        stored_combined: the combined numbers written in the file this was loaded from (None when computed here).
        load_flags: flags added when loading (``stored_combined_mismatch``).
    """

    def __init__(self, per_split: dict, mean_over, params: dict, stored_combined: dict | None = None,
                 load_flags: list | None = None):
        self.per_split = dict(per_split)
        self.mean_over = list(mean_over)
        self.params = dict(params)
        self.stored_combined = stored_combined
        self.load_flags = list(load_flags or [])

    @property
    def splits(self) -> list[str]:
        """The split names, in the order evaluated."""
        return list(self.per_split)

    @property
    def combined(self) -> dict:
        """Mean and std over `mean_over` (recomputed from the per-split results)."""
        return combine(self.per_split, self.mean_over)

    @property
    def shown_combined(self) -> dict:
        """What to print: the stored combination of a loaded file (what it holds), else `combined`."""
        return self.combined if self.stored_combined is None else self.stored_combined

    @property
    def flags(self) -> list[dict]:
        """Every split's flags, with ``split`` and the split's name in the message, then the load flags."""
        out = []
        for name, results in self.per_split.items():
            for flag in results.flags:
                out.append({**flag, "split": name, "message": f"split {name!r}: {flag.get('message')}"})
        return out + self.load_flags

    def to_dict(self) -> dict:
        """JSON-ready dict (format in the module docstring)."""
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "splits": self.splits,
            "mean_over": self.mean_over,
            "params": self.params,
            "combined": self.combined,
            "flags": [flag for flag in self.flags if flag.get("code") != "stored_combined_mismatch"],
            "per_split": {name: results.to_dict() for name, results in self.per_split.items()},
        }

    def save(self, path: str | os.PathLike) -> Path:
        """Writes the JSON atomically (staged next to ``path``, renamed); returns the path."""
        return write_json_atomic(self.to_dict(), path)

    def __str__(self) -> str:
        from hpatches_eval.tables import format_multi_split

        return format_multi_split(self)


def available_splits(tasks_dir: str | os.PathLike | None, tasks=TASKS,
                     splits_file: str | os.PathLike | None = None) -> list[str]:
    """The official splits (a, b, c, illum, view, full, in that order) that ``split="all"`` evaluates.

    A split counts when its splits file defines it and, for tasks that need task files, ``tasks_dir`` holds its
    retrieval files (retrieval requested) or its verification files (verification only).
    """
    tasks = _check_tasks(tasks)
    task_files = TaskFiles(tasks_dir) if tasks_dir is not None else None
    source = splits_file if splits_file is not None else (task_files.splits_file() if task_files else None)
    defined = load_splits(source)
    names = [name for name in OFFICIAL_SPLITS if name in defined]
    if task_files is None:
        return names
    if "retrieval" in tasks:
        return [n for n in names if all(task_files.path(s, n).is_file() for s in RETRIEVAL_FILES.values())]
    if "verification" in tasks:
        return [n for n in names if all(task_files.path(s, n).is_file() for s in VERIFICATION_FILES.values())]
    return names


def parse_splits(split, tasks_dir=None, tasks=TASKS, splits_file=None) -> tuple[list[str], list[str]]:
    """Split names and the ones averaged, from ``"a,b,c"``, ``"all"`` or a list of names.

    Returns:
        ``(splits, mean_over)``: ``mean_over`` is ``splits``, except for ``"all"``: a, b, c among them (all of
        them when none of a, b, c is there).

    Raises:
        ValueError: an empty name, a repeated name, or ``"all"`` with no official split available.
    """
    if isinstance(split, str):
        if split.strip() == "all":
            names = available_splits(tasks_dir, tasks, splits_file)
            if not names:
                where = f"in {tasks_dir}" if tasks_dir is not None else "defined"
                raise ValueError(f"`split` 'all' found none of the official splits {list(OFFICIAL_SPLITS)} {where} "
                                 f"(with the task files of tasks {list(_check_tasks(tasks))}).")
            paper = [n for n in names if n in PAPER_SPLITS]
            return names, paper or names
        names = [part.strip() for part in split.split(",")]
    else:
        names = [str(part) for part in split]
    if not names or any(not name for name in names):
        raise ValueError(f"`split` must be split names separated by commas (e.g. 'a,b,c') or 'all'. "
                         f"Received: split={split!r}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"`split` names each split once. Received: split={split!r} (repeated: {repeated})")
    if "all" in names:
        raise ValueError(f"`split` 'all' cannot be combined with other names. Received: split={split!r}")
    return names, list(names)


def prepare_splits(descriptors, tasks_dir=None, split="a,b,c", tasks=TASKS, distance="L2", ap="trapezoid",
                   data_dir=None, delimiter=None, name=None, pools=POOL_SIZES, splits_file=None):
    """Reads and validates every input of every split (`hpatches_eval.evaluation.prepare`) before any work.

    Returns:
        ``(prepared, mean_over)``: ``{split: PreparedEvaluation}`` and the split names averaged.
    """
    names, mean_over = parse_splits(split, tasks_dir, tasks, splits_file)
    dset = _as_descriptor_set(descriptors, delimiter, name)  # one set: each sequence is read once
    prepared = {}
    for split_name in names:
        prepared[split_name] = prepare(dset, tasks_dir, split_name, tasks, distance, ap, data_dir, delimiter,
                                       name, pools, splits_file)
    return prepared, mean_over


def run_splits(prepared: dict, mean_over) -> MultiSplitResults:
    """Runs `prepare_splits`' evaluations, one split after the other."""
    per_split = {name: run(item) for name, item in prepared.items()}
    first = next(iter(per_split.values())).params
    params = {key: first.get(key) for key in ("descriptor", "descriptor_source", "descriptor_dim", "tasks",
                                              "distance", "ap", "retrieval_pools", "tasks_dir", "package_version")}
    return MultiSplitResults(per_split, mean_over, params)


def evaluate_splits(
    descriptors,
    tasks_dir: str | os.PathLike | None = None,
    split="a,b,c",
    tasks=TASKS,
    distance: str = "L2",
    ap: str = "trapezoid",
    data_dir: str | os.PathLike | None = None,
    delimiter: str | None = None,
    name: str | None = None,
    pools=POOL_SIZES,
    splits_file: str | os.PathLike | None = None,
) -> MultiSplitResults:
    """Evaluates descriptors on several splits and combines them (mean and std over the splits, as papers report).

    Every split's inputs are read and validated first; then each split is evaluated exactly as `evaluate` does.

    Args:
        descriptors: as `hpatches_eval.evaluate` (a `DescriptorSet`, a descriptor folder or a mapping of arrays);
            it must hold every test sequence of every split.
        split: ``"a,b,c"``, a list of names, or ``"all"`` (the official splits that exist, see
            `available_splits`; averaged over a, b, c).
        tasks_dir, tasks, distance, ap, data_dir, delimiter, name, pools, splits_file: as `evaluate`.

    Returns:
        A `MultiSplitResults` (per-split `Results`, the combined mean / std, every split's flags).

    Raises:
        ValueError, DescriptorError, TaskFileError, FileNotFoundError: as `evaluate`, for any split, before any
            work; a bad ``split`` list.
    """
    prepared, mean_over = prepare_splits(descriptors, tasks_dir, split, tasks, distance, ap, data_dir, delimiter,
                                         name, pools, splits_file)
    return run_splits(prepared, mean_over)


def is_multi_split(data) -> bool:
    """Whether a loaded JSON object is a multi-split results file."""
    return isinstance(data, dict) and data.get("kind") == KIND


def _same(stored, value) -> bool:
    if stored is None or value is None:
        return stored is None and value is None
    if not isinstance(stored, (int, float)) or isinstance(stored, bool):
        return False
    return math.isclose(float(stored), float(value), rel_tol=_REL_TOL, abs_tol=1e-12)


def _mismatches(stored: dict, recomputed: dict) -> list[dict]:
    out = []
    if stored.get("n") != recomputed["n"]:
        out.append({"key": "n", "stored": stored.get("n"), "recomputed": recomputed["n"]})
    for part in ("summary", "cells"):
        for stat in ("mean", "std"):
            have = (stored.get(part) or {}).get(stat) or {}
            want = recomputed[part][stat]
            for key in sorted(set(have) | set(want)):
                if not _same(have.get(key), want.get(key)):
                    out.append({"key": f"{part}.{stat}.{key}", "stored": have.get(key),
                                "recomputed": want.get(key)})
    return out


def _check_combined(combined) -> None:
    """Raises ValueError naming the first entry of ``combined`` that is not shaped as `combine` writes it."""
    if not isinstance(combined, dict):
        raise ValueError("`combined` must be a JSON object (the mean and std over the splits).")
    if not isinstance(combined.get("n"), int) or isinstance(combined.get("n"), bool) or combined["n"] < 1:
        raise ValueError(f"`combined.n` must be an integer >= 1. Received: {combined.get('n')!r}")
    for part in ("summary", "cells"):
        for stat in ("mean", "std"):
            values = (combined.get(part) or {}).get(stat) if isinstance(combined.get(part), dict) else None
            if not isinstance(values, dict):
                raise ValueError(f"`combined.{part}.{stat}` must be a JSON object. Received: {values!r}")
            for key, value in values.items():
                number = isinstance(value, (int, float)) and not isinstance(value, bool)
                if value is not None and (not number or not 0.0 <= value <= 1.0):
                    raise ValueError(f"`combined.{part}.{stat}.{key}` must be a number in [0, 1] or null. "
                                     f"Received: {value!r}")


def multi_split_from_dict(data: dict, source: str = "the file") -> MultiSplitResults:
    """Inverse of `MultiSplitResults.to_dict`; checks its shape and every per-split object.

    Raises:
        ValueError: naming the first wrong entry.
    """
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"`schema_version` must be {SCHEMA_VERSION}. Received: {data.get('schema_version')!r}")
    per_split_data = data.get("per_split")
    if not isinstance(per_split_data, dict) or not per_split_data:
        raise ValueError(f"`per_split` must be a non-empty object of split results. Received: "
                         f"{type(per_split_data).__name__}")
    splits, mean_over = data.get("splits"), data.get("mean_over")
    if not isinstance(splits, list) or splits != list(per_split_data):
        raise ValueError(f"`splits` must list the keys of `per_split` in order. Received: {splits!r}")
    if not isinstance(mean_over, list) or not mean_over or any(m not in per_split_data for m in mean_over):
        raise ValueError(f"`mean_over` must be a non-empty list of splits among {splits}. Received: {mean_over!r}")
    per_split, load_flags = {}, []
    for name, item in per_split_data.items():
        try:
            results = Results.from_dict(item)
        except ValueError as error:
            raise ValueError(f"`per_split.{name}`: {one_line(error)}") from error
        for mismatch in results.stored_mismatches():
            load_flags.append({"key": f"per_split.{name}.{mismatch['key']}", "stored": mismatch["stored"],
                               "recomputed": mismatch["recomputed"]})
        per_split[name] = results
    _check_combined(data.get("combined"))
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"`params` must be a JSON object. Received: {type(params).__name__}")
    multi = MultiSplitResults(per_split, mean_over, params, stored_combined=data["combined"])
    mismatches = load_flags + _mismatches(data["combined"], multi.combined)
    if mismatches:
        multi.load_flags.append(make_flag(
            "stored_combined_mismatch",
            f"{source}: the stored numbers disagree with the ones recomputed from its per-split numbers: "
            f"{describe_mismatches(mismatches)}. The stored numbers are shown; the file was edited or written by "
            "other code.",
            mismatches=mismatches,
        ))
    return multi


def read_results_json(path: str | os.PathLike):
    """Reads a results JSON: a `Results` (one split) or a `MultiSplitResults`.

    Raises:
        FileNotFoundError: if ``path`` is not a file.
        ValueError: if it is not valid JSON or not one of the two results formats (the message names the file).
    """
    from hpatches_eval.results import load_results

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Results file not found: {path}")
    try:
        data = json.loads(path.read_bytes(), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"Results file {path} is not valid JSON: {one_line(error)}") from error
    if is_multi_split(data):
        try:
            return multi_split_from_dict(data, source=str(path))
        except ValueError as error:
            raise ValueError(f"Results file {path} is not a valid multi-split results file: {one_line(error)}") \
                from error
    return load_results(path)


def load_multi_split(path: str | os.PathLike) -> MultiSplitResults:
    """Reads a multi-split results JSON written by `MultiSplitResults.save`.

    Raises:
        FileNotFoundError, ValueError: as `read_results_json`; ValueError too for a single-split file.
    """
    results = read_results_json(path)
    if not isinstance(results, MultiSplitResults):
        raise ValueError(f"Results file {path} holds one split, not a multi-split result (`kind` {KIND!r}).")
    return results


__all__ = ["MultiSplitResults", "available_splits", "combine", "evaluate_splits", "figure_cells",
           "load_multi_split", "parse_splits", "read_results_json"]
