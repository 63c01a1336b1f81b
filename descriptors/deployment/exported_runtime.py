"""Describe patches with an exported model file, in the runtime of its format (TensorFlow, ONNX Runtime, LiteRT).

Example:
    >>> describe = ExportedDescriptor("model.onnx")  # doctest: +SKIP
    >>> describe(np.zeros((4, 65, 65), np.uint8)).shape  # doctest: +SKIP
    (4, 128)
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np


def exported_format(path: str | Path) -> str | None:
    """``"saved_model"`` (a folder with ``saved_model.pb``), ``"onnx"`` (``.onnx``), ``"litert"`` (``.tflite``), or
    None when ``path`` is none of these."""
    path = Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return "saved_model"
    if path.is_file() and path.suffix.lower() == ".onnx":
        return "onnx"
    if path.is_file() and path.suffix.lower() == ".tflite":
        return "litert"
    return None


# What the LiteRT runtime prints (from C++, straight to file descriptor 2) the first time it runs a model.
_LITERT_BANNERS = ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",)


@contextlib.contextmanager
def _without_litert_banner():
    """Captures what native code writes to stderr meanwhile and writes it back without LiteRT's start-up INFO line
    (an informational line that reads like a log of something going on; anything else is passed through)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no real stderr (e.g. some notebook kernels): nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if line.strip() not in _LITERT_BANNERS)
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


def _litert_interpreter(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # the deprecated copy inside TensorFlow
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Interpreter(model_path=str(path))


class ExportedDescriptor:
    """A callable ``patches -> descriptors`` backed by an exported model file (see `export_pipeline`).

    Patches are prepared as `DescriptorPipeline.describe` prepares them (any (N, P, P) or (N, P, P, 1) uint8 or
    float patches in 0..255; P != 32 is area-resized) and run in batches.

    Args:
        path: a SavedModel folder, a ``.onnx`` file or a ``.tflite`` file.
        batch_size: patches per runtime call. Defaults to 512.

    Raises:
        FileNotFoundError: ``path`` is not an exported model of a known format.
        ImportError: the runtime of the format (onnxruntime, ai-edge-litert / TensorFlow) is not installed.
    """

    def __init__(self, path: str | Path, batch_size: int = 512):
        self.path = Path(path)
        self.format = exported_format(self.path)
        if self.format is None:
            raise FileNotFoundError(f"Not an exported model (a SavedModel folder, .onnx or .tflite file): "
                                    f"{str(self.path)!r}")
        self.batch_size = int(batch_size)
        if self.format == "saved_model":
            import tensorflow as tf

            self._loaded = tf.saved_model.load(str(self.path))  # keep it: its variables die with it
            self._run = self._loaded.serve
        elif self.format == "onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            self._run = lambda batch: session.run(None, {name: batch})[0]
        else:
            self._interpreter = _litert_interpreter(self.path)
            self._ran = False
            self._run = self._run_litert

    def _run_litert(self, batch: np.ndarray) -> np.ndarray:
        interpreter = self._interpreter
        entry = interpreter.get_input_details()[0]
        with _without_litert_banner() if not self._ran else contextlib.nullcontext():
            if tuple(entry["shape"]) != batch.shape:
                interpreter.resize_tensor_input(entry["index"], batch.shape)
                interpreter.allocate_tensors()
            interpreter.set_tensor(entry["index"], batch)
            interpreter.invoke()
        self._ran = True
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()

    def __call__(self, patches) -> np.ndarray:
        """Descriptors, float32 (N, D)."""
        from descriptors.models.pipeline import prepare_patches  # Keras: not needed to tell a file's format

        patches = np.asarray(patches)
        chunks = [np.asarray(self._run(prepare_patches(patches[start:start + self.batch_size])), np.float32)
                  for start in range(0, len(patches), self.batch_size)]
        if not chunks:
            prepare_patches(patches)  # validates the shape of an empty input
            dim = np.asarray(self._run(np.zeros((1, 32, 32, 1), np.float32))).shape[-1]
            return np.zeros((0, dim), np.float32)
        return np.concatenate(chunks)
