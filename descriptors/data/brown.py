"""``python -m descriptors.data.brown``: export a dataset to the Brown / UBC PhotoTour layout, describe a subset.

Two subcommands, so the Brown benchmark runs end to end without Brown::

    python -m descriptors.data.brown export ~/.cache/descriptors/default-v1 --split default --out brown/default-test
    python -m descriptors.data.brown describe brown/default-test --model default --out default.npy
    python -m hpatches_eval.phototour --descriptors default.npy --pairs brown/default-test

* ``export SOURCE --out DIR``: `descriptors.data.brown_writer.write_brown` on the sequences of ``--split`` (its
  ``--part``, default ``test``; the dataset's own ``tasks/splits/splits.json``, else the official HPatches
  splits) or of ``--sequences a,b,...`` (default: all);
* ``describe DIR --model M --out FILE.npy``: one descriptor row per patch index (what
  ``python -m hpatches_eval.phototour`` reads); ``M`` is ``default``, ``sift``, a pipeline folder or a ``.keras``
  file, as for ``python -m descriptors.describe``. Brown patches are 64 px; pipelines area-resize them to 32 px,
  SIFT runs on the 64 px patch.

The contract of every command (`hpatches_eval.cli_contract`): arguments, inputs and the output are checked before
the work (exit 2), one ``python -m descriptors.data.brown: error: ...`` line, outputs staged then renamed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from descriptors.data.brown_reader import BrownSubset
from descriptors.data.brown_writer import DEFAULT_PAIR_COUNTS, KIND, open_release, write_brown
from descriptors.errors import DataFormatError
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_dir, check_output_file, staged_file
from hpatches_eval.splits import load_splits

PROG = "python -m descriptors.data.brown"


def build_parser() -> OneLineArgumentParser:
    """The parser with its ``export`` and ``describe`` subcommands."""
    parser = OneLineArgumentParser(prog=PROG, description="Brown / UBC PhotoTour layout: export and describe.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineArgumentParser)
    export = commands.add_parser("export", help="write a dataset's sequences as one Brown subset folder")
    export.add_argument("source", help="dataset root (with hpatches-release/ or nhpatches/) or a patch folder")
    export.add_argument("--out", required=True, help="the Brown subset folder to write")
    export.add_argument("--split", default=None, help="take the sequences of this split (see --part)")
    export.add_argument("--part", choices=("test", "train"), default="test", help="part of --split (default: test)")
    export.add_argument("--sequences", default=None, help="comma-separated sequence names (default: all)")
    export.add_argument("--layout", choices=("hpatches-release", "nhpatches"), default="hpatches-release")
    export.add_argument("--noisy", action="store_true", help="with --layout nhpatches: the noisy twins")
    export.add_argument("--pairs", default=",".join(map(str, DEFAULT_PAIR_COUNTS)),
                        help="pair list sizes, comma-separated (default: %(default)s)")
    export.add_argument("--seed", type=int, default=0, help="seed of the pairs (default: 0)")
    export.add_argument("--overwrite", action="store_true", help="replace an --out folder this command wrote")
    describe = commands.add_parser("describe", help="descriptors of every patch of a Brown subset (.npy)")
    describe.add_argument("subset", help="a Brown subset folder")
    describe.add_argument("--model", default="default", help="'default', 'sift', a pipeline folder or a .keras file")
    describe.add_argument("--out", required=True, help="the .npy file to write (one row per patch index)")
    return parser


def _export_sequences(args, release) -> list[str]:
    if args.split is not None and args.sequences is not None:
        raise UsageError("Pass `--split` or `--sequences`, not both.")
    if args.sequences is not None:
        names = [name for name in args.sequences.split(",") if name]
        unknown = sorted(set(names) - set(release.sequences))
        if unknown or not names:
            raise UsageError(f"`--sequences` must name sequences of {release.root}. Received unknown: {unknown[:10]}"
                             if unknown else "`--sequences` must not be empty.")
        return names
    if args.split is None:
        return list(release.sequences)
    own = Path(args.source) / "tasks" / "splits" / "splits.json"
    splits = load_splits(own if own.is_file() else None)
    if args.split not in splits:
        raise UsageError(f"`--split` must be one of {sorted(splits)}. Received: --split={args.split!r}")
    names = list(getattr(splits[args.split], args.part))
    missing = sorted(set(names) - set(release.sequences))
    if missing or not names:
        raise UsageError(f"The {args.part} part of split {args.split!r} has {len(names)} sequences; "
                         f"{release.root} lacks {missing[:10]}")
    return names


def _export(args) -> int:
    if not Path(args.source).is_dir():
        raise UsageError(f"SOURCE must be an existing dataset folder. Received: {args.source!r}")
    try:
        counts = [int(n) for n in args.pairs.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 2:
        raise UsageError(f"`--pairs` must be comma-separated integers >= 2. Received: --pairs={args.pairs!r}")
    if args.noisy and args.layout != "nhpatches":
        raise UsageError("`--noisy` needs `--layout nhpatches` (hpatches-release has no noisy patches).")
    release = open_release(args.source, args.layout, args.noisy)
    sequences = _export_sequences(args, release)
    check_output_dir(args.out, kind=KIND, overwrite=args.overwrite, inputs=[args.source])
    out = write_brown(args.source, args.out, sequences=sequences, layout=args.layout, noisy=args.noisy,
                      pair_counts=counts, seed=args.seed, overwrite=args.overwrite)
    print(f"{out}: {len(BrownSubset(out))} patches from {len(sequences)} sequences, pairs {counts}")
    return 0


def _describe(args) -> int:
    subset = BrownSubset(args.subset)
    model = Path(args.model)
    if args.model not in ("default", "sift") and not model.is_dir() and not (model.suffix == ".keras"
                                                                              and model.is_file()):
        raise UsageError("`--model` must be 'default', 'sift', a pipeline folder or a .keras file. "
                         f"Received: --model={args.model!r}")
    if Path(args.out).suffix != ".npy":
        raise UsageError(f"`--out` must be a .npy file. Received: --out={args.out!r}")
    check_output_file(args.out, inputs=[args.subset])
    from descriptors.data.brown_evaluate import describe_subset
    from descriptors.describe import load_describer

    describer = load_describer(args.model)
    codes = describe_subset(describer, subset, verbose=True)
    if not np.isfinite(codes).all():
        raise ValueError(f"The model {args.model!r} returned NaN/inf descriptors on {subset.root}.")
    with staged_file(args.out) as temp:
        np.save(temp, codes)
    print(f"{args.out}: {codes.shape[0]} descriptors of dimension {codes.shape[1]}")
    return 0


def _body(argv) -> int:
    args = build_parser().parse_args(argv)
    return _export(args) if args.command == "export" else _describe(args)


def main(argv=None) -> int:
    """Entry point of ``python -m descriptors.data.brown``; returns the exit status."""
    return run_command(PROG, _body, argv, usage_errors=(DataFormatError,))


if __name__ == "__main__":
    raise SystemExit(main())
