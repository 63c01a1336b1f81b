"""SHA-256 of every weight of a training run's models, to check that a rerun trained bit-identical weights.

    python benchmarks/weights_digest.py RUN
    python benchmarks/weights_digest.py RUN --expect benchmarks/results/readme_default_run.json

The digest of a ``.keras`` file is the SHA-256 over the raw bytes of its weight arrays, in the model's weight
order (the file itself also stores the save date, so its own checksum changes from save to save). Prints one line
per model file found in RUN (``denoiser.keras``, ``descriptor.keras``). With ``--expect FILE`` (a JSON file with a
``weights_sha256`` object, as written for the README's default command) it compares the two and exits 1 when any
digest differs or a file is missing, 0 when all are equal.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command  # noqa: E402

PROG = "python benchmarks/weights_digest.py"
MODEL_FILES = ("denoiser.keras", "descriptor.keras")


def weights_sha256(weights) -> str:
    """SHA-256 (hex) over the C-order bytes of each array of ``weights``, in order."""
    import numpy as np

    digest = hashlib.sha256()
    for weight in weights:
        digest.update(np.ascontiguousarray(np.asarray(weight)).tobytes())
    return digest.hexdigest()


def run_digests(run_dir: Path) -> dict[str, str]:
    """``{file name: digest}`` for each of `MODEL_FILES` present in ``run_dir`` (loaded in Keras safe mode)."""
    from descriptors.models.pipeline import load_model_file

    return {name: weights_sha256(load_model_file(run_dir / name, compile=False).weights)
            for name in MODEL_FILES if (run_dir / name).is_file()}


def _expected(path: str) -> dict[str, str]:
    try:
        expected = json.loads(Path(path).read_text())["weights_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"`--expect` must be a JSON file with a 'weights_sha256' object. Received: --expect={path!r} "
                         f"({type(error).__name__}: {error})") from None
    if not isinstance(expected, dict) or not expected:
        raise UsageError(f"`--expect`: 'weights_sha256' in {path!r} must be a non-empty object of file: digest.")
    return expected


def _body(argv) -> int:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a training run folder (holding denoiser.keras and/or descriptor.keras)")
    parser.add_argument("--expect", help="JSON file with the expected 'weights_sha256' (exit 1 when they differ)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run)
    if not run_dir.is_dir() or not any((run_dir / name).is_file() for name in MODEL_FILES):
        raise UsageError(f"RUN must be a training run folder holding {' or '.join(MODEL_FILES)}. "
                         f"Received: {args.run!r}")
    expected = _expected(args.expect) if args.expect else None
    digests = run_digests(run_dir)
    for name, digest in digests.items():
        print(f"{name}  {digest}")
    if expected is None:
        return 0
    differing = sorted(name for name in expected if digests.get(name) != expected[name])
    if differing:
        print(f"different from {args.expect}: {', '.join(differing)}"
              + "".join(f" ({name} missing in RUN)" for name in differing if name not in digests))
        return 1
    print(f"identical to {args.expect}: every weight is bit-identical")
    return 0


def main(argv=None) -> int:
    return run_command(PROG, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
