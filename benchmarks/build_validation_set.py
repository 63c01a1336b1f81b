"""A validation dataset for choosing a shipped model: held-out photographs that no shipped model and no test set uses.

    python benchmarks/build_validation_set.py OUT_DIR [--val-photos china grace_hopper] [--seed 0]

The shipped model was trained on the train photographs of ``default-v1``; the test sets (``default-v1``'s test
photographs and the real mini sequences) must never choose a model. The only real photographs left are the new
ones of the wide variant (`descriptors.data.default_wide.NEW_PHOTOS`), which ``default-v1`` never held. This
builds, from the wide variant's sequence makers (same photometric model, same seeds as ``default-wide-v1``):

* split ``val``: test = the ``v_`` and ``i_`` sequences of ``--val-photos`` (the validation set, with HPatches
  task files: verification, matching, retrieval), train = every other wide train sequence;
* nothing of ``default-v1``'s test photographs (they are left out of the build altogether).

Train a candidate with ``python -m descriptors.train --data OUT_DIR --split val ...`` (it never sees the validation
photographs) and score candidates and the shipped model with ``python benchmarks/descriptor_table.py --dataset
OUT_DIR --model ...``. The sampling of the train sequences differs from ``default-wide-v1``'s (the builder seeds
each sequence by its position, and the test sequences are left out), so the train patches are another sample of
the same photographs and sequences. Exit status 2 (one line) on bad arguments, before any work.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command  # noqa: E402

PROG = "python benchmarks/build_validation_set.py"
SPLIT_NAME = "val"


def _parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the dataset folder to create (new or empty)")
    parser.add_argument("--val-photos", nargs="+", default=["china", "grace_hopper"], metavar="PHOTO",
                        help="photographs of the validation set (new wide photographs only)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the wide variant's sequences and of the build")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes of the build")
    return parser


def validation_loaders(val_photos, seed: int = 0) -> tuple[list, list[str]]:
    """(the sequence loaders to build, the validation sequence names); `default-v1`'s test sequences left out.

    Raises:
        UsageError: a validation photograph is not one of the wide variant's new photographs (or is repeated).
    """
    from descriptors.data.default_wide import NEW_PHOTOS, wide_sequences, wide_test_sequences

    unknown = [photo for photo in val_photos if photo not in NEW_PHOTOS]
    if unknown or not val_photos or len(set(val_photos)) != len(val_photos):
        raise UsageError(f"`--val-photos` must be distinct photographs among {list(NEW_PHOTOS)} (the only ones no "
                         f"shipped model was trained on). Received: --val-photos {' '.join(val_photos)}")
    test = set(wide_test_sequences(seed))
    loaders = [loader for loader in wide_sequences(seed) if loader.sequence_name not in test]
    val = [f"{kind}_{photo}" for photo in val_photos for kind in ("i", "v")]
    return loaders, val


def _body(argv) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"`out` must be a new or empty folder. Received: out={str(out)!r}")
    if args.jobs < 1:
        raise UsageError(f"`--jobs` must be >= 1. Received: --jobs={args.jobs}")
    loaders, val = validation_loaders(args.val_photos, args.seed)
    from descriptors.data.builder import build_dataset
    from descriptors.data.default import DEFAULT_TRACKS_PER_SEQUENCE

    build_dataset(loaders, out, seed=args.seed, split_name=SPLIT_NAME, test_sequences=val,
                  max_tracks_per_sequence=DEFAULT_TRACKS_PER_SEQUENCE, jobs=args.jobs,
                  extra_info={"validation_set": {"val_photos": list(args.val_photos), "seed": args.seed,
                                                 "left_out": "default-v1 test sequences"}})
    print(f"{out}: split {SPLIT_NAME!r}, validation sequences {val}, {len(loaders) - len(val)} train sequences")
    return 0


def main(argv=None) -> int:
    return run_command(PROG, _body, argv)


if __name__ == "__main__":
    sys.exit(main())
