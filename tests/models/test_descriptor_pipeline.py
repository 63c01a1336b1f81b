import json
import zipfile

import cv2
import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError, ShapeError
from descriptors.models import DescriptorPipeline, HardNet, L2Net, PixelClip, ShallowUNet, prepare_patches
from descriptors.models.pipeline import ModelFileError, load_model_file


@pytest.fixture(scope="module")
def descriptor():
    keras.utils.set_random_seed(3)
    return L2Net(descriptor_dim=16)


@pytest.fixture(scope="module")
def denoiser():
    keras.utils.set_random_seed(4)
    return ShallowUNet()  # raw 0..255 output: overshoots the range, so the clip matters


@pytest.fixture
def patches65(rng):
    return rng.integers(0, 256, (5, 65, 65), dtype=np.uint8)


def _area32(patches):
    return np.stack([cv2.resize(p, (32, 32), interpolation=cv2.INTER_AREA) for p in patches])


def test_prepare_patches_resizes_uint8_with_area_and_accepts_channel_axis(patches65):
    expected = _area32(patches65).astype(np.float32)[..., None]
    np.testing.assert_array_equal(prepare_patches(patches65), expected)
    np.testing.assert_array_equal(prepare_patches(patches65[..., None]), expected)
    block = np.full((1, 64, 64), 10.0)
    block[0, :2, :2] = 50.0  # one 2x2 block -> one output pixel averaged: 50
    out = prepare_patches(block)
    assert out.shape == (1, 32, 32, 1) and out.dtype == np.float32 and out[0, 0, 0, 0] == 50.0 and out[0, 1, 1, 0] == 10
    same = np.arange(2 * 32 * 32, dtype=np.uint8).reshape(2, 32, 32)
    np.testing.assert_array_equal(prepare_patches(same)[..., 0], same)


@pytest.mark.parametrize("shape", [(3, 32, 31), (3, 32), (3, 32, 32, 3)])
def test_prepare_patches_rejects_bad_shapes(shape):
    with pytest.raises(ShapeError, match=r"`patches` must have shape \(N, P, P\) or \(N, P, P, 1\)\. Received"):
        prepare_patches(np.zeros(shape, np.uint8))


def test_prepare_patches_rejects_non_numeric():
    with pytest.raises(TypeError, match=r"`patches` must be a real numeric array"):
        prepare_patches(np.array([["a"]]))


def test_describe_uint8_65px_equals_descriptor_of_resized(descriptor, patches65):
    pipeline = DescriptorPipeline(descriptor)
    out = pipeline.describe(patches65, batch_size=2, verbose=False)
    assert out.shape == (5, 16) and out.dtype == np.float32
    expected = descriptor.predict_on_batch(_area32(patches65).astype(np.float32)[..., None])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pipeline(patches65), out, rtol=1e-5, atol=1e-6)
    assert pipeline.describe(np.zeros((0, 65, 65), np.uint8), verbose=False).shape == (0, 16)


def test_describe_with_denoiser_clips_before_the_descriptor(descriptor, denoiser, patches65):
    pipeline = DescriptorPipeline(descriptor, denoiser)
    x = _area32(patches65).astype(np.float32)[..., None]
    raw = denoiser.predict_on_batch(x)
    assert raw.min() < 0 or raw.max() > 255  # the clip is exercised
    denoised = np.clip(np.rint(raw), 0, 255)  # rounded like the uint8 patches descriptors are trained on
    np.testing.assert_allclose(pipeline.denoise(patches65, batch_size=3, verbose=False), denoised, rtol=1e-5, atol=1e-4)
    expected = descriptor.predict_on_batch(denoised)
    np.testing.assert_allclose(pipeline.describe(patches65, batch_size=3, verbose=False), expected, atol=1e-5)
    combined = pipeline.to_keras_model()  # differentiable: clipped, not rounded
    assert any(isinstance(layer, PixelClip) for layer in combined.layers)
    np.testing.assert_allclose(combined.predict_on_batch(x), descriptor.predict_on_batch(np.clip(raw, 0, 255)), atol=1e-5)


def test_save_and_load_round_trip(descriptor, denoiser, patches65, tmp_path):
    pipeline = DescriptorPipeline(descriptor, denoiser)
    pipeline.save(tmp_path / "pipe")
    manifest = json.loads((tmp_path / "pipe" / "pipeline.json").read_text())
    assert manifest == {"format_version": 1, "descriptor": "descriptor.keras", "denoiser": "denoiser.keras"}
    loaded = DescriptorPipeline.load(tmp_path / "pipe")
    assert type(loaded.descriptor) is L2Net and type(loaded.denoiser) is ShallowUNet
    np.testing.assert_array_equal(loaded(patches65), pipeline(patches65))
    DescriptorPipeline(descriptor).save(tmp_path / "pipe")  # overwrite without a denoiser
    assert sorted(p.name for p in (tmp_path / "pipe").iterdir()) == ["descriptor.keras", "pipeline.json"]
    assert DescriptorPipeline.load(tmp_path / "pipe").denoiser is None


