"""Evaluation results: full tables, the coursework summary, a flat dict, and JSON save/load.

Summary (coursework aggregation, protocol B.5): verification = mean of the 6 imbalanced APs (e/h/t x
inter/intra); matching = mean over e/h/t of the per-level mAP; retrieval = mean of the 21 (level, pool) cells;
``mean`` = mean of the three (None unless all three were evaluated).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from hpatches_eval.patch_types import NOISE_LEVELS
from hpatches_eval.tasks.matching import summarise_matching

SCHEMA_VERSION = 1


@dataclasses.dataclass
class Results:
    """Everything one `evaluate` call produced.

    Attributes:
        params: every parameter that changes the numbers (split, distance, ap, task files, descriptor name, ...).
        verification_auc: balanced ROC-AUC, index level (e, h, t) x columns (inter, intra); None if not run.
        verification_ap: imbalanced AP, same layout; None if not run.
        matching: one row per (seq, level, image) with columns ``seq, level, image, ap, sr``; None if not run.
        retrieval: mAP, index level (e, h, t, mean) x one column per pool size; None if not run.
        flags: ``{"code", "message"}`` entries for anything suspicious (also raised as warnings).
        timings: seconds per task.
    """

    params: dict
    verification_auc: pd.DataFrame | None = None
    verification_ap: pd.DataFrame | None = None
    matching: pd.DataFrame | None = None
    retrieval: pd.DataFrame | None = None
    flags: list = dataclasses.field(default_factory=list)
    timings: dict = dataclasses.field(default_factory=dict)

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
        """Inverse of `to_dict`.

        Raises:
            ValueError: if ``schema_version`` is not supported.
        """
        version = data.get("schema_version") if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise ValueError(f"`schema_version` must be {SCHEMA_VERSION}. Received: schema_version={version!r}")
        results = cls(params=data.get("params", {}), flags=data.get("flags", []), timings=data.get("timings", {}))
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
        """Writes the JSON atomically (temp file in the same folder + ``os.replace``); returns the path."""
        return write_json_atomic(self.to_dict(), path)

    def __str__(self) -> str:
        from hpatches_eval.tables import format_results

        return format_results(self)


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
    """Writes ``data`` as JSON to ``path`` through a temp file and ``os.replace`` (never a half-written file).

    Raises:
        ValueError: if ``data`` holds NaN or infinity (not valid JSON).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, default=_json_default, allow_nan=False)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_results(path: str | os.PathLike) -> Results:
    """Reads a results JSON written by `Results.save`.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if it is not a results JSON of a supported schema version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Results file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"Results file {path} is not valid JSON: {error}") from error
    return Results.from_dict(data)

