"""One-command device check: what this machine's accelerator (or CPU) gives for inference and training.

Prints the TensorFlow devices, then HardNet inference patches/s and HardNet training pairs/s (hardest-in-batch,
Adam) on whatever device TensorFlow uses, for float32 and, with ``--mixed-precision``, float16 / bfloat16 compute
(`descriptors.training.precision`), each with XLA on and off (``--jit-compile``). Median of ``--repeats`` timed
runs after a warm-up, like ``bench_throughput.py``. The numbers are for the docs (docs/performance.md); nothing is
asserted.

Usage: ``.venv/bin/python benchmarks/device_check.py [--mixed-precision float16 bfloat16] [--jit-compile on off]
[--batch 512] [--repeats 5] [--out FILE.json]``
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_throughput import machine_info, timed  # noqa: E402

from hpatches_eval.results import write_json_atomic  # noqa: E402


def devices() -> list[str]:
    import tensorflow as tf

    return [f"{d.device_type}:{d.name}" for d in tf.config.list_physical_devices()]


def measure(mode: str, jit: str, batch: int, repeats: int) -> dict:
    """Inference patches/s and training pairs/s of HardNet in ``mode`` (off / float16 / bfloat16) with XLA ``jit``."""
    import keras

    from descriptors.losses.registry import build_loss
    from descriptors.models.registry import build_descriptor
    from descriptors.training.precision import precision_policy
    from descriptors.training.tuple_encoder import TupleEncoder

    rng = np.random.default_rng(0)
    patches = rng.uniform(0, 255, (batch, 32, 32, 1)).astype("float32")
    pairs = rng.uniform(0, 255, (batch, 2, 32, 32, 1)).astype("float32")
    ids = np.arange(batch)
    keras.utils.set_random_seed(0)
    with precision_policy(mode):
        descriptor = build_descriptor("hardnet")
        flag = {"on": True, "off": False}[jit]
        descriptor.compile(jit_compile=flag)
        inference = timed(lambda: descriptor.predict_on_batch(patches), repeats)
        trainer = TupleEncoder(build_descriptor("hardnet"))
        trainer.compile(optimizer=keras.optimizers.Adam(1e-3), loss=build_loss("hardest_in_batch"), jit_compile=flag)
        training = timed(lambda: trainer.train_on_batch(pairs, ids), repeats)
    return {"mixed_precision": mode, "jit_compile": jit, "batch": batch,
            "inference_patches_per_s": round(batch / inference, 1), "training_pairs_per_s": round(batch / training, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mixed-precision", nargs="+", default=["off"], choices=["off", "float16", "bfloat16"])
    parser.add_argument("--jit-compile", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    modes = ["off", *[m for m in args.mixed_precision if m != "off"]]
    print(f"devices: {', '.join(devices())}", flush=True)
    rows = []
    for mode in modes:
        for jit in args.jit_compile:
            row = measure(mode, jit, args.batch, args.repeats)
            rows.append(row)
            print(f"precision {mode:8s} xla {jit:3s}  inference {row['inference_patches_per_s']:>10,.0f} patches/s"
                  f"  training {row['training_pairs_per_s']:>8,.0f} pairs/s", flush=True)
    if args.out:
        write_json_atomic(args.out, {"machine": machine_info(), "devices": devices(), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