def test_combined_model_fine_tunes_end_to_end(rng):
    from descriptors.losses import HardestInBatchLoss

    pipeline = DescriptorPipeline(HardNet(descriptor_dim=8), ShallowUNet(residual=True, input_scale=1 / 255))
    combined = pipeline.to_keras_model()
    inputs = [keras.Input((32, 32, 1)) for _ in range(2)]
    stacked = keras.layers.Concatenate(axis=1)([keras.layers.Reshape((1, 8))(combined(x)) for x in inputs])
    model = keras.Model(inputs, stacked)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=HardestInBatchLoss())
    before = pipeline.denoiser.get_layer("conv1").kernel.numpy().copy()
    x = [rng.uniform(0, 255, (6, 32, 32, 1)).astype(np.float32) for _ in range(2)]
    assert np.isfinite(model.train_on_batch(x, np.zeros(6, np.float32)))
    assert not np.array_equal(before, pipeline.denoiser.get_layer("conv1").kernel.numpy())


def test_errors(descriptor, tmp_path):
    with pytest.raises(TypeError, match=r"`descriptor` must be a keras.Model\. Received: descriptor=None"):
        DescriptorPipeline(None)
    with pytest.raises(TypeError, match=r"`denoiser` must be a keras.Model\. Received: denoiser=str"):
        DescriptorPipeline(descriptor, "unet")
    with pytest.raises(ConfigError, match=r"`batch_size` must be a positive integer\. Received: batch_size=0"):
        DescriptorPipeline(descriptor).describe(np.zeros((2, 32, 32), np.uint8), batch_size=0)
    with pytest.raises(FileNotFoundError, match=r"No pipeline.json in"):
        DescriptorPipeline.load(tmp_path)
    (tmp_path / "pipeline.json").write_text(json.dumps({"format_version": 9}))
    with pytest.raises(ConfigError,
                       match=r"`format_version` in '.*pipeline.json' must be 1\. Received: format_version=9"):
        DescriptorPipeline.load(tmp_path)
    (tmp_path / "pipeline.json").write_text('{"format_version": 1, "descr')
    with pytest.raises(ModelFileError, match=r"pipeline.json' is not valid JSON"):
        DescriptorPipeline.load(tmp_path)
    (tmp_path / "pipeline.json").write_text(json.dumps({"format_version": 1, "descriptor": "../x.keras"}))
    with pytest.raises(ModelFileError, match=r"`descriptor` in .* must be the name of a .keras file in that folder"):
        DescriptorPipeline.load(tmp_path)


def _lambda_model(marker):
    """A model whose Lambda layer would create ``marker`` if its (serialised) Python code were ever run."""
    function = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # noqa: S307 (test fixture)
    inputs = keras.Input((32, 32, 1))
    outputs = keras.layers.Flatten()(keras.layers.Lambda(function)(inputs))
    return keras.Model(inputs, outputs)


def test_loaders_refuse_code_in_model_files_and_name_the_file(tmp_path, descriptor):
    marker = tmp_path / "code-was-run"
    folder = tmp_path / "crafted"
    DescriptorPipeline(_lambda_model(marker)).save(folder)
    marker.unlink()  # building the model ran the lambda once; loading must not run it again
    with pytest.raises(ModelFileError, match=r"^Model file '.*crafted/descriptor\.keras' was refused by Keras safe "
                                             r"mode: Requested the deserialization of a `Lambda` layer"):
        DescriptorPipeline.load(folder)
    assert not marker.exists()
    keras.saving.load_model(folder / "descriptor.keras", safe_mode=False)  # the control: unsafe loading runs it
    assert marker.exists()
    # A lambda hidden in a layer option is wrapped by Keras in a TypeError: still reported as refused.
    path = tmp_path / "dense.keras"
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2, activation="relu")(inputs)).save(path)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": None, "class_name": "__lambda__", "registered_name": None,
        "config": {"code": "x", "defaults": None, "closure": None}}
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"dense\.keras' was refused by Keras safe mode: Requested the "
                                             r"deserialization of a Python lambda"):
        load_model_file(path)
    # A foreign function (here os.system) is not found among the registered objects: refused, never imported.
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "os", "class_name": "function", "config": "system", "registered_name": "system"}
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"dense\.keras' cannot be loaded: Could not locate function 'system'"):
        load_model_file(path)
    # Damaged files.
    good = tmp_path / "good.keras"
    descriptor.save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=r"truncated\.keras' is not a Keras archive \(not a complete zip"):
        load_model_file(truncated)
    with pytest.raises(FileNotFoundError, match=r"Model file not found: '.*missing\.keras'"):
        load_model_file(tmp_path / "missing.keras")
    assert load_model_file(good).count_params() == descriptor.count_params()
