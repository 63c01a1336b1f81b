"""Image-embedding comparison: backbones x losses x embedding sizes on the offline digits, same budget and seed.

    .venv/bin/python benchmarks/bench_embeddings.py --out benchmarks/results/embeddings.json

Every run trains with `descriptors.embeddings.trainer.train_embedding` (PK batches, P=10 classes x K=4 images,
`crop` augmentation, Adam 1e-3, the same epochs x batches and seed) in a temporary run folder and is scored on
the held-out 30% test split (leave-one-out kNN macro-F1 with k=5, recall@1, mAP@20 over items, verification
ROC-AUC). The untrained model of each backbone x size is scored too. Prints a Markdown table and writes JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

from descriptors.embeddings.backbones import build_backbone  # noqa: E402
from descriptors.embeddings.config import EmbedConfig  # noqa: E402
from descriptors.embeddings.results import results_table  # noqa: E402
from descriptors.embeddings.trainer import evaluate_model, load_data, split_data, train_embedding  # noqa: E402
from descriptors.training.checkpoints import atomic_write_text  # noqa: E402

SMALL_OPTIONS = {"mobilenetv3_small": {"application_options": {"alpha": 0.75, "minimalistic": True}}}
METRICS = ("knn_f1", "recall@1", "map@20", "roc_auc")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", nargs="+", default=["tfeat", "simnet", "l2net"])
    parser.add_argument("--losses", nargs="+", default=["hardest_in_batch", "triplet_margin", "supcon"])
    parser.add_argument("--dims", nargs="+", type=int, default=[32, 64])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches-per-epoch", type=int, default=25)
    parser.add_argument("--augment", default="crop")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=None, help="JSON file to write (default: print only)")
    args = parser.parse_args(argv)

    base = EmbedConfig(data="digits", image_size=32, p=10, k=4, epochs=args.epochs,
                       batches_per_epoch=args.batches_per_epoch, val_batches=3, augment=args.augment,
                       seed=args.seed, verbose=0)
    _, _, test = split_data(load_data(base), base)
    rows, untrained, started = [], [], time.time()
    with tempfile.TemporaryDirectory() as folder:
        for backbone, dim in itertools.product(args.backbones, args.dims):
            keras.utils.set_random_seed(args.seed)
            model = build_backbone(backbone, (32, 32, 1), dim, **SMALL_OPTIONS.get(backbone, {}))
            scores = evaluate_model(model, test, base)
            untrained.append({"backbone": backbone, "loss": "untrained", "embedding_dim": dim,
                              **{m: scores[m] for m in METRICS}})
            for loss in args.losses:
                config = base.replace(backbone=backbone, embedding_dim=dim, loss=loss,
                                      backbone_options=SMALL_OPTIONS.get(backbone, {}),
                                      output_dir=str(Path(folder) / f"{backbone}-{loss}-{dim}"))
                tick = time.time()
                result = train_embedding(config)
                row = {"backbone": backbone, "loss": loss, "embedding_dim": dim,
                       **{m: result.metrics[m] for m in METRICS}, "train_s": round(time.time() - tick, 1)}
                rows.append(row)
                print(results_table([row]).splitlines()[-1], flush=True)
    table = results_table(rows, metrics=METRICS + ("train_s",))
    print(table)
    print(results_table(untrained, metrics=METRICS))
    if args.out:
        report = {
            "command": "python benchmarks/bench_embeddings.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "settings": {k: v for k, v in base.to_dict().items() if k not in ("output_dir", "verbose")},
            "test_images": len(test),
            "rows": rows,
            "untrained": untrained,
            "total_s": round(time.time() - started, 1),
            "machine": {"python": platform.python_version(), "keras": keras.__version__, "cpus": os.cpu_count(),
                        "backend": keras.config.backend()},
        }
        atomic_write_text(Path(args.out), json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
