"""Evaluation results: full tables, the coursework summary, a flat dict, and JSON save/load.

Summary (coursework aggregation, protocol B.5): verification = mean of the 6 imbalanced APs (e/h/t x
inter/intra); matching = mean over e/h/t of the per-level mAP; retrieval = mean of the 21 (level, pool) cells;
``mean`` = mean of the three (None unless all three were evaluated).

A loaded file keeps what it holds: `Results.stored_summary` / ``stored_flat`` are the numbers written in it (what
``show`` prints), and `load_results` adds a ``stored_summary_mismatch`` flag when they differ from the ones
recomputed from the stored per-sequence/per-cell numbers (an edited file, or one written by other code).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import pandas as pd

from hpatches_eval.guards import make_flag
from hpatches_eval.output_safety import staged_file
from hpatches_eval.patch_types import NOISE_LEVELS
from hpatches_eval.tasks.matching import summarise_matching
from hpatches_eval.results_schema import check_results_dict

SCHEMA_VERSION = 1
_MISMATCH_REL_TOL = 1e-9


@dataclasses.dataclass
class Results:
    """Everything one `evaluate` call produced.

    Attributes:
        params: every parameter that changes the numbers (split, distance, ap, task files, descriptor name, ...).
        verification_auc: balanced ROC-AUC, index level (e, h, t) x columns (inter, intra); None if not run.
        verification_ap: imbalanced AP, same layout; None if not run.
        matching: one row per (seq, level, image) with columns ``seq, level, image, ap, sr``; None if not run.
        retrieval: mAP, index level (e, h, t, mean) x one column per pool size; None if not run.
        flags: ``{"code", "message", ...}`` entries for anything suspicious (also raised as warnings).
        timings: seconds per task.
        stored_summary: the summary written in the file this was loaded from (None when computed here).
        stored_flat: the flat dict written in that file (None when computed here or absent).
    """

    params: dict
    verification_auc: pd.DataFrame | None = None
    verification_ap: pd.DataFrame | None = None
    matching: pd.DataFrame | None = None
    retrieval: pd.DataFrame | None = None
    flags: list = dataclasses.field(default_factory=list)
    timings: dict = dataclasses.field(default_factory=dict)
    stored_summary: dict | None = None
    stored_flat: dict | None = None

    @property
    def matching_by_level(self) -> pd.DataFrame | None:
        """Per-level mAP (``map``) and mean success rate (``msr``)."""
        return None if self.matching is None else summarise_matching(self.matching)[0]

    @property
    def matching_by_category(self) -> pd.DataFrame | None:
        """Per-level mAP split into illumination (i) and viewpoint (v) sequences."""
        return None if self.matching is None else summarise_matching(self.matching)[1]

    @property
    def summary(self) -> dict:
        """Coursework numbers: ``verification``, ``matching``, ``retrieval`` and their ``mean`` (None if absent)."""
        out = {"verification": None, "matching": None, "retrieval": None}
        if self.verification_ap is not None:
            out["verification"] = float(self.verification_ap.to_numpy().mean())
        if self.matching is not None:
            out["matching"] = float(self.matching_by_level["map"].mean())
        if self.retrieval is not None:
            out["retrieval"] = float(self.retrieval.loc[list(NOISE_LEVELS)].to_numpy().mean())
        values = list(out.values())
        out["mean"] = None if any(v is None for v in values) else float(sum(values) / 3.0)
        return out

    @property
    def shown_summary(self) -> dict:
        """The summary to print: the stored one of a loaded file (what it holds), else `summary`."""
        return self.summary if self.stored_summary is None else dict(self.stored_summary)

    def stored_mismatches(self) -> list[dict]:
        """Stored numbers (summary, flat) that differ from the ones recomputed from the stored details.

        Returns:
            ``[{"key", "stored", "recomputed"}]`` (keys of the flat dict, ``summary.<name>`` for the summary);
            empty for results computed here or a consistent file.
        """
        if self.stored_summary is None:
            return []
        mismatches = []
        recomputed = self.flat()
        pairs = [(f"summary.{key}", self.stored_summary.get(key), value) for key, value in self.summary.items()]
        pairs += [(f"summary.{key}", value, None) for key, value in self.stored_summary.items()
                  if key not in self.summary]
        if self.stored_flat is not None:
            keys = (set(self.stored_flat) | set(recomputed)) - {"summary"}
            pairs += [(key, self.stored_flat.get(key), recomputed.get(key)) for key in sorted(keys)]
        if self.retrieval is not None and "mean" in self.retrieval.index:
            means = self.retrieval.loc[list(NOISE_LEVELS)].mean(axis=0)
            pairs += [(f"retrieval.map.mean[{pool}]", float(self.retrieval.loc["mean", pool]), float(means[pool]))
                      for pool in self.retrieval.columns]
        for key, stored, value in pairs:
            if not _same_number(stored, value):
                mismatches.append({"key": key, "stored": stored, "recomputed": value})
        return mismatches

    def flat(self) -> dict:
        """Flat dict with the keys of the official fixture (``verif_e_inter_ap``, ``match_e_map``, ...)."""
        out = {}
        if self.verification_ap is not None:
            for level in self.verification_ap.index:
                for neg in self.verification_ap.columns:
                    out[f"verif_{level}_{neg}_ap"] = float(self.verification_ap.loc[level, neg])
                    out[f"verif_{level}_{neg}_auc"] = float(self.verification_auc.loc[level, neg])
        if self.matching is not None:
            for level, value in self.matching_by_level["map"].items():
                out[f"match_{level}_map"] = float(value)
        if self.retrieval is not None:
            for level in NOISE_LEVELS:
                for pool in self.retrieval.columns:
                    out[f"retr_{level}_{pool}_map"] = float(self.retrieval.loc[level, pool])
        out["summary"] = self.summary
        return out

    def to_dict(self) -> dict:
        """JSON-ready dict (``schema_version`` 1)."""
        out = {
            "schema_version": SCHEMA_VERSION,
            "params": self.params,
            "summary": self.summary,
            "flat": self.flat(),
            "flags": list(self.flags),
            "timings": dict(self.timings),
        }
        if self.verification_ap is not None:
            out["verification"] = {
                "auc": _grid(self.verification_auc),
                "ap": _grid(self.verification_ap),
            }
        if self.matching is not None:
            out["matching"] = {"per_pair": self.matching.to_dict(orient="records")}
        if self.retrieval is not None:
            out["retrieval"] = {
                "pools": [int(c) for c in self.retrieval.columns],
                "map": {level: [float(v) for v in row] for level, row in self.retrieval.iterrows()},
            }
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Results:
        """Inverse of `to_dict`; keeps the stored ``summary`` and ``flat`` (`stored_summary`, `stored_flat`).

        Raises:
            ValueError: if ``schema_version`` is not supported or the dict is not shaped like a results file
                (the message names the first wrong entry).
        """
        if not isinstance(data, dict):
            raise ValueError(f"a results file must hold a JSON object. Received: {type(data).__name__}")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"`schema_version` must be {SCHEMA_VERSION}. Received: schema_version={version!r}")
        check_results_dict(data)
        results = cls(params=data.get("params", {}), flags=[dict(flag) for flag in data.get("flags", [])],
                      timings=data.get("timings", {}), stored_summary=dict(data["summary"]),
                      stored_flat=dict(data["flat"]) if "flat" in data else None)
        if "verification" in data:
            results.verification_auc = _frame(data["verification"]["auc"])
            results.verification_ap = _frame(data["verification"]["ap"])
        if "matching" in data:
            results.matching = pd.DataFrame.from_records(data["matching"]["per_pair"])
        if "retrieval" in data:
            retr = data["retrieval"]
            results.retrieval = pd.DataFrame.from_dict(retr["map"], orient="index", columns=retr["pools"])
            results.retrieval.index.name = "level"
        return results

    def save(self, path: str | os.PathLike) -> Path:
        """Writes the JSON atomically (`write_json_atomic`: staged next to ``path``, renamed); returns the path."""
        return write_json_atomic(self.to_dict(), path)

    def __str__(self) -> str:
        from hpatches_eval.tables import format_results

        return format_results(self)


def _same_number(stored, value) -> bool:
    if stored is None or value is None:
        return stored is None and value is None
    if isinstance(stored, dict) or isinstance(value, dict):
        return False
    return math.isclose(float(stored), float(value), rel_tol=_MISMATCH_REL_TOL, abs_tol=1e-12)


def _grid(frame: pd.DataFrame) -> dict:
    return {str(level): {str(col): float(frame.loc[level, col]) for col in frame.columns} for level in frame.index}


def _frame(grid: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(grid, orient="index").astype(float)
    frame.index.name = "level"
    return frame


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def write_json_atomic(data: dict, path: str | os.PathLike) -> Path:
    """Writes ``data`` as JSON to ``path`` through a hidden staging file and ``os.replace`` (never half-written).

    The staging file is ``.<name>.tmp-<pid>-<token>.<suffix>`` next to ``path``; one left by a killed process is
    removed by the next write of the same path (`hpatches_eval.output_safety.staged_file`).

    Raises:
        ValueError: if ``data`` holds NaN or infinity (not valid JSON); nothing is written then.
    """
    path = Path(path)
    text = json.dumps(data, indent=1, default=_json_default, allow_nan=False)
    with staged_file(path) as temp:
        with open(temp, "w") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
    return path


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def load_results(path: str | os.PathLike) -> Results:
    """Reads a results JSON written by `Results.save`, keeping the numbers it holds.

    When the stored summary (or flat dict) differs from the one recomputed from the stored details, a
    ``stored_summary_mismatch`` flag (with ``mismatches``) is added to ``flags`` and warned.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if it is not a results JSON of a supported schema version (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Results file not found: {path}")
    try:
        data = json.loads(path.read_bytes(), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, bad UTF-8, NaN/Infinity, absurd nesting
        raise ValueError(f"Results file {path} is not valid JSON: {one_line(error)}") from error
    try:
        results = Results.from_dict(data)
    except ValueError as error:
        raise ValueError(f"Results file {path} is not an hpatches_eval results file: {one_line(error)}") from error
    mismatches = results.stored_mismatches()
    if mismatches:
        results.flags.append(make_flag(
            "stored_summary_mismatch",
            f"{path}: the stored numbers disagree with the ones recomputed from its per-sequence/per-cell numbers: "
            f"{describe_mismatches(mismatches)}. The stored numbers are shown; the file was edited or written by "
            "other code.",
            mismatches=mismatches,
        ))
    return results


def describe_mismatches(mismatches: list[dict], shown: int = 4) -> str:
    """``"key stored a vs recomputed b; ..."`` for the first ``shown`` mismatches, and how many more there are."""
    text = "; ".join(f"{m['key']} stored {m['stored']!r} vs recomputed {m['recomputed']!r}"
                     for m in mismatches[:shown])
    return text + (f" (and {len(mismatches) - shown} more)" if len(mismatches) > shown else "")


def one_line(message: object) -> str:
    """``message`` on one line (runs of whitespace collapsed)."""
    return " ".join(str(message).split())
