"""Export a `DescriptorPipeline` to a TensorFlow SavedModel, ONNX or LiteRT (TFLite), through Keras' own export.

The exported graph is `DescriptorPipeline.to_inference_model()`: float32 pixels 0..255 of shape (B, 32, 32, 1),
batch dimension dynamic, -> (B, D) descriptors; it denoises, rounds and clips to 0..255 and describes, exactly as
`DescriptorPipeline.describe` does on 32x32 input (other patch sizes: resize first, e.g. with
`descriptors.models.pipeline.prepare_patches`, or describe with `ExportedDescriptor`, which does it).

Keras exports with the TensorFlow backend only here (SavedModel and LiteRT go through TensorFlow; ONNX through
tf2onnx); LiteRT can be post-training quantised:

* ``float16``: weights stored as float16 (half the file), computation in float32;
* ``int8``: dynamic-range quantisation: int8 weights, activations quantised on the fly (no calibration data).

Example:
    >>> import tempfile, pathlib
    >>> from descriptors.models.registry import build_descriptor
    >>> from descriptors.models.pipeline import DescriptorPipeline
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "model.onnx"
    >>> _ = export_pipeline(DescriptorPipeline(build_descriptor("l2net")), out, "onnx")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np

from descriptors.errors import ConfigError

FORMATS = ("saved_model", "onnx", "litert")
QUANTIZATIONS = ("none", "float16", "int8")
SUFFIXES = {"saved_model": "", "onnx": ".onnx", "litert": ".tflite"}
_KERAS_FORMAT = {"saved_model": "tf_saved_model", "onnx": "onnx", "litert": "litert"}


def check_export_options(export_format: str, quantize: str = "none") -> None:
    """Raises ConfigError (naming the value) for an unknown format or quantisation, or a quantised non-LiteRT.
    Imports nothing heavy (a command line checks its arguments with it before loading TensorFlow)."""
    if export_format not in FORMATS:
        raise ConfigError(f"`format` must be one of {FORMATS}. Received: format={export_format!r}")
    if quantize not in QUANTIZATIONS:
        raise ConfigError(f"`quantize` must be one of {QUANTIZATIONS}. Received: quantize={quantize!r}")
    if quantize != "none" and export_format != "litert":
        raise ConfigError(f"`quantize` applies to the LiteRT format only. Received: format={export_format!r}, "
                          f"quantize={quantize!r}")


def _litert_options(quantize: str) -> dict:
    if quantize == "none":
        return {}
    import tensorflow as tf

    options = {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if quantize == "float16":
        options["target_spec"] = {"supported_types": [tf.float16]}
    return options


def export_pipeline(pipeline, out: str | Path, export_format: str, quantize: str = "none") -> Path:
    """Writes ``pipeline`` to ``out`` in ``export_format``.

    Args:
        pipeline: a `descriptors.models.pipeline.DescriptorPipeline`.
        out: a folder for ``saved_model``, a ``.onnx`` or ``.tflite`` file for ``onnx`` / ``litert``. It is
            written in place: use `hpatches_eval.output_safety.staged_dir` / `staged_file` around this call for an
            all-or-nothing output (the command line does).
        export_format: ``"saved_model"``, ``"onnx"`` or ``"litert"``.
        quantize: ``"none"``, or for LiteRT ``"float16"`` / ``"int8"`` (see the module docstring).

    Returns:
        ``out`` as a Path.

    Raises:
        ConfigError: an unknown format or quantisation, a quantised non-LiteRT format, a backend other than
            TensorFlow, or a file name without the format's suffix.
    """
    import keras

    check_export_options(export_format, quantize)
    if keras.backend.backend() != "tensorflow":
        raise ConfigError("Exporting needs the TensorFlow Keras backend (set KERAS_BACKEND=tensorflow). "
                          f"Received: backend={keras.backend.backend()!r}")
    out = Path(out)
    suffix = SUFFIXES[export_format]
    if suffix and not out.name.endswith(suffix):
        raise ConfigError(f"The {export_format} output must be a file ending in {suffix!r}. Received: {str(out)!r}")
    model = pipeline.to_inference_model()
    model(np.zeros((1, 32, 32, 1), np.float32))  # ONNX and SavedModel export need a model that has been called
    options = _litert_options(quantize) if export_format == "litert" else {}
    with contextlib.redirect_stdout(io.StringIO()):  # Keras and the converters print their own progress
        model.export(str(out), format=_KERAS_FORMAT[export_format], verbose=False, **options)
    return out
