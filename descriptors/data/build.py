"""Command line: build an HPatches-layout dataset from your own image sequences.

    python -m descriptors.data.build SEQUENCES_DIR OUT_DIR [--seed 0] [--test-fraction 0.33] ...

``SEQUENCES_DIR`` holds hpatches-sequences-release folders (``<seq>/1..6.ppm`` or .png/.jpg and
``H_1_2..H_1_6``). ``OUT_DIR`` must be new, empty, or a dataset this command wrote (replaced only with
``--overwrite``), and may not equal, lie inside, or contain ``SEQUENCES_DIR``. Every sequence is read and every
option checked before the build starts. Sequences that cannot give correct patches (flat or tiny images,
degenerate homographies, too few keypoints) are skipped with a warning and listed in ``build_info.json``.
``--jobs N`` builds the sequences in N worker processes (``auto``: one per available CPU core); the output is
byte-identical to ``--jobs 1``, the default, which starts no process.

Exit status: 0 on success; 2 on a bad argument or input (found before any work: a missing or unreadable image,
a malformed homography file, an output that may not be written); 1 when the build fails (e.g. no usable
sequence is left); 130 when interrupted (nothing is left behind). One line on stderr, no traceback unless
``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from descriptors.errors import ConfigError, DataFormatError
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command

PROG = "python -m descriptors.data.build"


def _integer(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _jobs(text: str) -> int:
    """``--jobs``: an integer >= 1, or ``auto`` (the CPU cores this process may use)."""
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 or 'auto', got {text!r}")
    return value


_jobs.__name__ = "integer >= 1 or 'auto'"


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}")
    return value


def make_parser() -> argparse.ArgumentParser:
    """The argument parser (flags = `build_dataset` argument names in kebab-case)."""
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("sequences_dir", type=Path, help="folder of hpatches-sequences-release sequence folders")
    parser.add_argument("out_dir", type=Path, help="dataset folder to create (new, empty, or a dataset we built)")
    parser.add_argument("--seed", type=_integer(0), default=0)
    parser.add_argument("--test-fraction", type=_fraction, default=1 / 3)
    parser.add_argument("--split-name", default="default")
    parser.add_argument("--test-sequences", nargs="+", default=None, help="explicit test sequences")
    parser.add_argument("--max-tracks-per-sequence", type=_integer(2), default=None)
    parser.add_argument("--n-pairs", type=_integer(1), default=None)
    parser.add_argument("--n-queries", type=_integer(1), default=None)
    parser.add_argument("--n-distractors", type=_integer(1), default=None)
    parser.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it holds a dataset we built")
    parser.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                        help="worker processes building sequences (default 1: none; 'auto': one per CPU core)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _check_inputs(args) -> list[Path]:
    """Every check that needs no build: options, output, and every sequence read once. Raises UsageError."""
    from descriptors.data.build_checks import LEGACY_MARKERS, check_build_options
    from descriptors.data.sequences import list_sequence_folders, read_image_sequence
    from hpatches_eval.output_safety import check_output_dir

    try:
        check_build_options(seed=args.seed, test_fraction=args.test_fraction, split_name=args.split_name,
                            test_sequences=args.test_sequences, max_tracks_per_sequence=args.max_tracks_per_sequence,
                            n_pairs=args.n_pairs, n_queries=args.n_queries, n_distractors=args.n_distractors)
    except ConfigError as error:
        raise UsageError(str(error).replace("`test_sequences`", "`--test-sequences`")
                         .replace("`split_name`", "`--split-name`")) from None
    if not args.sequences_dir.is_dir():
        raise UsageError(f"SEQUENCES_DIR must be an existing folder. Received: {str(args.sequences_dir)!r}")
    try:
        check_output_dir(args.out_dir, kind="dataset", overwrite=args.overwrite, inputs=[args.sequences_dir],
                         what="OUT_DIR", legacy_markers=LEGACY_MARKERS)
    except OSError as error:  # e.g. a name too long for the file system
        raise UsageError(f"`OUT_DIR` cannot be written: {error.strerror or error}. "
                         f"Received: OUT_DIR={str(args.out_dir)!r}") from None
    try:
        folders = list_sequence_folders(args.sequences_dir)
    except (DataFormatError, OSError) as error:
        raise UsageError(str(error)) from None
    names = [f.name for f in folders]
    unknown = sorted(set(args.test_sequences or ()) - set(names))
    if unknown:
        raise UsageError(f"`--test-sequences` must name sequence folders of {str(args.sequences_dir)!r}. "
                         f"Received unknown: {unknown}; known: {names}")
    for folder in folders:  # one full read per sequence: a bad file is reported now, not after an hour of work
        try:
            read_image_sequence(folder)
        except (DataFormatError, OSError) as error:
            raise UsageError(str(error)) from None
    return folders


def _body(argv: list[str]) -> int:
    args = make_parser().parse_args(argv)
    folders = _check_inputs(args)
    from descriptors.data.builder import build_dataset_from_sequences

    out = build_dataset_from_sequences(
        folders, args.out_dir, seed=args.seed, test_fraction=args.test_fraction, split_name=args.split_name,
        test_sequences=args.test_sequences, max_tracks_per_sequence=args.max_tracks_per_sequence,
        n_pairs=args.n_pairs, n_queries=args.n_queries, n_distractors=args.n_distractors,
        overwrite=args.overwrite, progress=not args.quiet, inputs=[args.sequences_dir], jobs=args.jobs)
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command; returns the exit status (0 ok, 1 build failed, 2 bad argument or input, 130 interrupted)."""
    return run_command(PROG, _body, argv,
                       interrupted_hint="interrupted; nothing was written (run the same command again)")


if __name__ == "__main__":
    sys.exit(main())
