"""`descriptors.deployment` and `python -m descriptors.export`: the exported SavedModel / ONNX / LiteRT models give
the Keras pipeline's descriptors, run in their own runtimes (TensorFlow, ONNX Runtime, LiteRT)."""

import os

import keras
import numpy as np
import pytest

from descriptors.data.formats import write_patch_file
from descriptors.deployment.export_model import export_pipeline
from descriptors.deployment.exported_runtime import ExportedDescriptor, _without_litert_banner, exported_format
from descriptors.describe import main as describe_main
from descriptors.export import main as export_main
from descriptors.models.layers import PixelClip
from descriptors.models.pipeline import DescriptorPipeline
from descriptors.models.registry import build_denoiser, build_descriptor

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="export needs TensorFlow")


def _pipeline(with_denoiser):
    keras.utils.set_random_seed(7)
    descriptor = build_descriptor("hardnet")
    denoiser = build_denoiser("shallow_unet") if with_denoiser else None
    pipeline = DescriptorPipeline(descriptor, denoiser)
    pipeline.describe(np.zeros((1, 32, 32), np.uint8), verbose=False)  # builds both models
    if with_denoiser:  # a random residual U-Net is close to the identity: move its output off the integers
        for weights in denoiser.weights[-2:]:
            weights.assign(np.full(weights.shape, 0.37, np.float32))
    return pipeline


@pytest.fixture(scope="module")
def patches():
    """65 px uint8 patches: the exported models get them resized to 32 px as `describe` does."""
    return np.random.default_rng(0).integers(0, 256, (7, 65, 65)).astype(np.uint8)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A descriptor-only pipeline exported to the three formats (ONNX through the command line) and to a float16
    LiteRT file; a denoiser + descriptor pipeline exported to a SavedModel."""
    root = tmp_path_factory.mktemp("export")
    plain, denoised = _pipeline(False), _pipeline(True)
    plain.save(root / "plain")
    assert export_main([str(root / "plain"), str(root / "m.onnx"), "--format", "onnx", "--check", "16"]) == 0
    export_pipeline(plain, root / "m.tflite", "litert")
    export_pipeline(plain, root / "m16.tflite", "litert", quantize="float16")
    export_pipeline(plain, root / "sm", "saved_model")
    export_pipeline(denoised, root / "denoised_sm", "saved_model")
    return {"root": root, "plain": plain, "denoised": denoised}


def test_inference_model_is_describe_with_rounding():
    pipeline = _pipeline(True)
    x = np.random.default_rng(1).uniform(0, 255, (5, 32, 32, 1)).astype(np.float32)
    denoised = keras.ops.convert_to_numpy(pipeline.denoiser(x))
    assert np.abs(denoised - np.rint(denoised)).max() > 0.1  # the rounding has something to do
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pipeline.to_inference_model()(x)),
                               pipeline.describe(x, verbose=False), atol=1e-6)


@pytest.mark.parametrize(("name", "fmt"), [("m.onnx", "onnx"), ("m.tflite", "litert"), ("sm", "saved_model")])
def test_exports_give_the_keras_descriptors(exported, patches, name, fmt):
    path = exported["root"] / name
    assert exported_format(path) == fmt
    describe = ExportedDescriptor(path, batch_size=3)  # 7 patches: batches of 3, 3 and 1 (dynamic batch size)
    np.testing.assert_allclose(describe(patches), exported["plain"].describe(patches, verbose=False), atol=1e-5)
    assert describe(patches[:0]).shape == (0, 128)


def test_saved_model_with_denoiser_is_exact(exported, patches):
    got = ExportedDescriptor(exported["root"] / "denoised_sm")(patches)
    np.testing.assert_allclose(got, exported["denoised"].describe(patches, verbose=False), atol=1e-5)


def test_float16_litert_is_half_the_size_and_close(exported, patches, capfd):
    """Also: LiteRT's native "INFO: Created TensorFlow Lite XNNPACK delegate" line is not printed; other native
    stderr output still is (`_without_litert_banner` passes it through)."""
    root = exported["root"]
    full, half = (root / "m.tflite").stat().st_size, (root / "m16.tflite").stat().st_size
    assert half < 0.6 * full
    expected = exported["plain"].describe(patches, verbose=False)
    capfd.readouterr()
    got = ExportedDescriptor(root / "m16.tflite")(patches)
    assert "XNNPACK" not in capfd.readouterr().err
    with _without_litert_banner():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\nE0000 something else\n")
    assert capfd.readouterr().err == "E0000 something else\n"
    assert np.abs(got - expected).max() < 0.02
    assert ((got * expected).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)).min() > 0.999


def test_describe_command_reads_an_exported_model(exported, patches, tmp_path):
    write_patch_file(tmp_path / "ref.png", patches)
    assert describe_main([str(tmp_path / "ref.png"), "--out", str(tmp_path / "d.csv"),
                          "--model", str(exported["root"] / "m.onnx")]) == 0
    np.testing.assert_allclose(np.loadtxt(tmp_path / "d.csv", delimiter=","),
                               exported["plain"].describe(patches, verbose=False), atol=2e-6)


def test_pixel_clip_rounds_half_to_even_and_round_trips():
    layer = PixelClip(0.0, 255.0, round_values=True)
    out = keras.ops.convert_to_numpy(layer(np.array([-3.0, 2.5, 3.5, 254.6, 300.0], np.float32)))
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0, 255.0, 255.0])
    assert PixelClip.from_config(layer.get_config()).round_values is True
    assert PixelClip.from_config({"min_value": 0.0, "max_value": 1.0}).round_values is False  # older configs
