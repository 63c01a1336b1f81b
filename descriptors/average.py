"""Average the weights of saved pipelines fine-tuned from one model (a "model soup") into a new pipeline.

    python -m descriptors.average OUT_DIR PIPELINE_DIR PIPELINE_DIR [...] [--weights W W ...] [--overwrite]

All inputs must share the descriptor (and denoiser) architecture, and should be fine-tunes of one starting model
(e.g. runs started with `--init-from` the same folder): see `descriptors.models.weight_averaging`. The result is
written like any pipeline (`pipeline.json` + `.keras` files) and can be evaluated, described with or warm-started
from. OUT_DIR is written in a hidden sibling folder and renamed into place when complete; an existing OUT_DIR is
replaced only when it is a pipeline folder and `--overwrite` is given, and it may not be one of the inputs.

Exit codes: 0 success; 2 bad arguments or inputs, found before any work (fewer than two pipelines, bad weights,
a folder that is not a saved pipeline, OUT_DIR not writable or not ours); 1 a failure during the work (a model
file that cannot be loaded, e.g. damaged or refused by Keras safe mode; pipelines of different architectures);
130 interrupted (OUT_DIR is left as it was).
"""

import math
import sys
from pathlib import Path

from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_dir, staged_dir

PROG = "python -m descriptors.average"
KIND = "pipeline"
LEGACY_MARKERS = {"pipeline.json": KIND}


def build_parser() -> OneLineArgumentParser:
    import argparse

    parser = OneLineArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", metavar="OUT_DIR", help="output pipeline folder")
    parser.add_argument("pipelines", metavar="PIPELINE_DIR", nargs="+", help="saved pipeline folders (two or more)")
    parser.add_argument("--weights", nargs="+", type=float, default=None,
                        help="one weight per pipeline (normalised to sum to 1); default: equal")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it already holds a pipeline")
    return parser


def _check_arguments(args) -> Path:
    """Every check that needs no model loaded; returns OUT_DIR."""
    if len(args.pipelines) < 2:
        raise UsageError(f"needs at least two pipeline folders, got {len(args.pipelines)}")
    if args.weights is not None:
        if len(args.weights) != len(args.pipelines):
            raise UsageError(f"--weights needs one value per pipeline ({len(args.pipelines)}), "
                             f"got {len(args.weights)}")
        if not all(math.isfinite(w) and w >= 0 for w in args.weights) or sum(args.weights) <= 0:
            raise UsageError(f"--weights must be finite non-negative numbers, not all zero. "
                             f"Received: --weights {' '.join(map(str, args.weights))}")
    from descriptors.models.pipeline import read_manifest

    for folder in args.pipelines:
        if not (Path(folder) / "pipeline.json").is_file():
            raise UsageError(f"{folder!r} is not a saved pipeline folder (no pipeline.json); pass folders written by "
                             "descriptors.train (RUN/pipeline) or descriptors.average.")
        try:
            manifest = read_manifest(Path(folder) / "pipeline.json")
        except ValueError as error:  # ModelFileError / ConfigError: a damaged or foreign manifest
            raise UsageError(str(error)) from None
        for key in ("descriptor", "denoiser"):
            if manifest.get(key) and not (Path(folder) / manifest[key]).is_file():
                raise UsageError(f"{folder!r}: its pipeline.json names {manifest[key]!r}, which is missing.")
    return check_output_dir(args.out, kind=KIND, overwrite=args.overwrite, inputs=args.pipelines, what="OUT_DIR",
                            legacy_markers=LEGACY_MARKERS)


def _body(argv) -> int:
    args = build_parser().parse_args(argv)
    out = _check_arguments(args)

    from descriptors.models.weight_averaging import load_and_average

    averaged = load_and_average(args.pipelines, args.weights)
    with staged_dir(out, kind=KIND, legacy_markers=LEGACY_MARKERS) as staging:
        averaged.save(staging)
    print(f"average of {len(args.pipelines)} pipelines -> {out}")
    return 0


def main(argv=None) -> int:
    """Runs the command under the contract of `hpatches_eval.cli_contract` and returns the exit status."""
    return run_command(PROG, _body, argv, interrupted_hint="interrupted; OUT_DIR was left as it was")


if __name__ == "__main__":
    sys.exit(main())
