"""`python -m descriptors.match IMG1 IMG2`: match two images and estimate the homography from IMG1 to IMG2.

``python -m descriptors.match --pairs LIST.csv --out DIR`` matches many pairs in one process (the model is
loaded once) against their ground-truth homographies: LIST is a CSV with the header ``image1,image2,homography``
(optional ``name``; relative paths are relative to the CSV's folder) or a folder of sequence folders (pairs 1-k,
2..6 images each). DIR (a new folder, or one this command wrote, replaced with ``--overwrite``) receives
``pairs.csv`` (one row per pair: matches, inliers, MMA@1..10, corner error, homography found or not, reason,
seconds) and ``summary.json``. A pair whose files are missing or malformed is a row with ``status=error`` and its
reason, not a failure; the command fails (exit 1, after writing DIR) only when no pair at all could be evaluated.

Detects keypoints (SIFT by default), describes them (OpenCV SIFT by default, or the shipped model with
``--descriptor default``, a pipeline folder, a ``.keras`` descriptor file, ``sift-patches``), matches them
(mutual nearest neighbours, optional ratio test), runs MAGSAC++ (or RANSAC) and prints the keypoint, match and
inlier counts and the homography. ``--out`` draws the matches (inliers green, outliers red) to a png,
``--json`` writes the same numbers (and the matched points) to a file.

No answer rather than a wrong one: the homography is reported only with at least ``--min-inliers`` inliers
(default 15) and an inlier ratio (inliers / matches) of at least ``--min-inlier-ratio`` (default 0.1), and only
when it is not degenerate (finite, no corner of IMG1 beyond the horizon, area change within 1000x, not
near-singular). Otherwise the command prints ``homography: none (no reliable homography: ...)`` and the JSON has
``"homography": null`` and a ``"reason"``. The defaults separate the 40 real pairs of the matching benchmark
(at least 83 inliers, ratio at least 0.127) from unrelated pairs (at most 8 inliers); see docs/matching.md.

Bounded memory: images whose longer side exceeds ``--max-side`` (default 2000; 0 = no limit) are matched on a
downscaled copy, at most ``--max-keypoints`` (default 2000) per image; results are in original pixels. Two
6000x6000 images peak at 1.3 GB resident with the defaults (8.7 GB with ``--max-side 0``).

Exit codes (the contract of `hpatches_eval.cli_contract`): 0 success, also when there is no reliable homography
(the message says why); 2 bad options or inputs, found before any work (a missing, unreadable, undecodable or
tiny image, an option out of range, an output that cannot be written or would overwrite an input, a
``--descriptor`` that cannot be loaded); 1 a failure during the work. Errors are one line on stderr.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError
from descriptors.matching.image_matching import DEFAULT_MAX_SIDE, DEFAULT_MIN_INLIER_RATIO, DEFAULT_MIN_INLIERS
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_dir, check_output_file, staged_dir, staged_file

PROG = "python -m descriptors.match"
MIN_IMAGE_SIDE = 16  # smaller images hold no usable keypoint (SIFT's border alone is 5 px)
BUILTIN_DESCRIPTORS = ("sift", "opencv-sift", "sift-patches", "default")
RESULTS_KIND = "match-results"  # the marker kind of a --pairs output folder (hpatches_eval.output_safety)


class NoPairEvaluated(RuntimeError):
    """``--pairs`` wrote its results but none of the pairs could be read (exit 1, one line)."""


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("image1", nargs="?", help="first image (the homography maps it to the second)")
    parser.add_argument("image2", nargs="?", help="second image")
    parser.add_argument("--pairs", metavar="LIST",
                        help="match many pairs with ground truth instead: a CSV (image1,image2,homography[,name]) "
                             "or a folder of sequence folders; needs --out DIR")
    parser.add_argument("--out", help="png of the matches (inliers green, outliers red); with --pairs the results "
                                      "folder (pairs.csv, summary.json)")
    parser.add_argument("--overwrite", action="store_true",
                        help="with --pairs: replace an --out folder this command wrote before")
    parser.add_argument("--json", help="write keypoints/matches/inliers counts, the homography and points here")
    parser.add_argument("--detector", default="sift", choices=("sift", "orb", "akaze"))
    parser.add_argument("--descriptor", default="sift",
                        help="sift (OpenCV SIFT on the image), sift-patches, default (shipped model), a pipeline "
                             "folder or a .keras descriptor file (default: sift)")
    parser.add_argument("--max-keypoints", type=int, default=2000, help="strongest keypoints per image (2000)")
    parser.add_argument("--max-side", type=int, default=DEFAULT_MAX_SIDE,
                        help=f"downscale images whose longer side exceeds this, >= 16; 0 = never (default "
                             f"{DEFAULT_MAX_SIDE}; results stay in original pixels)")
    parser.add_argument("--ratio", type=float, default=None, help="Lowe ratio test (e.g. 0.8); off by default")
    parser.add_argument("--no-mutual", action="store_true", help="do not require mutual nearest neighbours")
    parser.add_argument("--estimator", default="magsac", choices=("magsac", "ransac"))
    parser.add_argument("--threshold", type=float, default=3.0, help="inlier threshold in (working) pixels")
    parser.add_argument("--min-inliers", type=int, default=DEFAULT_MIN_INLIERS,
                        help=f"fewer inliers: no reliable homography (default {DEFAULT_MIN_INLIERS})")
    parser.add_argument("--min-inlier-ratio", type=float, default=DEFAULT_MIN_INLIER_RATIO,
                        help=f"lower inliers / matches: no reliable homography (default {DEFAULT_MIN_INLIER_RATIO})")
    parser.add_argument("--draw-max-side", type=int, default=1600, help="longer side of each drawn image, >= 16")
    return parser


def check_options(args) -> None:
    """Raises UsageError for an option out of range (before any work)."""
    if args.max_keypoints < 1:
        raise UsageError(f"`--max-keypoints` must be an integer >= 1. Received: --max-keypoints={args.max_keypoints}")
    if args.max_side != 0 and args.max_side < 16:
        raise UsageError(f"`--max-side` must be 0 (no limit) or an integer >= 16. Received: --max-side={args.max_side}")
    if args.draw_max_side < 16:
        raise UsageError(f"`--draw-max-side` must be an integer >= 16. Received: --draw-max-side={args.draw_max_side}")
    if args.ratio is not None and not (math.isfinite(args.ratio) and 0.0 < args.ratio <= 1.0):
        raise UsageError(f"`--ratio` must be a number in (0, 1]. Received: --ratio={args.ratio}")
    if not (math.isfinite(args.threshold) and args.threshold > 0):
        raise UsageError(f"`--threshold` must be a positive finite number of pixels. "
                         f"Received: --threshold={args.threshold}")
    if args.min_inliers < 0:
        raise UsageError(f"`--min-inliers` must be an integer >= 0. Received: --min-inliers={args.min_inliers}")
    if not (math.isfinite(args.min_inlier_ratio) and 0.0 <= args.min_inlier_ratio <= 1.0):
        raise UsageError(f"`--min-inlier-ratio` must be a number in [0, 1]. "
                         f"Received: --min-inlier-ratio={args.min_inlier_ratio}")
    from descriptors.matching.keypoints import available_detectors

    if args.detector not in available_detectors():
        raise UsageError(f"`--detector` {args.detector!r} is not available in this OpenCV build. "
                         f"Received: --detector={args.detector}; available: {', '.join(available_detectors())}")
    if args.descriptor in ("sift", "opencv-sift") and args.detector != "sift":
        raise UsageError(f"`--descriptor sift` (OpenCV SIFT) needs `--detector sift`; use `--descriptor sift-patches` "
                         f"with other detectors. Received: --detector={args.detector}")


def _descriptor_path(spec: str) -> Path | None:
    return None if spec in BUILTIN_DESCRIPTORS else Path(spec)


def check_outputs(args) -> None:
    """Raises UsageError for an output that cannot be written or would replace an input (before any work)."""
    inputs = [args.image1, args.image2]
    descriptor_path = _descriptor_path(args.descriptor)
    if descriptor_path is not None and descriptor_path.exists():
        inputs.append(descriptor_path)
    if args.out is not None:
        if Path(args.out).suffix.lower() != ".png":
            raise UsageError(f"`--out` must be a .png file. Received: --out={args.out!r}")
        check_output_file(args.out, inputs=inputs, what="--out")
    if args.json is not None:
        check_output_file(args.json, inputs=inputs, what="--json")
    if args.out is not None and args.json is not None and \
            os.path.realpath(os.path.abspath(args.out)) == os.path.realpath(os.path.abspath(args.json)):
        raise UsageError(f"`--out` and `--json` must be different files. Received: --out={args.out!r}, "
                         f"--json={args.json!r}")


def load_image(path: str, name: str) -> np.ndarray:
    """Reads and decodes an input image; UsageError when it is missing, unreadable, undecodable or tiny."""
    from descriptors.matching.images import read_image, to_gray_uint8

    try:
        image = read_image(path)
        gray = to_gray_uint8(image)
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(f"`{name}`: {error}") from None
    if min(gray.shape) < MIN_IMAGE_SIDE:
        raise UsageError(f"`{name}` must be at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels. "
                         f"Received: {path!r} of {gray.shape[1]}x{gray.shape[0]}")
    return image


def load_describer(spec: str):
    """The describer of ``--descriptor``; UsageError when a user's model cannot be loaded."""
    from descriptors.matching.describers import resolve_describer

    path = _descriptor_path(spec)
    if path is None:
        return resolve_describer(spec)  # built in; a broken shipped model is a failure (exit 1), not bad input
    if path.is_file() and path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise UsageError(f"`--descriptor` {spec!r} could not be loaded as a .keras descriptor file: it is not a "
                         f"zip archive ({path.stat().st_size} bytes)")
    try:
        return resolve_describer(spec)
    except ConfigError:
        raise  # not a known name nor a path: the message says what is accepted
    except Exception as error:  # noqa: BLE001 (any loader failure means the user's file is not a model)
        text = " ".join(str(error).split()) or type(error).__name__
        raise UsageError(f"`--descriptor` {spec!r} could not be loaded as a pipeline folder or a .keras descriptor "
                         f"file: {text}") from None


