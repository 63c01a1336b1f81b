"""Matching evaluation on image sequences with ground-truth homographies (hpatches-sequences-release format).

For each sequence and each pair 1-k (k = 2..n; n = 6 in HPatches, 2..6 in general, see
`descriptors.data.sequences`), every method matches image 1 to image k. A CSV pair list (`pair_lists`) is
accepted too: each row is one pair "1-2" named by its ``name`` column. A match is correct at
threshold t when the reference keypoint mapped through the ground-truth ``H_1_k`` lands at most t pixels from the
target keypoint (the D2-Net convention, ``<=``; original image pixels). Per pair:

- ``mma@t`` = correct / matches (0 when there is no match) and ``correct@t`` the count, t = 1..10;
- ``corner_error``: mean distance of the 4 image corners mapped by the estimated and the true homography
  (``inf`` without an estimate); homography accuracy ``hacc@t`` is the fraction of pairs with error <= t.

Tables average over pairs (all, per sequence, per ``i``/``v`` kind); image 1's features are computed once per
sequence and method.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from descriptors.data.sequences import ImageSequence, list_sequence_folders, read_homography, read_image_sequence
from descriptors.errors import ConfigError, DataFormatError
from descriptors.matching.homography import corner_error, reprojection_errors
from descriptors.matching.images import read_image, to_gray_uint8
from descriptors.matching.pair_lists import read_pair_list
from descriptors.progress import tqdm
from hpatches_eval.results import write_json_atomic

THRESHOLDS = tuple(range(1, 11))
HOMOGRAPHY_THRESHOLDS = (1, 3, 5)


def _sequences(source):
    if isinstance(source, (str, Path)) and Path(source).is_file():
        return (_pair_sequence(spec) for spec in read_pair_list(source, "sequences"))  # one pair in memory
    if isinstance(source, (str, Path)):
        return [read_image_sequence(folder) for folder in list_sequence_folders(source)]
    return [s if isinstance(s, ImageSequence) else read_image_sequence(s) for s in source]


def _pair_sequence(spec) -> ImageSequence:
    """A CSV pair as a 2-image sequence named after the pair (raises on a bad row, naming its line)."""
    if spec.problem:
        raise DataFormatError(f"Pair list row {spec.label}: {spec.problem}")
    truth = read_homography(spec.homography)
    images = [to_gray_uint8(read_image(spec.image1)), to_gray_uint8(read_image(spec.image2))]
    return ImageSequence(spec.name, images, [truth])


def _matchers(matchers) -> dict:
    if isinstance(matchers, dict):
        out = dict(matchers)
    else:
        matchers = list(matchers) if isinstance(matchers, (list, tuple)) else [matchers]
        out = {m.name: m for m in matchers}
        if len(out) != len(matchers):
            raise ConfigError(f"`matchers` must have distinct names; pass a dict label -> matcher. "
                              f"Received names: {[m.name for m in matchers]}")
    if not out:
        raise ConfigError("`matchers` must hold at least one ImageMatcher. Received: none")
    return out


def pair_row(result, truth: np.ndarray, thresholds=THRESHOLDS) -> dict:
    """Metrics of one matched pair against its ground-truth homography (see the module docstring)."""
    errors = reprojection_errors(truth, result.points1, result.points2)
    row = {"keypoints1": len(result.features1.keypoints), "keypoints2": len(result.features2.keypoints),
           "matches": len(errors), "inliers": int(result.inliers.sum())}
    for t in thresholds:
        correct = int(np.sum(errors <= t))
        row[f"correct@{t}"] = correct
        row[f"mma@{t}"] = correct / len(errors) if len(errors) else 0.0
    row["corner_error"] = corner_error(result.homography, truth, result.features1.shape)
    row["message"] = result.message
    return row


def evaluate_sequences(sequences, matchers, thresholds=THRESHOLDS, progress: bool = True) -> pd.DataFrame:
    """Runs every matcher on every pair 1-k of every sequence.

    Args:
        sequences: a folder of sequence folders (2..6 images each), a CSV pair list (`pair_lists`), a list of
            sequence folders, or `ImageSequence` objects.
        matchers: an `ImageMatcher`, a list of them (labelled by ``name``) or a dict ``label -> ImageMatcher``.
        thresholds: pixel thresholds of the matching accuracy. Defaults to 1..10.
        progress: tqdm bar over sequences.

    Returns:
        One row per (method, sequence, pair): ``method, sequence, kind, pair, keypoints1, keypoints2, matches,
        inliers, correct@t, mma@t, corner_error, message``.

    Raises:
        FileNotFoundError, DataFormatError: unreadable sequences or pairs (the first one stops the evaluation; the
            command line's ``--pairs`` mode reports bad pairs instead). ConfigError: bad ``matchers``.
    """
    matchers = _matchers(matchers)
    rows = []
    for sequence in tqdm(_sequences(sequences), desc="sequences", disable=not progress, leave=False):
        for label, matcher in matchers.items():
            reference = matcher.features(sequence.images[0])
            for k, truth in enumerate(sequence.homographies, start=2):
                result = matcher.match_features(reference, matcher.features(sequence.images[k - 1]))
                rows.append({"method": label, "sequence": sequence.name, "kind": sequence.name[:1],
                             "pair": f"1-{k}", **pair_row(result, truth, thresholds)})
    return pd.DataFrame(rows)


def thresholds_of(pairs: pd.DataFrame) -> list[int]:
    """The MMA thresholds present in a pair table, in order."""
    return sorted(int(c.split("@")[1]) for c in pairs.columns if c.startswith("mma@"))


def summarize(pairs: pd.DataFrame, by: str | None = "kind",
              homography_thresholds=HOMOGRAPHY_THRESHOLDS) -> pd.DataFrame:
    """Averages a pair table over pairs, per method and per ``by`` (``"kind"``, ``"sequence"`` or None: all).

    Returns:
        Columns ``pairs``, ``keypoints``, ``matches``, ``inliers``, ``correct@t``, ``mma@t`` (means over pairs),
        ``corner_error`` (median; inf if most pairs have no estimate) and ``hacc@t`` (fraction of pairs whose
        corner error is <= t), indexed by ``method`` (in order of appearance) and ``by`` (sorted).
    """
    if by not in (None, "kind", "sequence"):
        raise ConfigError(f"`by` must be None, 'kind' or 'sequence'. Received: by={by!r}")
    keys = ["method"] + ([by] if by else [])
    methods = pd.Categorical(pairs["method"], categories=list(dict.fromkeys(pairs["method"])))
    frame = pairs.assign(keypoints=(pairs["keypoints1"] + pairs["keypoints2"]) / 2.0, method=methods)
    for t in homography_thresholds:
        frame[f"hacc@{t}"] = (frame["corner_error"] <= t).astype(float)
    means = [c for c in frame.columns if c.startswith(("correct@", "mma@", "hacc@"))]
    grouped = frame.groupby(keys, sort=True, observed=True)  # methods in given order, then kinds/sequences sorted
    out = grouped[["keypoints", "matches", "inliers", *means]].mean()
    out.insert(0, "pairs", grouped.size())
    out["corner_error"] = grouped["corner_error"].median()
    return out


def _finite_or_none(value):
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _finite_or_none(v) for k, v in row.items()} for row in frame.reset_index().to_dict("records")]


def evaluation_dict(pairs: pd.DataFrame) -> dict:
    """JSON-ready results: thresholds, overall / per-kind / per-sequence summaries and the pair rows.

    Infinite corner errors (no homography) are written as null.
    """
    return {"thresholds": thresholds_of(pairs), "homography_thresholds": list(HOMOGRAPHY_THRESHOLDS),
            "overall": _records(summarize(pairs, None)), "per_kind": _records(summarize(pairs, "kind")),
            "per_sequence": _records(summarize(pairs, "sequence")), "pairs": _records(pairs)}


def write_evaluation(pairs: pd.DataFrame, path: str | Path, extra: dict | None = None) -> Path:
    """Writes `evaluation_dict` (plus ``extra`` keys) as JSON, atomically."""
    return write_json_atomic({**(extra or {}), **evaluation_dict(pairs)}, path)
