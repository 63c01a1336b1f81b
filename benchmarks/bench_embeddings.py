"""Image-embedding comparison: backbones x losses x embedding sizes on the offline digits, same budget and seed.

    .venv/bin/python benchmarks/bench_embeddings.py --out benchmarks/results/embeddings.json
    .venv/bin/python benchmarks/bench_embeddings.py --backbones all --losses contrastive triplet_margin supcon \
        ntxent snr --dims 64 --map-k 5 --map-definition labels --out benchmarks/results/backbones.json

Every run trains with `descriptors.embeddings.trainer.train_embedding` (PK batches, P=10 classes x K=4 images,
`crop` augmentation, Adam 1e-3, the same epochs x batches and seed) in a temporary run folder and is scored on
the held-out 30% test split (leave-one-out kNN macro-F1 with k=5, recall@1, mAP@k (`--map-k`, `--map-definition`:
"items" = mAP over the relevant images, "labels" = the Kaggle whale MAP@k over distinct labels), verification
ROC-AUC). The untrained model of each backbone x size is scored too. Prints a Markdown table and writes JSON; the
JSON is rewritten after every run, and `--resume` keeps the rows already in `--out` and runs only the missing ones
(an interrupted comparison goes on where it stopped, with the same settings).
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

from descriptors.embeddings.backbones import BACKBONES, build_backbone  # noqa: E402
from descriptors.embeddings.config import EmbedConfig  # noqa: E402
from descriptors.embeddings.results import results_table  # noqa: E402
from descriptors.embeddings.trainer import evaluate_model, load_data, split_data, train_embedding  # noqa: E402
from descriptors.training.checkpoints import atomic_write_text  # noqa: E402
from descriptors.training.machine_info import machine_info  # noqa: E402

THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")

SMALL_OPTIONS = {"mobilenetv3_small": {"application_options": {"alpha": 0.75, "minimalistic": True}}}


def two_views(base: EmbedConfig, loss: str) -> dict:
    """NT-Xent reads K=2 views per class: twice the batches of P x 2 images, the same images per epoch."""
    if loss != "ntxent":
        return {}
    return {"k": 2, "batches_per_epoch": base.batches_per_epoch * base.k // 2, "val_batches": base.val_batches * 2}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", nargs="+", default=["tfeat", "simnet", "l2net"],
                        help=f"backbone names, or 'all' for {sorted(BACKBONES)}")
    parser.add_argument("--losses", nargs="+", default=["hardest_in_batch", "triplet_margin", "supcon"])
    parser.add_argument("--dims", nargs="+", type=int, default=[32, 64])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches-per-epoch", type=int, default=25)
    parser.add_argument("--augment", default="crop")
    parser.add_argument("--map-k", type=int, default=20)
    parser.add_argument("--map-definition", choices=("items", "labels"), default="items")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=None, help="JSON file to write (default: print only)")
    parser.add_argument("--resume", action="store_true", help="keep the rows of --out and run only the missing ones")
    args = parser.parse_args(argv)
    backbones = sorted(BACKBONES) if args.backbones == ["all"] else args.backbones
    metrics = ("knn_f1", "recall@1", f"map@{args.map_k}", "roc_auc")

    base = EmbedConfig(data="digits", image_size=32, p=10, k=4, epochs=args.epochs,
                       batches_per_epoch=args.batches_per_epoch, val_batches=3, augment=args.augment,
                       map_k=args.map_k, map_definition=args.map_definition, seed=args.seed, verbose=0)
    settings = {k: v for k, v in base.to_dict().items() if k not in ("output_dir", "verbose")}
    rows, untrained, spent = [], [], 0.0
    if args.resume and args.out and Path(args.out).is_file():
        previous = json.loads(Path(args.out).read_text())
        if previous["settings"] != settings:
            parser.error(f"--resume: {args.out} was made with other settings: {previous['settings']}")
        rows, untrained, spent = previous["rows"], previous["untrained"], previous["total_s"]
    done = {(r["backbone"], r["loss"], r["embedding_dim"]) for r in rows + untrained}
    _, _, test = split_data(load_data(base), base)
    started = time.time()

    def save():
        if not args.out:
            return
        report = {
            "command": "python benchmarks/bench_embeddings.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "settings": settings,
            "test_images": len(test),
            "rows": rows,
            "untrained": untrained,
            "total_s": round(spent + time.time() - started, 1),
            "machine": {"python": platform.python_version(), "keras": keras.__version__,
                        "cpu": machine_info(False)["cpu"],
                        "backend": keras.config.backend(), "load_average": list(os.getloadavg()),
                        "threads": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}},
        }
        atomic_write_text(Path(args.out), json.dumps(report, indent=2))

    with tempfile.TemporaryDirectory() as folder:
        for backbone, dim in itertools.product(backbones, args.dims):
            if (backbone, "untrained", dim) not in done:
                keras.utils.set_random_seed(args.seed)
                model = build_backbone(backbone, (32, 32, 1), dim, **SMALL_OPTIONS.get(backbone, {}))
                scores = evaluate_model(model, test, base)
                untrained.append({"backbone": backbone, "loss": "untrained", "embedding_dim": dim,
                                  "parameters": model.count_params(), **{m: scores[m] for m in metrics}})
                save()
            for loss in args.losses:
                if (backbone, loss, dim) in done:
                    continue
                config = base.replace(backbone=backbone, embedding_dim=dim, loss=loss,
                                      backbone_options=SMALL_OPTIONS.get(backbone, {}),
                                      output_dir=str(Path(folder) / f"{backbone}-{loss}-{dim}"),
                                      **two_views(base, loss))
                tick = time.time()
                result = train_embedding(config)
                row = {"backbone": backbone, "loss": loss, "embedding_dim": dim,
                       **{m: result.metrics[m] for m in metrics}, "train_s": round(time.time() - tick, 1),
                       "load_average": round(os.getloadavg()[0], 2)}
                rows.append(row)
                save()
                print(results_table([row]).splitlines()[-1], flush=True)
    print(results_table(rows, metrics=metrics + ("train_s",)))
    print(results_table(untrained, metrics=("parameters",) + metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
