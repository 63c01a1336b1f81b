"""`TFeatDescriptor`: the TFeat patch descriptor (Balntas et al., BMVC 2016) on 32x32 patches."""

import copy

import keras

from descriptors.errors import ConfigError
from descriptors.models.base import ConfigModel, check_descriptor_dim, initializer_factory, patch_input
from descriptors.models.l2net import check_flag
from descriptors.models.layers import L2Normalization, PatchStandardization
from descriptors.models.sosnet import INSTANCE_NORM_EPSILON


def tfeat_trunk(x, filters=(32, 64), initializer=None):
    """TFeat's layers after its input normalisation: Conv 7x7 + tanh, max-pool 2, Conv 6x6 + tanh, flatten.

    Shared by `TFeatDescriptor` and the image backbone `descriptors.embeddings.TFeat` (layer names ``conv1``,
    ``pool1``, ``conv2``, ``flatten``).

    Args:
        x: a (B, H, W, C) tensor, H and W >= 18.
        filters: filters of the two convolutions.
        initializer: a function returning a fresh kernel initializer (None: Keras' default).
    """
    fresh = initializer or (lambda: "glorot_uniform")
    x = keras.layers.Conv2D(filters[0], 7, activation="tanh", kernel_initializer=fresh(), name="conv1")(x)
    x = keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(filters[1], 6, activation="tanh", kernel_initializer=fresh(), name="conv2")(x)
    return keras.layers.Flatten(name="flatten")(x)


@keras.saving.register_keras_serializable(package="descriptors")
class TFeatDescriptor(ConfigModel):
    """TFeat: instance norm, Conv 7x7 + tanh, max-pool 2, Conv 6x6 + tanh, flatten, Dense(D) + tanh.

    The graph of the published TFeat (vbalnt/tfeat, kornia `TFeat`): 32 and 64 filters, a 128-D tanh output that
    is not normalised (`normalize=True` adds an L2 normalisation, for losses that assume unit vectors);
    598,816 weights. The input layer is PyTorch's `InstanceNorm2d(affine=False)`. The Dense layer reads the
    8x8x64 map in Keras' (H, W, C) order; `descriptors.convert` reorders PyTorch's (C, H, W) weights for it, so
    converted weights give the original outputs. The image-embedding backbone `descriptors.embeddings.TFeat` is
    a resizable variant on the same layers (`tfeat_trunk`).

    Args:
        descriptor_dim: output dimension D. Defaults to 128.
        filters: filters of the two convolutions. Defaults to (32, 64).
        normalize: L2-normalise the output. Defaults to False (the original).
        kernel_initializer: initializer of the convs and the Dense layer. Defaults to "glorot_uniform".
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels (any scale; 0..255 by convention). Output (B, D) float32 in (-1, 1).

    Example:
        >>> import numpy as np
        >>> TFeatDescriptor()(np.zeros((2, 32, 32, 1), "float32")).shape
        (2, 128)
    """

    def __init__(self, descriptor_dim=128, filters=(32, 64), normalize=False, kernel_initializer="glorot_uniform",
                 **kwargs):
        owner = type(self).__name__
        check_descriptor_dim(owner, descriptor_dim)
        filters = tuple(filters) if isinstance(filters, (list, tuple)) else filters
        if not (isinstance(filters, tuple) and len(filters) == 2
                and all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters)):
            raise ConfigError(f"`filters` of {owner} must be two positive integers. Received: filters={filters!r}")
        check_flag(owner, "normalize", normalize)
        initializer = initializer_factory(owner, kernel_initializer)

        inputs = patch_input()
        x = PatchStandardization(epsilon=INSTANCE_NORM_EPSILON, epsilon_placement="variance",
                                 name="instance_normalization")(inputs)
        x = tfeat_trunk(x, filters, initializer)
        outputs = keras.layers.Dense(descriptor_dim, activation="tanh", kernel_initializer=initializer(),
                                     name="dense")(x)
        if normalize:
            outputs = L2Normalization(name="l2_normalization")(outputs)
        arguments = {"descriptor_dim": descriptor_dim, "filters": list(filters), "normalize": normalize,
                     "kernel_initializer": copy.deepcopy(kernel_initializer)}
        kwargs.setdefault("name", "tfeat")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.descriptor_dim = descriptor_dim
        self.filters = filters
        self.normalize = normalize
