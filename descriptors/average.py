"""Average the weights of saved pipelines fine-tuned from one model (a "model soup") into a new pipeline.

    python -m descriptors.average OUT_DIR PIPELINE_DIR PIPELINE_DIR [...] [--weights W W ...]

All inputs must share the descriptor (and denoiser) architecture, and should be fine-tunes of one starting model
(e.g. runs started with `--init-from` the same folder): see `descriptors.models.weight_averaging`. The result is
written like any pipeline (`pipeline.json` + `.keras` files, each renamed into place when complete) and can be
evaluated, described with or warm-started from.
"""

import argparse
import sys
from pathlib import Path

from descriptors.errors import ConfigError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m descriptors.average", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output pipeline folder")
    parser.add_argument("pipelines", nargs="+", help="saved pipeline folders (two or more)")
    parser.add_argument("--weights", nargs="+", type=float, default=None,
                        help="one weight per pipeline (normalised to sum to 1); default: equal")
    args = parser.parse_args(argv)
    if len(args.pipelines) < 2:
        parser.error(f"needs at least two pipeline folders, got {len(args.pipelines)}")
    if args.weights is not None and len(args.weights) != len(args.pipelines):
        parser.error(f"--weights needs one value per pipeline ({len(args.pipelines)}), got {len(args.weights)}")
    out = Path(args.out)
    if out.resolve() in {Path(p).resolve() for p in args.pipelines}:
        parser.error(f"the output folder {str(out)!r} is one of the inputs")

    from descriptors.models.weight_averaging import load_and_average

    try:
        averaged = load_and_average(args.pipelines, args.weights)
        averaged.save(out)
    except (ConfigError, FileNotFoundError, ValueError) as error:  # ValueError: an unreadable .keras file
        print(f"descriptors.average: error: {error}", file=sys.stderr)
        return 1
    print(f"average of {len(args.pipelines)} pipelines -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
