"""`python -m descriptors.embed`: train and evaluate an image-embedding backbone (kNN F1, recall@1, mAP@k).

With no arguments it trains SimNet with the hardest-in-batch loss on the offline scikit-learn digits (P x K
batches) and prints the test metrics. Every option of `EmbedConfig` is a flag (``embedding_dim`` ->
``--embedding-dim``; dict options take JSON, e.g. ``--backbone-options '{"filters": [16, 32]}'``);
``--config FILE`` reads a JSON file first, flags win. The run folder keeps ``config.json``, a checkpoint per
epoch, ``embedder_log.csv``, the best ``embedder.keras`` and ``metrics.json``.

``python -m descriptors.embed retrieve --model RUN --gallery DIR --queries DIR --out CSV [--top-k 5]
[--new-identity-threshold T|auto]`` identifies query images against a labelled gallery (top-k identities, a
"new identity" answer, MAP@k; see `descriptors.embeddings.retrieve_command`).

Exit codes: 0 success; 2 bad options or inputs, found before any work (wrong types or ranges, an output folder
that is not a run folder or cannot be written, a damaged ``state.json`` / checkpoint of the run to resume);
1 a failure during the work (e.g. the loss became NaN or inf); 130 interrupted (continue with
``--resume --output-dir RUN``). Errors are one line on stderr (``--debug`` shows the traceback).
"""

from __future__ import annotations

import sys

from descriptors.errors import ConfigError
from descriptors.training.checkpoints import RunFolderError
from descriptors.training.config_io import config_from_parser, config_parser
from hpatches_eval.cli_contract import EXIT_INTERRUPTED, OneLineArgumentParser, one_line, run_command

PROG = "python -m descriptors.embed"

HELP = {
    "data": "digits or faces (offline, bundled with scikit-learn / scikit-image), an image folder root/<class>/<image>, "
            "or cifar:DIR (CIFAR-10/100 in the binary format, train and test batches together)",
    "image_size": "side the images are resized to",
    "channels": "1 (gray) or 3 (RGB)",
    "max_images": "use at most this many images (stratified) for quick runs",
    "backbone": "embedding network",
    "weights": "local weights file of the backbone (random init when absent; nothing is downloaded)",
    "backbone_options": "JSON object of extra backbone arguments",
    "loss": "a loss of descriptors.losses (triplet losses get (anchor, positive, negative) rows)",
    "margin": "loss margin (default: the loss's own)",
    "loss_options": "JSON object of extra loss arguments (e.g. {\"temperature\": 0.1} for supcon)",
    "miner": "mine triplets inside each PK batch for a triplet-style loss (none = (anchor, positive, negative) rows), "
             "or opms_pairs: SimNet's easy-to-hard pair curriculum for --loss contrastive",
    "p": "classes per batch",
    "k": "images per class in a batch",
    "batches_per_epoch": "PK batches per epoch",
    "val_batches": "PK batches of the validation loss (best model selection)",
    "augment": "'+'-joined policy: none, basic, randaugment, autoaugment, trivialaugment, flip, crop, jitter, blur, noise",
    "magnitude": "strength of the randaugment / autoaugment / trivialaugment ops, in (0, 1]",
    "map_definition": "items: general mAP@k over same-label items; labels: Kaggle whale MAP@k over distinct labels",
    "tsne": "also save a t-SNE plot of the test embeddings (tsne.png)",
    "resume": "continue the run in --output-dir after an interruption",
    "evaluate": "evaluate on the test split at the end",
}


def build_parser() -> OneLineArgumentParser:
    from descriptors.embeddings.backbones import BACKBONES
    from descriptors.embeddings.config import EmbedConfig
    from descriptors.embeddings.metrics import MAP_DEFINITIONS
    from descriptors.losses.miners import MINERS
    from descriptors.losses.registry import LOSSES, PAIR_MINERS
    from descriptors.training.config import OPTIMIZERS, SCHEDULES

    choices = {"backbone": sorted(BACKBONES), "loss": sorted(LOSSES), "miner": ("none",) + tuple(MINERS) + PAIR_MINERS,
               "optimizer": OPTIMIZERS,
               "schedule": SCHEDULES, "map_definition": MAP_DEFINITIONS, "channels": (1, 3)}
    return config_parser(PROG, __doc__, EmbedConfig, HELP, choices)


def config_from_args(argv=None):
    """Parses flags into a validated `EmbedConfig` (defaults < --config file < flags)."""
    from descriptors.embeddings.config import EmbedConfig

    return config_from_parser(build_parser(), EmbedConfig, argv)


def _body(argv) -> int:
    config = config_from_args(argv)
    from descriptors.embeddings.trainer import default_run_dir, train_embedding

    run_dir = config.output_dir or str(default_run_dir(config))
    try:
        result = train_embedding(config)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: error: " + one_line(
            f"interrupted; continue with: {PROG} --resume --output-dir {run_dir} (and the same options)") + "\n")
        return EXIT_INTERRUPTED
    print(f"run folder: {result.run_dir}")
    if result.metrics:
        m = result.metrics
        print(f"kNN F1 {m['knn_f1']:.4f}  recall@1 {m['recall@1']:.4f}  mAP@{config.map_k} "
              f"{m[f'map@{config.map_k}']:.4f}  ROC-AUC {m['roc_auc']:.4f}")
    return 0


def main(argv=None) -> int:
    """Runs the command under the contract of `hpatches_eval.cli_contract` and returns the exit status.

    ``retrieve`` as the first argument runs `descriptors.embeddings.retrieve_command` (query-vs-gallery
    identification) instead of training.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["retrieve"]:
        from descriptors.embeddings.retrieve_command import main as retrieve_main

        return retrieve_main(argv[1:])
    return run_command(PROG, _body, argv, usage_errors=(ConfigError, RunFolderError),
                       interrupted_hint="interrupted; continue with --resume and the same --output-dir")


if __name__ == "__main__":
    sys.exit(main())
