"""`python -m descriptors.export`: a trained pipeline as a TensorFlow SavedModel, ONNX or LiteRT (TFLite) model.

    python -m descriptors.export default model.onnx --format onnx
    python -m descriptors.export runs/x/pipeline saved/ --format saved_model
    python -m descriptors.export default model-fp16.tflite --format litert --quantize float16

The exported model takes float32 pixels 0..255 of shape (B, 32, 32, 1) (B dynamic) and returns the (B, D)
descriptors that `DescriptorPipeline.describe` gives (denoiser, rounding and clipping included; resize other
patch sizes to 32 px first). After writing, the command runs the exported model in its own runtime (TensorFlow,
ONNX Runtime, LiteRT) on ``--check`` fixed pseudo-random patches and prints the largest difference from the Keras
pipeline. ``python -m descriptors.describe --model FILE`` describes patches with an exported file.

Needs the TensorFlow Keras backend; ONNX needs ``tf2onnx`` and ``onnx``, running it ``onnxruntime`` (all pinned in
requirements.txt). Exit codes: 0 ok, 1 failure during the work, 2 bad arguments or inputs; one line on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_dir, check_output_file, staged_dir, staged_file

PROG = "python -m descriptors.export"
OUTPUT_KIND = "saved-model"


def check_patches(count: int, seed: int = 0) -> np.ndarray:
    """``count`` fixed pseudo-random 32x32 patches (float32, 0..255, (count, 32, 32, 1)): half uniform noise, half
    smoothed noise, so that both flat and textured inputs are checked."""
    import cv2

    rng = np.random.default_rng(seed)
    patches = rng.integers(0, 256, (count, 32, 32)).astype(np.float32)
    for i in range(count // 2, count):
        patches[i] = np.clip(cv2.GaussianBlur(patches[i], (0, 0), 2.0) * 3.0 - 255.0, 0.0, 255.0)
    return patches[..., None]


def compare_with_keras(pipeline, exported, patches: np.ndarray) -> dict:
    """Largest absolute difference and smallest cosine between the Keras pipeline's and the exported model's
    descriptors of ``patches``."""
    expected = pipeline.describe(patches, verbose=False)
    got = exported(patches)
    if not np.isfinite(got).all():
        raise ValueError("The exported model gives NaN or infinite descriptors on the check patches.")
    cosine = (expected * got).sum(1) / np.maximum(np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1),
                                                  1e-12)
    return {"patches": len(patches), "max_abs_difference": float(np.abs(expected - got).max()),
            "min_cosine": float(cosine.min())}


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                   epilog="See the module docstring (python -c 'help(\"descriptors.export\")').")
    parser.add_argument("model", help="'default' (the shipped pipeline), a pipeline folder or a descriptor .keras file")
    parser.add_argument("out", help="a folder for saved_model; a .onnx / .tflite file for onnx / litert")
    parser.add_argument("--format", required=True, choices=["saved_model", "onnx", "litert"], dest="export_format")
    parser.add_argument("--quantize", default="none", choices=["none", "float16", "int8"],
                        help="LiteRT post-training quantisation: float16 weights, or int8 weights with "
                             "dynamic-range activations (default none)")
    parser.add_argument("--check", type=int, default=256,
                        help="patches to compare the exported model with the Keras pipeline on (0: skip)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing SavedModel folder written by this command")
    return parser


def _check_arguments(args) -> Path:
    from descriptors.deployment.export_model import SUFFIXES, check_export_options

    try:
        check_export_options(args.export_format, args.quantize)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    if args.check < 0:
        raise UsageError(f"`--check` must be an integer >= 0. Received: --check={args.check}")
    from descriptors.deployment.exported_runtime import exported_format

    model = Path(args.model)
    if args.model != "default" and (exported_format(model) is not None or
                                    not (model.is_dir() or (model.is_file() and model.suffix == ".keras"))):
        raise UsageError(f"`model` must be 'default', a pipeline folder or a .keras file. Received: {args.model!r}")
    inputs = [model] if args.model != "default" else []
    out = Path(args.out)
    suffix = SUFFIXES[args.export_format]
    if suffix:
        if out.suffix.lower() != suffix:
            raise UsageError(f"`out` for --format {args.export_format} must be a file ending in {suffix!r}. "
                             f"Received: out={args.out!r}")
        return check_output_file(out, inputs=inputs, what="out")
    return check_output_dir(out, kind=OUTPUT_KIND, overwrite=args.overwrite, inputs=inputs, what="out")


def _body(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    out = _check_arguments(args)
    from descriptors.deployment.export_model import export_pipeline
    from descriptors.deployment.exported_runtime import ExportedDescriptor
    from descriptors.describe import load_describer

    from descriptors.models.pipeline import ModelFileError

    try:
        pipeline = load_describer(args.model)
    except (FileNotFoundError, ModelFileError) as error:
        raise UsageError(str(error)) from None
    staging = staged_file(out) if args.export_format != "saved_model" else staged_dir(out, kind=OUTPUT_KIND)
    with staging as temp:
        export_pipeline(pipeline, temp, args.export_format, args.quantize)
        check = compare_with_keras(pipeline, ExportedDescriptor(temp), check_patches(args.check)) \
            if args.check else None
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) if out.is_dir() else out.stat().st_size
    line = f"{args.export_format} ({args.quantize}) -> {out} ({size / 1e6:.1f} MB)"
    if check:
        line += (f"; on {check['patches']} check patches: max |difference| from Keras "
                 f"{check['max_abs_difference']:.2e}, min cosine {check['min_cosine']:.6f}")
    print(line)
    return 0


def main(argv=None) -> int:
    """Runs the command; returns the exit status (0 ok, 1 failure, 2 bad arguments or inputs)."""
    return run_command(PROG, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