def _write_json(summary: dict, path: str) -> None:
    text = json.dumps(summary, indent=1, allow_nan=False)
    with staged_file(path) as temp:
        temp.write_text(text + "\n")


def check_mode(args) -> None:
    """Raises UsageError unless the arguments make one mode: IMG1 IMG2, or --pairs LIST --out DIR."""
    if args.pairs is None:
        if args.image1 is None or args.image2 is None:
            missing = "image1, image2" if args.image1 is None else "image2"
            raise UsageError(f"the following arguments are required: {missing} (or --pairs LIST.csv --out DIR)")
        if args.overwrite:
            raise UsageError("`--overwrite` only applies with `--pairs` (a results folder); the two-image mode "
                             "replaces its --out and --json files anyway")
        return
    if args.image1 is not None:
        raise UsageError(f"give either IMG1 IMG2 or `--pairs LIST`, not both. Received: --pairs={args.pairs!r} "
                         f"and image {args.image1!r}")
    if args.out is None:
        raise UsageError(f"`--pairs` needs `--out DIR`, the results folder. Received: --pairs={args.pairs!r} "
                         "without --out")
    if args.json is not None:
        raise UsageError(f"`--json` is not used with `--pairs`: the summary is written to --out/summary.json. "
                         f"Received: --json={args.json!r}")


