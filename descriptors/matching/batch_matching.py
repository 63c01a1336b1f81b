"""Many pairs in one process: the model is loaded once, bad pairs become rows with a reason, not an exception.

`match_pairs` runs one `ImageMatcher` over a list of `PairSpec` (a CSV pair list or the pairs 1-k of sequence
folders, see `pair_lists`) and returns one row per pair with the metrics of `sequence_evaluation.pair_row`
(``matches``, ``inliers``, ``correct@t``, ``mma@t``, ``corner_error``; a match is correct at t px when the
ground-truth homography maps its image-1 point within t px of its image-2 point), plus ``status`` (``ok`` /
``error``), ``homography_found``, ``reason`` (why there is no homography, or why the pair could not be read)
and the seconds spent on it. A pair whose files are missing, unreadable or malformed (an image OpenCV cannot
decode, a homography file that is not 3 rows of 3 finite numbers or is singular) gets ``status = "error"`` and
the batch goes on; a failure of the matcher itself (e.g. the model) is not a bad pair and propagates.

`write_pair_results` writes ``pairs.csv`` and ``summary.json`` into a folder.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from descriptors.data.sequences import read_homography
from descriptors.matching.images import read_image, to_gray_uint8
from descriptors.matching.pair_lists import PairSpec
from descriptors.matching.sequence_evaluation import HOMOGRAPHY_THRESHOLDS, THRESHOLDS, pair_row
from descriptors.progress import tqdm

INPUT_ERRORS = (OSError, ValueError, TypeError)  # DataFormatError and ShapeError are ValueErrors
TIMING_COLUMNS = ("seconds", "read_s", "detect_s", "extract_s", "describe_s", "match_s")


def _load(spec: PairSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two grey images and the homography of a pair; raises the reading error naming the file."""
    if spec.problem:
        raise ValueError(spec.problem)
    truth = read_homography(spec.homography)
    return to_gray_uint8(read_image(spec.image1)), to_gray_uint8(read_image(spec.image2)), truth


def _base(spec: PairSpec) -> dict:
    return {"name": spec.name, "pair": spec.pair, "kind": spec.kind, "line": spec.row, "image1": spec.text[0],
            "image2": spec.text[1], "homography_file": spec.text[2]}


def _error_row(spec: PairSpec, error: BaseException, thresholds) -> dict:
    reason = " ".join(str(error).split()) or type(error).__name__
    row = {**_base(spec), "status": "error", "keypoints1": 0, "keypoints2": 0, "matches": 0, "inliers": 0}
    for t in thresholds:
        row[f"correct@{t}"] = 0
        row[f"mma@{t}"] = float("nan")
    row.update({"corner_error": float("nan"), "homography_found": False, "inlier_ratio": float("nan"),
                "homography": "", "reason": reason})
    return row


