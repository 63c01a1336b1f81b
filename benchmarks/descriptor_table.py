"""The descriptor results table: SIFT, normalised pixels and trained pipelines on one or more datasets.

Each dataset is a folder in the builder layout (``nhpatches/`` + ``tasks/``); its split's test sequences are
described from the noisy (default) or clean 32 px patches and scored with hpatches_eval (coursework summary).

    python benchmarks/descriptor_table.py --dataset default --dataset /tmp/mini-eval \
        --model ours=descriptors/weights/default --model coursework=runs/coursework \
        --out benchmarks/results/descriptor_table.json

Prints a Markdown table and writes JSON (one row per descriptor x dataset, with the full hpatches_eval summary).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from descriptors.baselines import NormalizedPixels, SiftPatchDescriptor  # noqa: E402
from descriptors.data.formats import HPatchesRelease  # noqa: E402
from descriptors.evaluation import evaluate_descriptor  # noqa: E402
from descriptors.training.checkpoints import atomic_write_text  # noqa: E402
from hpatches_eval.splits import get_split  # noqa: E402


def dataset_root(name: str) -> Path:
    """The folder of dataset `name`: "default" (built on first use) or a dataset folder path."""
    if name == "default":
        from descriptors.data.default import default_dataset

        return Path(default_dataset())
    return Path(name)


def _descriptors(models: list[str], baselines: bool):
    out = {}
    if baselines:
        out["SIFT (OpenCV, patch centre)"] = SiftPatchDescriptor()
        out["normalised pixels 16x16"] = NormalizedPixels(16)
    for spec in models:
        label, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--model must be LABEL=PIPELINE_DIR. Received: {spec!r}")
        from descriptors.models.pipeline import DescriptorPipeline

        out[label] = DescriptorPipeline.load(path)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", action="append", default=None, help="'default' or a built dataset folder")
    parser.add_argument("--model", action="append", default=[], help="LABEL=PIPELINE_DIR (repeatable)")
    parser.add_argument("--no-baselines", action="store_true", help="skip SIFT and pixels")
    parser.add_argument("--inputs", choices=("noisy", "clean"), default="noisy")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "descriptor_table.json"))
    args = parser.parse_args(argv)
    rows = []
    describers = _descriptors(args.model, not args.no_baselines)
    for dataset in args.dataset or ["default"]:
        root = dataset_root(dataset)
        splits_file = root / "tasks" / "splits" / "splits.json"
        split_name = next(iter(json.loads(splits_file.read_text())))
        split = get_split(split_name, splits_file)
        source = HPatchesRelease(root / "nhpatches", noisy=args.inputs == "noisy")
        for label, describe in describers.items():
            start = time.perf_counter()
            results = evaluate_descriptor(describe, source, split, tasks_dir=root / "tasks", name=label,
                                          verbose=False)
            summary = dict(results.summary)
            rows.append({"descriptor": label, "dataset": dataset, "split": split_name, "inputs": args.inputs,
                         "seconds": round(time.perf_counter() - start, 1), **summary})
            print(f"{label:32s} {dataset:24s} V {summary['verification']:.4f}  M {summary['matching']:.4f}  "
                  f"R {summary['retrieval']:.4f}  mean {summary['mean']:.4f}", flush=True)
    print()
    print("| descriptor | dataset | verification | matching | retrieval | mean |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['descriptor']} | {row['dataset']} | {row['verification']:.4f} | {row['matching']:.4f} | "
              f"{row['retrieval']:.4f} | {row['mean']:.4f} |")
    atomic_write_text(Path(args.out), json.dumps({"inputs": args.inputs, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
