"""Every backbone: builds with random init (no network), embeds to E, unit norm, `.keras` round trip."""

import socket

import keras
import numpy as np
import pytest

from descriptors.embeddings import applications
from descriptors.embeddings.backbones import BACKBONES, build_backbone
from descriptors.errors import ConfigError

LIGHT = {
    "l2net": {},
    "hardnet": {},
    "sosnet": {},
    "hynet": {},
    "tfeat": {"filters": (8, 16)},
    "simnet": {"deep_filters": (8, 16), "shallow_filters": 8},
    "mobilenetv3_small": {"application_options": {"alpha": 0.75, "minimalistic": True}},
    "vit": {"depth": 1},  # ViT and Swin: tests/embeddings/test_transformer_backbones.py
    "swin": {"depths": (1, 1)},
}
HEAVY = ("resnet50", "efficientnetv2_b0", "densenet121")


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a backbone tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(keras.utils, "get_file", refuse)


def _round_trip(model, images, tmp_path):
    codes = keras.ops.convert_to_numpy(model(images, training=False))
    path = tmp_path / "backbone.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(images, training=False)), codes)
    return codes


def test_every_backbone_is_tested():
    assert set(BACKBONES) == set(LIGHT) | set(HEAVY)


@pytest.mark.parametrize("name", sorted(LIGHT))
def test_light_backbone_embeds_and_round_trips(name, rng, tmp_path, no_network):
    model = build_backbone(name, input_shape=(32, 32, 1), embedding_dim=8, **LIGHT[name])
    images = rng.uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    codes = _round_trip(model, images, tmp_path)
    assert codes.shape == (4, 8) and model.embedding_dim == 8 and model.image_shape == (32, 32, 1)
    if name != "mobilenetv3_small":  # its random-init features are ~1e-7, below the L2 layer's epsilon
        np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", HEAVY)
def test_heavy_application_embeds_and_round_trips_at_32px(name, rng, tmp_path, no_network):
    model = build_backbone(name, input_shape=(32, 32, 1), embedding_dim=8)
    images = rng.uniform(0, 255, (2, 32, 32, 1)).astype(np.float32)
    codes = _round_trip(model, images, tmp_path)
    assert codes.shape == (2, 8) and np.all(np.isfinite(codes))


@pytest.mark.parametrize("name", sorted(applications.APPLICATIONS))
def test_applications_are_built_with_weights_none_by_default(name, monkeypatch):
    calls = []
    real = applications.application_constructor

    def spy(application):
        def build(**kwargs):
            calls.append(kwargs)
            return keras.Sequential([keras.Input(kwargs["input_shape"]), keras.layers.Conv2D(4, 3)])

        assert real(application) is not None
        return build

    monkeypatch.setattr(applications, "application_constructor", spy)
    model = build_backbone(name, input_shape=(32, 32, 3), embedding_dim=4)
    assert calls == [{"include_top": False, "weights": None, "input_shape": (32, 32, 3), "pooling": None}]
    assert model.output.shape == (None, 4)


def test_patch_net_resizes_and_grays_colour_images(rng):
    model = build_backbone("l2net", input_shape=(48, 48, 3), embedding_dim=16)
    codes = np.asarray(model.predict(rng.uniform(0, 255, (3, 48, 48, 3)).astype(np.float32), verbose=0))
    assert codes.shape == (3, 16)
    assert [layer.name for layer in model.layers[1:3]] == ["resize", "grayscale"]


def test_local_weights_file_is_loaded(rng, tmp_path):
    source = build_backbone("tfeat", embedding_dim=8, filters=(8, 16))
    path = tmp_path / "tfeat.weights.h5"
    source.save_weights(path)
    keras.utils.set_random_seed(99)
    copy = build_backbone("tfeat", embedding_dim=8, filters=(8, 16), weights=str(path))
    images = rng.uniform(0, 255, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(copy.predict(images, verbose=0), source.predict(images, verbose=0), atol=1e-6)


def test_patch_net_loads_a_saved_descriptor(tmp_path, rng):
    from descriptors.models import L2Net

    descriptor = L2Net(descriptor_dim=8)
    descriptor.save(tmp_path / "descriptor.keras")
    model = build_backbone("l2net", embedding_dim=8, weights=str(tmp_path / "descriptor.keras"))
    patches = rng.uniform(0, 255, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(model.predict(patches, verbose=0), descriptor.predict(patches, verbose=0), atol=1e-6)


def test_bad_backbone_arguments_raise(tmp_path):
    with pytest.raises(ConfigError, match=r"`name` must be one of the backbone names .*Received: name='vgg16'"):
        build_backbone("vgg16")
    with pytest.raises(ConfigError, match="nothing is downloaded. Received: weights='imagenet'"):
        build_backbone("resnet50", weights="imagenet")
    with pytest.raises(FileNotFoundError, match="must be an existing file"):
        build_backbone("tfeat", weights=str(tmp_path / "missing.h5"))
    with pytest.raises(ConfigError, match=r"`input_shape` of ApplicationEmbedder must be .*H, W >= 32"):
        build_backbone("densenet121", input_shape=(16, 16, 1))
    with pytest.raises(ConfigError, match=r"`input_shape` of SimNet must be .*H, W >= 32"):
        build_backbone("simnet", input_shape=(16, 16, 1))
    with pytest.raises(ConfigError, match="`embedding_dim` of TFeat must be a positive integer"):
        build_backbone("tfeat", embedding_dim=0)
    with pytest.raises(ConfigError, match=r"`application_options` of ApplicationEmbedder .*\['alpha'"):
        build_backbone("mobilenetv3_small", application_options={"depth": 2})
    with pytest.raises(ConfigError, match="Invalid arguments for backbone 'tfeat'"):
        build_backbone("tfeat", depth=3)
    with pytest.raises(ConfigError, match="`filters` of TFeat must be two positive integers"):
        build_backbone("tfeat", filters=(8,))
    with pytest.raises(ConfigError, match="`mode` of ApplicationPreprocessing must be one of"):
        from descriptors.embeddings.layers import ApplicationPreprocessing

        ApplicationPreprocessing("inception")


def test_patch_embedder_runs_the_registered_patch_descriptor(rng):
    """The embedder holds no copy: its inner network is `descriptors.models`' own, TFeat made unit-norm."""
    from descriptors.embeddings.patch_nets import PatchNetEmbedder
    from descriptors.models import TFeatDescriptor

    embedder = PatchNetEmbedder(net="tfeat", input_shape=(32, 32, 1), embedding_dim=8)
    inner = [layer for layer in embedder.layers if isinstance(layer, TFeatDescriptor)]
    assert len(inner) == 1 and inner[0].normalize is True
    images = rng.uniform(0, 255, (3, 32, 32, 1)).astype(np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(embedder(images)),
                                  keras.ops.convert_to_numpy(inner[0](images)))
    assert PatchNetEmbedder(net="tfeat", embedding_dim=8, net_options={"normalize": False}).net_options == {
        "normalize": False}
