"""`PatchNetEmbedder`: the 32x32 patch descriptors of `descriptors.models` (L2-Net, HardNet, SOSNet, HyNet, TFeat)
as image backbones."""

import keras

from descriptors.embeddings.base import (
    EmbeddingBackbone,
    check_input_shape,
    check_weights,
    image_input,
    load_local_weights,
)
from descriptors.embeddings.layers import ChannelMean
from descriptors.errors import ConfigError
from descriptors.models.base import PATCH_SIZE
from descriptors.models.registry import DESCRIPTORS, build_descriptor

PATCH_NETS = ("l2net", "hardnet", "sosnet", "hynet", "tfeat")
UNIT_NORM_OPTIONS = {"tfeat": {"normalize": True}}  # TFeat's published output is not normalised


@keras.saving.register_keras_serializable(package="descriptors")
class PatchNetEmbedder(EmbeddingBackbone):
    """A patch descriptor of `descriptors.models` (L2-Net, HardNet, SOSNet, HyNet, TFeat) applied to whole images.

    The image is resized to 32x32 (bilinear) and averaged to one channel when it has three, then the unchanged
    patch network runs with `descriptor_dim = embedding_dim`; its output is L2-normalised (TFeat's with
    ``normalize=True``, unless ``net_options`` says otherwise).

    Args:
        net: one of `PATCH_NETS`. Defaults to "hardnet".
        input_shape: (H, W, C), H and W >= 8, C in (1, 3). Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        weights: None (random init) or a local `.keras` / `.weights.h5` file of the patch network (e.g. a trained
            `descriptor.keras` with the same E). Defaults to None.
        net_options: extra constructor arguments of the patch network (e.g. {"dropout": 0.1}). Defaults to None.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Raises:
        ConfigError: unknown `net`, bad shape or options. FileNotFoundError: missing `weights` file.

    Shape:
        Input (B, H, W, C) float32 pixels 0..255. Output (B, E) float32, unit L2 norm.
    """

    def __init__(self, net="hardnet", input_shape=(32, 32, 1), embedding_dim=128, weights=None, net_options=None,
                 **kwargs):
        owner = type(self).__name__
        if net not in PATCH_NETS or net not in DESCRIPTORS:
            raise ConfigError(f"`net` of {owner} must be one of {PATCH_NETS}. Received: net={net!r}")
        input_shape = check_input_shape(owner, input_shape)
        weights = check_weights(owner, weights)
        net_options = {**UNIT_NORM_OPTIONS.get(net, {}), **dict(net_options or {})}
        patch_net = build_descriptor(net, descriptor_dim=embedding_dim, **net_options)
        if weights is not None:
            load_local_weights(patch_net, weights)
        inputs = image_input(input_shape)
        x = inputs
        if input_shape[:2] != (PATCH_SIZE, PATCH_SIZE):
            x = keras.layers.Resizing(PATCH_SIZE, PATCH_SIZE, interpolation="bilinear", name="resize")(x)
        if input_shape[2] != 1:
            x = ChannelMean(name="grayscale")(x)
        outputs = patch_net(x)
        arguments = {"net": net, "input_shape": input_shape, "embedding_dim": embedding_dim, "weights": weights,
                     "net_options": net_options}
        kwargs.setdefault("name", f"{net}_embedder")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.net = net
        self.weights_path = weights
        self.net_options = net_options
