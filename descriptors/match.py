"""`python -m descriptors.match IMG1 IMG2`: match two images and estimate the homography from IMG1 to IMG2.

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
import zipfile
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError
from descriptors.matching.image_matching import DEFAULT_MAX_SIDE, DEFAULT_MIN_INLIER_RATIO, DEFAULT_MIN_INLIERS
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_file, staged_file

PROG = "python -m descriptors.match"
MIN_IMAGE_SIDE = 16  # smaller images hold no usable keypoint (SIFT's border alone is 5 px)
BUILTIN_DESCRIPTORS = ("sift", "opencv-sift", "sift-patches", "default")


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("image1", help="first image (the homography maps it to the second)")
    parser.add_argument("image2", help="second image")
    parser.add_argument("--out", help="png of the matches (inliers green, outliers red)")
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
    check_options(args)
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
