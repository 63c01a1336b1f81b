"""`python -m descriptors.embed`: train and evaluate an image-embedding backbone (kNN F1, recall@1, mAP@k).

With no arguments it trains SimNet with the hardest-in-batch loss on the offline scikit-learn digits (P x K
batches) and prints the test metrics. Every option of `EmbedConfig` is a flag (``embedding_dim`` ->
``--embedding-dim``; dict options take JSON, e.g. ``--backbone-options '{"filters": [16, 32]}'``);
``--config FILE`` reads a JSON file first, flags win. The run folder keeps ``config.json``, a checkpoint per
epoch, ``embedder_log.csv``, the best ``embedder.keras`` and ``metrics.json``. Exit codes: 0 success,
1 failure, 2 bad options, 130 interrupted (resume with ``--resume --output-dir RUN``).
"""

from __future__ import annotations

import argparse
import sys

from descriptors.errors import ConfigError, DataFormatError
from descriptors.training.config_io import add_config_flags, config_from_parser

HELP = {
    "data": "digits or faces (offline, bundled with scikit-learn / scikit-image) or an image folder root/<class>/<image>",
    "image_size": "side the images are resized to",
    "channels": "1 (gray) or 3 (RGB)",
    "max_images": "use at most this many images (stratified) for quick runs",
    "backbone": "embedding network",
    "weights": "local weights file of the backbone (random init when absent; nothing is downloaded)",
    "backbone_options": "JSON object of extra backbone arguments",
    "loss": "a loss of descriptors.losses (triplet losses get (anchor, positive, negative) rows)",
    "margin": "loss margin (default: the loss's own)",
    "loss_options": "JSON object of extra loss arguments (e.g. {\"temperature\": 0.1} for supcon)",
    "miner": "mine triplets inside each PK batch for a triplet-style loss (none = (anchor, positive, negative) rows)",
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


def build_parser() -> argparse.ArgumentParser:
    from descriptors.embeddings.backbones import BACKBONES
    from descriptors.embeddings.config import EmbedConfig
    from descriptors.embeddings.metrics import MAP_DEFINITIONS
    from descriptors.losses.miners import MINERS
    from descriptors.losses.registry import LOSSES
    from descriptors.training.config import OPTIMIZERS, SCHEDULES

    choices = {"backbone": sorted(BACKBONES), "loss": sorted(LOSSES), "miner": ("none",) + tuple(MINERS), "optimizer": OPTIMIZERS,
               "schedule": SCHEDULES, "map_definition": MAP_DEFINITIONS, "channels": (1, 3)}
    parser = argparse.ArgumentParser(prog="python -m descriptors.embed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(parser, EmbedConfig, HELP, choices)
    return parser


def config_from_args(argv=None):
    """Parses flags into a validated `EmbedConfig` (defaults < --config file < flags)."""
    from descriptors.embeddings.config import EmbedConfig

    return config_from_parser(build_parser(), EmbedConfig, argv)


def main(argv=None) -> int:
    try:
        config = config_from_args(argv)
    except ConfigError as error:
        print(f"descriptors.embed: error: {error}", file=sys.stderr)
        return 2
    from descriptors.embeddings.trainer import train_embedding

    try:
        result = train_embedding(config)
    except ConfigError as error:
        print(f"descriptors.embed: error: {error}", file=sys.stderr)
        return 2
    except (DataFormatError, FileNotFoundError) as error:
        print(f"descriptors.embed: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("descriptors.embed: interrupted; continue with --resume and the same --output-dir", file=sys.stderr)
        return 130
    print(f"run folder: {result.run_dir}")
    if result.metrics:
        m = result.metrics
        print(f"kNN F1 {m['knn_f1']:.4f}  recall@1 {m['recall@1']:.4f}  mAP@{config.map_k} "
              f"{m[f'map@{config.map_k}']:.4f}  ROC-AUC {m['roc_auc']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