def match_pairs(pairs, matcher, thresholds=THRESHOLDS, progress: bool = True,
                reuse_features: bool = True) -> pd.DataFrame:
    """Matches every pair with one matcher; bad pairs become ``status = "error"`` rows.

    Args:
        pairs: `PairSpec` objects (`pair_lists.read_pair_list`).
        matcher: an `ImageMatcher` (its model is loaded once, when it is built).
        thresholds: pixel thresholds of the matching accuracy. Defaults to 1..10.
        progress: tqdm bar over pairs.
        reuse_features: reuse image 1's features when consecutive pairs share it (the pairs 1-k of a sequence).
            Turn off to time every pair with both images described.

    Returns:
        One row per pair, in order: ``name, pair, kind, line, image1, image2, homography_file, status,
        keypoints1, keypoints2, matches, inliers, correct@t, mma@t, corner_error, homography_found,
        inlier_ratio, homography`` (the estimate's 9 entries, row-major, blank without one), ``reason`` and the
        seconds ``seconds`` (the whole pair), ``read_s``, ``detect_s``, ``extract_s``, ``describe_s`` (both
        images; 0 for a reused image 1) and ``match_s`` (matching and robust estimation). ``corner_error`` is
        inf without a homography and NaN (like ``mma@t``) for a bad pair.
    """
    rows = []
    cached_key, cached = None, None
    for spec in tqdm(list(pairs), desc="pairs", disable=not progress, leave=False):
        start = time.perf_counter()
        try:
            image1, image2, truth = _load(spec)
        except INPUT_ERRORS as error:
            rows.append({**_error_row(spec, error, thresholds), **dict.fromkeys(TIMING_COLUMNS, 0.0),
                         "seconds": time.perf_counter() - start})
            continue
        read_s = time.perf_counter() - start
        key = str(Path(spec.image1).resolve())  # the same file twice in a row: the pairs 1-k of a sequence
        if reuse_features and key == cached_key:
            features1, timings1 = cached, {}
        else:
            features1 = matcher.features(image1)
            timings1 = features1.timings
        features2 = matcher.features(image2)
        cached_key, cached = key, features1
        match_start = time.perf_counter()
        result = matcher.match_features(features1, features2)
        match_s = time.perf_counter() - match_start
        found = result.homography is not None
        row = {**_base(spec), "status": "ok", **pair_row(result, truth, thresholds)}
        reason = row.pop("message")
        row.update({"homography_found": found, "inlier_ratio": result.inlier_ratio,
                    "homography": " ".join(f"{v:.10g}" for v in result.homography.ravel()) if found else "",
                    "reason": reason})
        timing = {f"{stage}_s": timings1.get(stage, 0.0) + features2.timings[stage]
                  for stage in ("detect", "extract", "describe")}
        row.update({"seconds": time.perf_counter() - start, "read_s": read_s, **timing, "match_s": match_s})
        rows.append(row)
    return pd.DataFrame(rows)


def _number(value):
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def summarize_pairs(table: pd.DataFrame, homography_thresholds=HOMOGRAPHY_THRESHOLDS) -> dict:
    """Counts and means of a `match_pairs` table, JSON-ready.

    Means are over the evaluated pairs (``status == "ok"``); ``hacc@t`` is the fraction of them whose corner
    error is <= t px (a pair without a homography counts as a miss); bad pairs are counted and listed with their
    reason, never averaged.
    """
    ok = table[table["status"] == "ok"] if len(table) else table
    bad = table[table["status"] != "ok"] if len(table) else table
    out = {"pairs": int(len(table)), "evaluated": int(len(ok)), "bad_pairs": int(len(bad)),
           "with_homography": int(ok["homography_found"].sum()) if len(ok) else 0}
    if len(ok):
        columns = ["matches", "inliers"] + [c for c in ok.columns if c.startswith(("correct@", "mma@"))]
        out["mean"] = {c: _number(float(ok[c].mean())) for c in columns}
        out["hacc"] = {f"hacc@{t}": float((ok["corner_error"] <= t).mean()) for t in homography_thresholds}
        out["median_corner_error"] = _number(float(ok["corner_error"].median()))
        out["mean_seconds"] = {c: float(ok[c].mean()) for c in TIMING_COLUMNS}
    out["bad"] = [{"line": int(r["line"]), "name": r["name"], "pair": r["pair"], "reason": r["reason"]}
                  for r in bad.to_dict("records")]
    return out


def write_pair_results(table: pd.DataFrame, folder: str | Path, summary: dict) -> list[Path]:
    """Writes ``pairs.csv`` (the table; inf/NaN as ``inf`` / empty) and ``summary.json`` into ``folder``."""
    import json

    folder = Path(folder)
    csv_path, json_path = folder / "pairs.csv", folder / "summary.json"
    table.to_csv(csv_path, index=False, float_format="%.6g")
    json_path.write_text(json.dumps(summary, indent=1, allow_nan=False) + "\n")
    return [csv_path, json_path]
