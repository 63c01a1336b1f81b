"""Exported models on the default test split: file size, speed, distance from Keras and the mean-mAP change.

Exports a pipeline (the shipped one by default) with `descriptors.deployment.export_pipeline` to a SavedModel,
ONNX and LiteRT without / with float16 / with int8 (dynamic-range) quantisation, describes the default dataset's
test split (noisy 32 px patches) with each in its own runtime, and scores it with hpatches_eval:

    python benchmarks/bench_export.py [--model descriptors/weights/default] [--out benchmarks/results/export.json]

Prints a Markdown table and writes JSON. Throughput is single-process CPU inference, describe_sequences'
batches of 512 patches, one timing (the machine may be shared: see the JSON's load averages).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from descriptors.data.default import default_dataset  # noqa: E402
from descriptors.data.formats import HPatchesRelease  # noqa: E402
from descriptors.deployment.export_model import export_pipeline  # noqa: E402
from descriptors.deployment.exported_runtime import ExportedDescriptor  # noqa: E402
from descriptors.evaluation import describe_sequences  # noqa: E402
from descriptors.models.pipeline import DescriptorPipeline  # noqa: E402
from descriptors.training.checkpoints import atomic_write_text  # noqa: E402
from hpatches_eval.splits import get_split  # noqa: E402

VARIANTS = [("SavedModel", "saved_model", "none", "sm"), ("ONNX", "onnx", "none", "m.onnx"),
            ("LiteRT", "litert", "none", "m.tflite"), ("LiteRT float16", "litert", "float16", "m16.tflite"),
            ("LiteRT int8 (dynamic range)", "litert", "int8", "m8.tflite")]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def main(argv=None) -> int:
    import hpatches_eval

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "descriptors" / "weights" / "default"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "export.json"))
    args = parser.parse_args(argv)
    root = Path(default_dataset())
    split = get_split("default", root / "tasks" / "splits" / "splits.json")
    source = HPatchesRelease(root / "nhpatches", noisy=True)
    pipeline = DescriptorPipeline.load(args.model)

    def run(label, describe, size=None):
        start = time.perf_counter()
        codes = describe_sequences(describe, source, split.test, verbose=False)
        seconds = time.perf_counter() - start
        count = sum(len(v) for per_type in codes.values() for v in per_type.values())
        result = hpatches_eval.evaluate(codes, tasks_dir=root / "tasks", split="default", name=label)
        return codes, {"variant": label, "size_mb": None if size is None else round(size / 1e6, 2),
                       "patches_per_second": round(count / seconds), **dict(result.summary)}

    reference, row = run("Keras", pipeline)
    rows = [row]
    with tempfile.TemporaryDirectory() as folder:
        for label, fmt, quantize, name in VARIANTS:
            path = Path(folder) / name
            start = time.perf_counter()
            export_pipeline(pipeline, path, fmt, quantize)
            export_seconds = time.perf_counter() - start
            codes, row = run(label, ExportedDescriptor(path), _size(path))
            diff = max(float(np.abs(codes[s][t] - reference[s][t]).max()) for s in codes for t in codes[s])
            row.update(export_seconds=round(export_seconds, 1), max_abs_difference=diff,
                       mean_change=row["mean"] - rows[0]["mean"])
            rows.append(row)
            print(f"{label:30s} mean {row['mean']:.4f} ({row['mean_change']:+.4f})  max|diff| {diff:.2e}  "
                  f"{row['patches_per_second']} patches/s  {row['size_mb']} MB", flush=True)
    print("\n| variant | size (MB) | patches/s | verification | matching | retrieval | mean | change | max abs diff |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['variant']} | {row['size_mb'] or ''} | {row['patches_per_second']:,} | "
              f"{row['verification']:.4f} | {row['matching']:.4f} | {row['retrieval']:.4f} | {row['mean']:.4f} | "
              f"{row.get('mean_change', 0.0):+.4f} | {row.get('max_abs_difference', 0.0):.1e} |")
    atomic_write_text(Path(args.out), json.dumps({
        "model": os.path.relpath(args.model, ROOT), "dataset": "default test split, noisy 32 px patches",
        "load_average": os.getloadavg(), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
