"""`python -m descriptors.describe`: descriptors for patches with the shipped model (or any trained one).

    python -m descriptors.describe PATCHES.png --out descs.csv          # one stacked patch file -> one CSV
    python -m descriptors.describe HPATCHES_DIR --out descr/ours --noisy  # a dataset -> official CSV folder

A dataset folder is hpatches-release / N-HPatches (``<seq>/<type>.png``) or a folder built by
``descriptors.data.build`` (its ``nhpatches/`` is used). The CSV folder has the official layout
``<out>/<seq>/<type>.csv`` that ``python -m hpatches_eval --descriptors`` reads.

Safety (the contract of every command, see the README's "Reliability"):

* the input, the model and the output are checked before any work (exit 2): the output may not be, lie inside
  or hold the input; an output folder must be new, empty, or a descriptor set this command wrote (it carries a
  ``.patch-descriptors.json`` marker), and is replaced only with ``--overwrite``;
* outputs are written to a hidden temporary name and renamed when complete, so an interrupted run leaves nothing
  half-written (and the next run removes what a killed one left);
* descriptors that are NaN or infinite (e.g. from a diverged model) are refused, nothing is written (exit 1).

Exit codes: 0 ok, 1 failure during the work, 2 bad arguments or inputs; one line on stderr (``--debug``: traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from descriptors.errors import DataFormatError
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_dir, check_output_file, staged_dir, staged_file

PROG = "python -m descriptors.describe"
FORMAT = "%.6f"
OUTPUT_KIND = "descriptor-set"
FILE_SUFFIXES = (".csv", ".txt", ".npy")


def load_describer(model: str):
    """``'default'`` (the shipped pipeline), ``'sift'``, a pipeline folder, a descriptor ``.keras`` file, or a model
    exported by ``python -m descriptors.export`` (SavedModel folder, ``.onnx``, ``.tflite``).

    Raises:
        FileNotFoundError: ``model`` is none of these.
        descriptors.models.pipeline.ModelFileError: the model file cannot be loaded (e.g. refused by Keras safe
            mode); the message names it.
    """
    from descriptors.models.pipeline import DescriptorPipeline, load_model_file

    if model == "default":
        from descriptors.pretrained import load_default_pipeline

        return load_default_pipeline()
    if model == "sift":
        from descriptors.baselines import SiftPatchDescriptor

        return SiftPatchDescriptor()
    path = Path(model)
    from descriptors.deployment.exported_runtime import ExportedDescriptor, exported_format

    if exported_format(path) is not None:
        return ExportedDescriptor(path)
    if path.is_dir():
        return DescriptorPipeline.load(path)
    if path.suffix == ".keras" and path.is_file():
        import descriptors.models  # noqa: F401  (registers the custom classes)

        return DescriptorPipeline(load_model_file(path))
    raise FileNotFoundError(f"`--model` must be 'default', 'sift', a pipeline folder or a .keras file. Received: {model}")


def check_finite(codes: np.ndarray, where: str) -> np.ndarray:
    """Returns ``codes`` if every value is finite; else raises ValueError naming ``where`` and the count."""
    bad = ~np.isfinite(codes)
    if bad.any():
        rows = int(bad.any(axis=tuple(range(1, codes.ndim))).sum()) if codes.ndim > 1 else int(bad.sum())
        raise ValueError(f"The model produced NaN or infinite descriptors for {rows} of {len(codes)} patches of "
                         f"{where} (a diverged model?); nothing was written.")
    return codes


def _write_csv(path: Path, values: np.ndarray, delimiter: str) -> None:
    np.savetxt(path, values, fmt=FORMAT, delimiter=delimiter)


def describe_file(describe, patch_file: Path, out: Path, delimiter: str) -> int:
    """Describes one stacked patch PNG into a CSV (or .npy) file. Returns the number of patches.

    Raises:
        ValueError: the descriptors hold NaN or inf (nothing is written).
    """
    from descriptors.data.formats import read_patch_file

    patches = read_patch_file(patch_file)
    codes = check_finite(np.asarray(describe(patches), dtype=np.float32), str(patch_file))
    with staged_file(out) as temp:
        if out.suffix == ".npy":
            with open(temp, "wb") as handle:
                np.save(handle, codes)
        else:
            _write_csv(temp, codes, delimiter)
    return len(codes)


def _patch_source(root: Path, noisy: bool):
    from descriptors.data.formats import HPatchesRelease

    if (root / "nhpatches").is_dir():
        root = root / "nhpatches"
    return HPatchesRelease(root, noisy=noisy)


def describe_dataset(describe, root: Path, out: Path, noisy: bool, delimiter: str, verbose: bool = True,
                     overwrite: bool = False) -> int:
    """Describes every sequence of a dataset into an official-format CSV folder. Returns the sequence count.

    ``out`` must be new, empty, or a descriptor set written by this function (replaced only with ``overwrite``);
    it is written in a hidden staging folder and renamed into place when every sequence is done.

    Raises:
        hpatches_eval.cli_contract.UsageError: ``out`` may not be written (see `check_output_dir`).
        ValueError: a sequence's descriptors hold NaN or inf (nothing is written).
    """
    from descriptors.evaluation import describe_sequences

    source = _patch_source(root, noisy)
    check_output_dir(out, kind=OUTPUT_KIND, overwrite=overwrite, inputs=[root])
    with staged_dir(out, kind=OUTPUT_KIND, sequences=len(source.sequences), noisy=bool(noisy)) as staging:
        for seq in source.sequences:
            codes = describe_sequences(describe, source, [seq], verbose=False)[seq]
            (staging / seq).mkdir()
            for patch_type, values in codes.items():
                check_finite(values, f"{seq}/{patch_type}")
                _write_csv(staging / seq / f"{patch_type}.csv", values, delimiter)
            if verbose:
                print(f"described {seq}", flush=True)
    return len(source.sequences)


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                   epilog="See the module docstring (python -c 'help(\"descriptors.describe\")').")
    parser.add_argument("input", help="a stacked patch PNG, or a dataset folder")
    parser.add_argument("--out", required=True, help="output CSV/.npy file (for a PNG) or folder (for a dataset)")
    parser.add_argument("--model", default="default",
                        help="'default', 'sift', a pipeline folder, a .keras file, or an exported SavedModel "
                             "folder / .onnx / .tflite file")
    parser.add_argument("--noisy", action="store_true", help="describe the N-HPatches noisy twins (_noise.png)")
    parser.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output folder written by this command")
    parser.add_argument("--quiet", action="store_true")
    return parser


def _check_arguments(args) -> tuple[Path, Path]:
    source, out = Path(args.input), Path(args.out)
    if not source.exists():
        raise UsageError(f"input not found: {str(source)!r} (expected a patch PNG or a dataset folder)")
    if len(args.delimiter) != 1 or args.delimiter in "0123456789.-+eE\n\r":
        raise UsageError(f"`--delimiter` must be one character that is not part of a number. "
                         f"Received: --delimiter={args.delimiter!r}")
    model = args.model
    if model not in ("default", "sift") and not Path(model).exists():
        raise UsageError(f"`--model` must be 'default', 'sift', a pipeline folder or a .keras file. "
                         f"Received: --model={model!r} (not found)")
    if source.is_file():
        check_output_file(out, inputs=[source] + ([model] if Path(model).exists() else []))
        if out.suffix.lower() not in FILE_SUFFIXES:
            raise UsageError(f"`--out` for a patch file must end in {FILE_SUFFIXES}. Received: --out={str(out)!r}")
        from descriptors.data.formats import read_patch_file

        try:
            read_patch_file(source)
        except (DataFormatError, ValueError, OSError) as error:
            raise UsageError(str(error)) from None
    else:
        try:
            _patch_source(source, args.noisy)
        except (DataFormatError, ValueError, OSError) as error:
            raise UsageError(str(error)) from None
        root = source / "nhpatches" if (source / "nhpatches").is_dir() else source
        check_output_dir(out, kind=OUTPUT_KIND, overwrite=args.overwrite,
                         inputs=[source, root] + ([model] if Path(model).exists() else []))
    return source, out


def _body(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    source, out = _check_arguments(args)
    describe = load_describer(args.model)
    if source.is_file():
        count = describe_file(describe, source, out, args.delimiter)
        print(f"{count} descriptors -> {out}")
    else:
        count = describe_dataset(describe, source, out, args.noisy, args.delimiter, verbose=not args.quiet,
                                 overwrite=args.overwrite)
        print(f"{count} sequences -> {out}")
    return 0


def main(argv=None) -> int:
    """Runs the command; returns the exit status (0 ok, 1 failure, 2 bad arguments or inputs)."""
    return run_command(PROG, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