def read_pairs(args) -> list:
    """The pairs of ``--pairs``; UsageError when the list itself is missing or malformed (bad rows are kept)."""
    from descriptors.matching.pair_lists import read_pair_list

    try:
        return read_pair_list(args.pairs, "--pairs")
    except (OSError, ValueError) as error:
        raise UsageError(" ".join(str(error).split())) from None


def check_pairs_output(args, pairs: list) -> Path:
    """Checks ``--out`` as a results folder before any work: it may not hold (or lie in) an input."""
    from descriptors.matching.pair_lists import input_paths

    inputs = [Path(args.pairs), *input_paths(pairs)]
    descriptor_path = _descriptor_path(args.descriptor)
    if descriptor_path is not None and descriptor_path.exists():
        inputs.append(descriptor_path)
    return check_output_dir(args.out, kind=RESULTS_KIND, overwrite=args.overwrite, inputs=inputs, what="--out")


def run_pairs(args, pairs: list, describer, load_seconds: float) -> dict:
    """The work of ``--pairs``: matches every pair, writes ``pairs.csv`` and ``summary.json`` into ``--out``."""
    from descriptors.matching.batch_matching import match_pairs, summarize_pairs, write_pair_results
    from descriptors.matching.image_matching import ImageMatcher

    matcher = ImageMatcher(describer, args.detector, args.max_keypoints, args.max_side or None,
                           mutual=not args.no_mutual, ratio=args.ratio, estimator=args.estimator,
                           threshold=args.threshold, min_inliers=args.min_inliers,
                           min_inlier_ratio=args.min_inlier_ratio)
    start = time.perf_counter()
    table = match_pairs(pairs, matcher, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - start
    summary = {"pairs_list": args.pairs, "detector": args.detector, "descriptor": matcher.name,
               "max_side": args.max_side or None, "max_keypoints": args.max_keypoints, "mutual": not args.no_mutual,
               "ratio": args.ratio, "estimator": args.estimator, "threshold": args.threshold,
               "min_inliers": args.min_inliers, "min_inlier_ratio": args.min_inlier_ratio,
               **summarize_pairs(table), "model_load_seconds": load_seconds, "matching_seconds": seconds}
    with staged_dir(args.out, kind=RESULTS_KIND) as staging:
        write_pair_results(table, staging, summary)
    print(f"pairs: {summary['pairs']}, evaluated {summary['evaluated']}, bad {summary['bad_pairs']}, "
          f"with a reliable homography {summary['with_homography']}")
    if summary["evaluated"]:
        mean, hacc = summary["mean"], summary["hacc"]
        print(f"MMA@1/3/5: {mean['mma@1']:.3f} / {mean['mma@3']:.3f} / {mean['mma@5']:.3f}; homography accuracy "
              f"@1/3/5 px: {hacc['hacc@1']:.3f} / {hacc['hacc@3']:.3f} / {hacc['hacc@5']:.3f}")
    print(f"{seconds:.1f} s for {len(table)} pairs ({seconds / max(len(table), 1):.2f} s per pair; model loaded once "
          f"in {load_seconds:.1f} s)")
    print(f"wrote {args.out}")
    if not summary["evaluated"]:
        first = summary["bad"][0]
        where = f"{first['name']} {first['pair']}" if first["pair"] else f"line {first['line']}"
        raise NoPairEvaluated(f"none of the {summary['pairs']} pairs could be evaluated (first, {where}: "
                              f"{first['reason']}); every reason is in {os.path.join(args.out, 'pairs.csv')}")
    return summary


def run(args, image1: np.ndarray, image2: np.ndarray, describer) -> dict:
    """The work: matches the two decoded images, prints the result, writes ``--out`` and ``--json``."""
    from descriptors.matching.drawing import draw_matches, write_png
    from descriptors.matching.image_matching import ImageMatcher

    matcher = ImageMatcher(describer, args.detector, args.max_keypoints, args.max_side or None,
                           mutual=not args.no_mutual, ratio=args.ratio, estimator=args.estimator,
                           threshold=args.threshold, min_inliers=args.min_inliers,
                           min_inlier_ratio=args.min_inlier_ratio)
    result = matcher.match(image1, image2)
    summary = {"image1": args.image1, "image2": args.image2, "detector": args.detector,
               "descriptor": matcher.name, "max_side": args.max_side or None, "max_keypoints": args.max_keypoints,
               "min_inliers": args.min_inliers, "min_inlier_ratio": args.min_inlier_ratio,
               **result.summary(with_matches=True)}
    for index, features in enumerate((result.features1, result.features2), start=1):
        if features.rescale.scale != 1.0:
            height, width = features.shape
            print(f"image {index}: {width}x{height}, matched at {round(width * features.rescale.scale_x)}x"
                  f"{round(height * features.rescale.scale_y)} (--max-side {args.max_side}); results in original "
                  "pixels")
    print(f"keypoints: {len(result.features1.keypoints)} / {len(result.features2.keypoints)}")
    print(f"matches:   {len(result.matches)}")
    print(f"inliers:   {int(result.inliers.sum())}")
    if result.homography is None:
        print(f"homography: none ({result.message})")
    else:
        print("homography (image1 -> image2):")
        print(np.array2string(result.homography, precision=6, suppress_small=True))
    if args.out:
        canvas = draw_matches(image1, image2, result.points1, result.points2, result.inliers, args.draw_max_side)
        print(f"wrote {write_png(args.out, canvas)}")
    if args.json:
        _write_json(summary, args.json)
        print(f"wrote {args.json}")
    return summary


def _body(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    check_mode(args)
    check_options(args)
    if args.pairs is not None:
        pairs = read_pairs(args)  # the list is read and the output checked before any model is loaded
        check_pairs_output(args, pairs)
        start = time.perf_counter()
        describer = load_describer(args.descriptor)
        run_pairs(args, pairs, describer, time.perf_counter() - start)
        return 0
    check_outputs(args)
    image1 = load_image(args.image1, "image1")  # decoded before any model is loaded
    image2 = load_image(args.image2, "image2")
    describer = load_describer(args.descriptor)
    run(args, image1, image2, describer)
    return 0


def main(argv=None) -> int:
    """Runs the command; returns 0 ok, 1 failure during the work, 2 bad options or inputs (one line on stderr)."""
    return run_command(PROG, _body, argv, usage_errors=(ConfigError,),
                       interrupted_hint="interrupted; no output was written")


if __name__ == "__main__":
    sys.exit(main())
