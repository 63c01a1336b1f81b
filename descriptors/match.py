"""`python -m descriptors.match IMG1 IMG2`: match two images and estimate the homography from IMG1 to IMG2.

Detects keypoints (SIFT by default), describes them (OpenCV SIFT by default, or the shipped model with
``--descriptor default``, a pipeline folder, a ``.keras`` descriptor file, ``sift-patches``), matches them
(mutual nearest neighbours, optional ratio test), runs MAGSAC++ (or RANSAC) and prints the keypoint, match and
inlier counts and the homography. ``--out`` draws the matches (inliers green, outliers red) to a png,
``--json`` writes the same numbers (and the matched points) to a file.

Exit codes: 0 success (also when no homography is found: the message says why), 1 unreadable image or model,
2 bad options (argparse, or an option the matcher rejects such as ``--max-side 8``).
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

from descriptors.errors import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m descriptors.match", description=__doc__.split("\n\n")[0])
    parser.add_argument("image1", help="first image (the homography maps it to the second)")
    parser.add_argument("image2", help="second image")
    parser.add_argument("--out", help="png of the matches (inliers green, outliers red)")
    parser.add_argument("--json", help="write keypoints/matches/inliers counts, the homography and points here")
    parser.add_argument("--detector", default="sift", choices=("sift", "orb", "akaze"))
    parser.add_argument("--descriptor", default="sift",
                        help="sift (OpenCV SIFT on the image), sift-patches, default (shipped model), a pipeline "
                             "folder or a .keras descriptor file (default: sift)")
    parser.add_argument("--max-keypoints", type=int, default=2000)
    parser.add_argument("--max-side", type=int, default=None,
                        help="downscale images whose longer side exceeds this (results stay in original pixels)")
    parser.add_argument("--ratio", type=float, default=None, help="Lowe ratio test (e.g. 0.8); off by default")
    parser.add_argument("--no-mutual", action="store_true", help="do not require mutual nearest neighbours")
    parser.add_argument("--estimator", default="magsac", choices=("magsac", "ransac"))
    parser.add_argument("--threshold", type=float, default=3.0, help="inlier threshold in (working) pixels")
    parser.add_argument("--draw-max-side", type=int, default=1600, help="longer side of each drawn image")
    return parser


def run(args) -> dict:
    from descriptors.matching.drawing import draw_matches, write_png
    from descriptors.matching.image_matching import ImageMatcher
    from descriptors.matching.images import read_image

    matcher = ImageMatcher(args.descriptor, args.detector, args.max_keypoints, args.max_side,
                           mutual=not args.no_mutual, ratio=args.ratio, estimator=args.estimator,
                           threshold=args.threshold)
    image1, image2 = read_image(args.image1), read_image(args.image2)
    result = matcher.match(image1, image2)
    summary = {"image1": args.image1, "image2": args.image2, "detector": args.detector,
               "descriptor": matcher.name, **result.summary(with_matches=True)}
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
        from hpatches_eval.results import write_json_atomic

        print(f"wrote {write_json_atomic(summary, args.json)}")
    return summary


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad options: argparse prints the usage and exits with 2
    for name in ("max_keypoints", "max_side", "draw_max_side"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"`{name}` must be a positive integer. Received: {name}={value}")
    if args.ratio is not None and not 0.0 < args.ratio <= 1.0:
        parser.error(f"`ratio` must be in (0, 1]. Received: ratio={args.ratio}")
    if not args.threshold > 0:
        parser.error(f"`threshold` must be positive. Received: threshold={args.threshold}")
    try:
        run(args)
    except ConfigError as error:  # an option the matcher rejects (e.g. --max-side 8, akaze without AKAZE)
        print(f"descriptors.match: error: {error}", file=sys.stderr)
        return 2
    except (OSError, ValueError, TypeError, cv2.error) as error:  # unreadable image or model
        print(f"descriptors.match: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
