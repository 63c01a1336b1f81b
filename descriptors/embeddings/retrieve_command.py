"""`python -m descriptors.embed retrieve`: identify query images against a labelled gallery with a trained embedder.

    python -m descriptors.embed retrieve --model RUN --gallery GALLERY_DIR --queries QUERY_DIR --out answers.csv
        [--top-k 5] [--new-identity-threshold T | auto]

``--model`` is an embedding run folder (its ``embedder.keras``) or a ``.keras`` file; the images are read at the
model's input size and channels. ``--gallery`` is ``root/<identity>/<image>``. ``--queries`` is either labelled the
same way (then MAP@k is printed; a query whose identity is not in the gallery counts as a new individual) or a flat
folder of images. The CSV has one row per query: ``query`` (path inside ``--queries``), ``answers`` (the top-k
identities, space-separated, nearest first; ``new_identity`` where the threshold puts it), ``distances`` (L2,
``nan`` for the new answer) and, for labelled queries, ``truth``. ``--new-identity-threshold auto`` picks the
threshold that maximises leave-one-out MAP@k on the gallery itself (`descriptors.embeddings.gallery`).

Exit codes: 0 success; 2 bad options or inputs, found before any work; 1 a failure during the work; errors are one
line on stderr (``--debug`` shows the traceback).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

from descriptors.errors import ConfigError
from hpatches_eval.cli_contract import OneLineArgumentParser, UsageError, run_command
from hpatches_eval.output_safety import check_output_file, staged_file

PROG = "python -m descriptors.embed retrieve"
ERROR_PROG = "python -m descriptors.embed"  # the one-line error names the command, as every subcommand's
EMBEDDER_FILE = "embedder.keras"


def build_parser() -> OneLineArgumentParser:
    parser = OneLineArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="embedding run folder (its embedder.keras) or a .keras file")
    parser.add_argument("--gallery", required=True, help="labelled gallery root/<identity>/<image>")
    parser.add_argument("--queries", required=True, help="query images: root/<identity>/<image> or a flat folder")
    parser.add_argument("--out", required=True, help="CSV of the answers (written when all queries are done)")
    parser.add_argument("--top-k", type=int, default=5, help="answers per query (default 5)")
    parser.add_argument("--new-identity-threshold", default=None,
                        help="distance above which 'new_identity' is answered, or 'auto' (chosen on the gallery); "
                             "default: never")
    parser.add_argument("--batch-size", type=int, default=256, help="images per embedding batch")
    return parser


def _threshold(text):
    if text is None or text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise UsageError(f"`--new-identity-threshold` must be a number >= 0 or 'auto'. Received: {text!r}")
    return value


def _model_file(path: Path) -> Path:
    candidate = path / EMBEDDER_FILE if path.is_dir() else path
    if not candidate.is_file() or candidate.suffix != ".keras":
        raise UsageError(f"`--model` must be an embedding run folder with {EMBEDDER_FILE} or a .keras file. "
                         f"Received: --model={str(path)!r}")
    return candidate


def _labelled(root: Path) -> bool:
    return any(p.is_dir() and not p.name.startswith(".") for p in root.iterdir())


def _body(argv) -> int:
    args = build_parser().parse_args(argv)
    if args.top_k < 1:
        raise UsageError(f"`--top-k` must be an integer >= 1. Received: {args.top_k}")
    if args.batch_size < 1:
        raise UsageError(f"`--batch-size` must be an integer >= 1. Received: {args.batch_size}")
    threshold = _threshold(args.new_identity_threshold)
    model_file = _model_file(Path(args.model))
    gallery_root, query_root = Path(args.gallery), Path(args.queries)
    for what, root in (("--gallery", gallery_root), ("--queries", query_root)):
        if not root.is_dir():
            raise UsageError(f"`{what}` must be an image folder. Received: {what}={str(root)!r}")
    if not _labelled(gallery_root):
        raise UsageError(f"`--gallery` must be labelled: {str(gallery_root)!r} has no <identity> sub-folders")
    check_output_file(args.out, inputs=[model_file, gallery_root, query_root], what="--out")

    import numpy as np

    from descriptors.embeddings.gallery import (NEW_IDENTITY, choose_threshold, map_at_k, nearest_gallery,
                                                ranked_identities)
    from descriptors.embeddings.image_folder import image_files, image_folder_files, read_images
    from descriptors.embeddings.trainer import embed_images
    from descriptors.models.pipeline import load_model_file

    model = load_model_file(model_file)
    shape = tuple(model.input_shape[1:])
    if len(shape) != 3 or shape[0] is None or shape[2] not in (1, 3):
        raise ConfigError(f"{model_file} must take (H, W, 1 or 3) images. Received: input shape {shape}")
    size, channels = int(shape[0]), int(shape[2])

    def embed_files(paths):  # batch by batch from the files: memory holds codes, not images
        codes = [embed_images(model, read_images(paths[start:start + args.batch_size], size, channels),
                              args.batch_size) for start in range(0, len(paths), args.batch_size)]
        return np.concatenate(codes).astype(np.float32)

    identities, gallery_paths, gallery_index = image_folder_files(gallery_root)
    gallery_labels = np.asarray(identities)[gallery_index]
    if _labelled(query_root):
        classes, paths, labels = image_folder_files(query_root)
        files = [f"{classes[label]}/{path.name}" for label, path in zip(labels, paths)]
        known = set(identities)
        truths = [classes[label] if classes[label] in known else NEW_IDENTITY for label in labels]
    else:
        paths = image_files(query_root)
        if not paths:
            raise ConfigError(f"`--queries` {str(query_root)!r} holds no images and no <identity> sub-folders")
        files, truths = [p.name for p in paths], None
    gallery_codes = embed_files(gallery_paths)
    query_codes = embed_files(paths)
    if threshold == "auto":
        threshold, loo = choose_threshold(gallery_codes, gallery_labels, args.top_k)
        print(f"new-identity threshold (auto, leave-one-out MAP@{args.top_k} on the gallery {loo:.4f}): "
              f"{threshold:.4f}")
    indices, distances = nearest_gallery(query_codes, gallery_codes, min(len(gallery_codes), 20 * args.top_k))
    answers, near = ranked_identities(indices, distances, gallery_labels, args.top_k, threshold)
    with staged_file(args.out) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", "answers", "distances"] + (["truth"] if truths is not None else []))
        for row, (name, answer, dist) in enumerate(zip(files, answers, near)):
            cells = [name, " ".join(map(str, answer)), " ".join(f"{d:.6f}" for d in dist)]
            writer.writerow(cells + ([truths[row]] if truths is not None else []))
    print(f"{len(files)} queries against {len(gallery_codes)} gallery images ({len(identities)} identities)"
          f"; answers in {args.out}")
    if truths is not None:
        print(f"MAP@{args.top_k} {map_at_k(answers, truths, args.top_k):.4f}")
    return 0


def main(argv=None) -> int:
    """Runs the command under the contract of `hpatches_eval.cli_contract` and returns the exit status."""
    return run_command(ERROR_PROG, _body, argv, usage_errors=(ConfigError,))


if __name__ == "__main__":
    sys.exit(main())
