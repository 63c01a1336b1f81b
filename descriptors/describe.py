"""`python -m descriptors.describe`: descriptors for patches with the shipped model (or any trained one).

    python -m descriptors.describe PATCHES.png --out descs.csv          # one stacked patch file -> one CSV
    python -m descriptors.describe HPATCHES_DIR --out descr/ours --noisy  # a dataset -> official CSV folder

A dataset folder is hpatches-release / N-HPatches (``<seq>/<type>.png``) or a folder built by
``descriptors.data.build`` (its ``nhpatches/`` is used). The CSV folder has the official layout
``<out>/<seq>/<type>.csv`` that ``python -m hpatches_eval --descriptors`` reads. Outputs are written to a temporary
name and renamed, so an interrupted run leaves nothing half-written. Exit codes: 0 ok, 1 failure, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from descriptors.errors import DataFormatError, ShapeError

FORMAT = "%.6f"


def load_describer(model: str):
    """``'default'`` (the shipped pipeline), ``'sift'``, a pipeline folder, or a descriptor ``.keras`` file."""
    from descriptors.models.pipeline import DescriptorPipeline

    if model == "default":
        from descriptors.pretrained import load_default_pipeline

        return load_default_pipeline()
    if model == "sift":
        from descriptors.baselines import SiftPatchDescriptor

        return SiftPatchDescriptor()
    path = Path(model)
    if path.is_dir():
        return DescriptorPipeline.load(path)
    if path.suffix == ".keras" and path.is_file():
        import keras

        import descriptors.models  # noqa: F401  (registers the custom classes)

        return DescriptorPipeline(keras.saving.load_model(path))
    raise FileNotFoundError(f"`--model` must be 'default', 'sift', a pipeline folder or a .keras file. Received: {model}")


def _write_csv(path: Path, values: np.ndarray, delimiter: str) -> None:
    np.savetxt(path, values, fmt=FORMAT, delimiter=delimiter)


def describe_file(describe, patch_file: Path, out: Path, delimiter: str) -> int:
    """Describes one stacked patch PNG into a CSV (or .npy) file. Returns the number of patches."""
    from descriptors.data.formats import read_patch_file

    patches = read_patch_file(patch_file)
    codes = np.asarray(describe(patches), dtype=np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.tmp{out.suffix}")
    if out.suffix == ".npy":
        np.save(temp, codes)
    else:
        _write_csv(temp, codes, delimiter)
    os.replace(temp, out)
    return len(codes)


def describe_dataset(describe, root: Path, out: Path, noisy: bool, delimiter: str, verbose: bool = True) -> int:
    """Describes every sequence of a dataset into an official-format CSV folder. Returns the sequence count."""
    from descriptors.data.formats import HPatchesRelease
    from descriptors.evaluation import describe_sequences

    if (root / "nhpatches").is_dir():
        root = root / "nhpatches"
    source = HPatchesRelease(root, noisy=noisy)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for seq in source.sequences:
            codes = describe_sequences(describe, source, [seq], verbose=False)[seq]
            (staging / seq).mkdir()
            for patch_type, values in codes.items():
                _write_csv(staging / seq / f"{patch_type}.csv", values, delimiter)
            if verbose:
                print(f"described {seq}", flush=True)
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return len(source.sequences)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m descriptors.describe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="a stacked patch PNG, or a dataset folder")
    parser.add_argument("--out", required=True, help="output CSV/.npy file (for a PNG) or folder (for a dataset)")
    parser.add_argument("--model", default="default", help="'default', 'sift', a pipeline folder or a .keras file")
    parser.add_argument("--noisy", action="store_true", help="describe the N-HPatches noisy twins (_noise.png)")
    parser.add_argument("--delimiter", default=",", help="CSV delimiter (default ',')")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    source, out = Path(args.input), Path(args.out)
    if not source.exists():
        print(f"descriptors.describe: error: input not found: {source}", file=sys.stderr)
        return 2
    try:
        describe = load_describer(args.model)
        if source.is_file():
            count = describe_file(describe, source, out, args.delimiter)
            print(f"{count} descriptors -> {out}")
        else:
            count = describe_dataset(describe, source, out, args.noisy, args.delimiter, verbose=not args.quiet)
            print(f"{count} sequences -> {out}")
    except (DataFormatError, ShapeError, FileNotFoundError, ValueError) as error:
        print(f"descriptors.describe: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
