"""Command line: build an HPatches-layout dataset from your own image sequences.

    python -m descriptors.data.build SEQUENCES_DIR OUT_DIR [--seed 0] [--test-fraction 0.33] ...

``SEQUENCES_DIR`` holds hpatches-sequences-release folders (``<seq>/1..6.ppm`` or .png/.jpg and
``H_1_2..H_1_6``). Exit status: 0 on success, 2 on bad arguments, 1 when the build fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from descriptors.errors import ConfigError, DataFormatError


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1), got {text!r}")
    return value


def make_parser() -> argparse.ArgumentParser:
    """The argument parser (flags = `build_dataset` argument names in kebab-case)."""
    parser = argparse.ArgumentParser(prog="python -m descriptors.data.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("sequences_dir", type=Path, help="folder of hpatches-sequences-release sequence folders")
    parser.add_argument("out_dir", type=Path, help="dataset folder to create")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-fraction", type=_fraction, default=1 / 3)
    parser.add_argument("--split-name", default="default")
    parser.add_argument("--test-sequences", nargs="+", default=None, help="explicit test sequences")
    parser.add_argument("--max-tracks-per-sequence", type=_positive_int, default=None)
    parser.add_argument("--n-pairs", type=_positive_int, default=None)
    parser.add_argument("--n-queries", type=_positive_int, default=None)
    parser.add_argument("--n-distractors", type=_positive_int, default=None)
    parser.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command; returns the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if not args.sequences_dir.is_dir():
        parser.error(f"SEQUENCES_DIR must be an existing folder. Received: {str(args.sequences_dir)!r}")
    if args.out_dir.exists() and not args.overwrite:
        parser.error(f"OUT_DIR must not exist (or pass --overwrite). Received: {str(args.out_dir)!r}")
    from descriptors.data.builder import build_dataset_from_sequences
    from descriptors.data.sequences import list_sequence_folders

    try:
        folders = list_sequence_folders(args.sequences_dir)
    except DataFormatError as error:
        parser.error(str(error))
    try:
        out = build_dataset_from_sequences(
            folders, args.out_dir, seed=args.seed, test_fraction=args.test_fraction, split_name=args.split_name,
            test_sequences=args.test_sequences, max_tracks_per_sequence=args.max_tracks_per_sequence,
            n_pairs=args.n_pairs, n_queries=args.n_queries, n_distractors=args.n_distractors,
            overwrite=args.overwrite, progress=not args.quiet)
    except (ConfigError, DataFormatError, FileNotFoundError, FileExistsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
