"""What a run ran on, saved as ``machine.json`` in its run folder, so that two runs whose numbers differ can be
compared: library versions, Keras backend, CPU model and the instruction sets that select TensorFlow's oneDNN
kernels, thread settings, and the determinism flag. One entry is appended each time the run starts or resumes.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from descriptors.training.checkpoints import atomic_write_text

CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_bf16",
             "amx_tile")  # the x86 features oneDNN / Eigen dispatch on
PACKAGES = ("numpy", "keras", "tensorflow", "tensorflow-cpu", "jax", "opencv-python-headless")
FILE_NAME = "machine.json"
# Variables that change which kernels run (and so the low bits of every result) or how many threads they use.
ENVIRONMENT = ("TF_ENABLE_ONEDNN_OPTS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OMP_NUM_THREADS",
               "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "CUDA_VISIBLE_DEVICES", "TF_CONFIG")


def _cpu() -> dict:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine(), platform.processor()):
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return {"model": model, "flags": [f for f in CPU_FLAGS if f in flags], "count": os.cpu_count()}


def _versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def machine_info(deterministic: bool) -> dict:
    """The entry `record_machine` appends (a JSON-ready dict)."""
    import keras

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu(),
        "packages": _versions(),
        "keras_backend": keras.config.backend(),
        "environment": {k: os.environ[k] for k in ENVIRONMENT if k in os.environ},
        "deterministic": bool(deterministic),
    }


def record_machine(run_dir, deterministic: bool) -> dict:
    """Appends `machine_info` to ``run_dir/machine.json`` (``{"starts": [...]}``); returns the new entry."""
    path = Path(run_dir) / FILE_NAME
    starts = []
    if path.is_file():
        try:
            starts = list(json.loads(path.read_text()).get("starts", []))
        except (ValueError, AttributeError, TypeError):
            starts = []  # a damaged record is replaced, it is informative only
    entry = machine_info(deterministic)
    atomic_write_text(path, json.dumps({"starts": [*starts, entry]}, indent=2))
    return entry
