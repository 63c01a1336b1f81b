"""`python -m descriptors.convert`: published PyTorch weights (`.pth`) of HardNet, L2-Net, SOSNet or TFeat as a
pipeline folder that every command of this project reads.

    python -m descriptors.convert checkpoint_liberty_with_aug.pth runs/hardnet-liberty --arch hardnet
    python -m descriptors.describe hpatches-release --model runs/hardnet-liberty --out descr/hardnet-liberty

The state dict is read with ``torch.load(weights_only=True)`` (no code in the file is run; needs ``pip install
torch``, the CPU wheel is enough), matched to our layers by order and shape, and written as a pipeline folder
(``pipeline.json`` + ``descriptor.keras``) holding our model in its PyTorch-compatible mode, so that it gives the
original network's outputs (see ``descriptors.deployment.pytorch_weights``). Exit codes: 0 ok, 1 failure during
the work, 2 bad arguments or inputs (a file that is not such a state dict included); one line on stderr.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

from descriptors.deployment.pytorch_weights import ARCHITECTURES
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_dir, staged_dir

PROG = "python -m descriptors.convert"
KIND = "pipeline"
LEGACY_MARKERS = {"pipeline.json": KIND}


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                   epilog="See the module docstring (python -c 'help(\"descriptors.convert\")').")
    parser.add_argument("source", help="a .pth state dict (e.g. the authors' or kornia's checkpoint)")
    parser.add_argument("out", help="the pipeline folder to write")
    parser.add_argument("--arch", required=True, choices=ARCHITECTURES, help="the network the weights belong to")
    parser.add_argument("--bn-epsilon", type=float, default=1e-5,
                        help="BatchNorm epsilon of the PyTorch model (not stored in a state dict; default 1e-5, "
                             "PyTorch's default)")
    parser.add_argument("--overwrite", action="store_true", help="replace a pipeline folder written by this project")
    return parser


def _check_arguments(args) -> Path:
    """Every check that needs neither torch nor TensorFlow at work; returns OUT."""
    source = Path(args.source)
    if not source.is_file():
        raise UsageError(f"`source` must be a .pth file. Received: {args.source!r} "
                         f"({'a folder' if source.is_dir() else 'no such file'})")
    if not (math.isfinite(args.bn_epsilon) and args.bn_epsilon > 0):
        raise UsageError(f"`--bn-epsilon` must be a positive number. Received: --bn-epsilon={args.bn_epsilon}")
    if importlib.util.find_spec("torch") is None:
        raise UsageError("reading .pth files needs PyTorch, which is not installed: `pip install torch` (the CPU "
                         "wheel is enough) or `pip install 'patch-descriptors[convert]'`")
    return check_output_dir(args.out, kind=KIND, overwrite=args.overwrite, inputs=[source], what="out",
                            legacy_markers=LEGACY_MARKERS)


def _body(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    out = _check_arguments(args)
    from descriptors.deployment.pytorch_weights import WeightsFileError, convert_state_dict, read_state_dict

    try:
        state = read_state_dict(args.source)
        model = convert_state_dict(state, args.arch, bn_epsilon=args.bn_epsilon)
    except WeightsFileError as error:
        raise UsageError(f"{args.source}: {error}") from None
    from descriptors.models.pipeline import DescriptorPipeline

    with staged_dir(out, kind=KIND, legacy_markers=LEGACY_MARKERS, source=str(args.source),
                    arch=args.arch) as staging:
        DescriptorPipeline(model).save(staging)
    print(f"{args.arch} ({model.count_params():,} weights, {len(state)} tensors, D={model.output_shape[-1]}) "
          f"from {args.source} -> {out}")
    return 0


def main(argv=None) -> int:
    """Runs the command; returns the exit status (0 ok, 1 failure, 2 bad arguments or inputs)."""
    return run_command(PROG, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
