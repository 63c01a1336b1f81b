"""`HyNet`: the HyNet descriptor network (Tian et al., NeurIPS 2020): L2-Net's layout with FRN + TLU."""

import copy

import keras

from descriptors.errors import ConfigError
from descriptors.models.base import ConfigModel, check_descriptor_dim, initializer_factory, patch_input
from descriptors.models.frn import FilterResponseNormalization, ThresholdedLinearUnit
from descriptors.models.l2net import check_flag
from descriptors.models.layers import L2Normalization

HYNET_FILTERS = (32, 32, 64, 64, 128, 128)
HYNET_STRIDES = (1, 1, 2, 1, 2, 1)


@keras.saving.register_keras_serializable(package="descriptors")
class HyNet(ConfigModel):
    """HyNet: FRN + TLU on the input, six 3x3 convs (32-32-64-64-128-128, stride 2 at the third and fifth), each
    followed by FRN + TLU, dropout, an 8x8 conv to D, BatchNorm without scale and offset, L2 normalisation.

    The graph of yuruntian/HyNet ``model.py``: 1,336,611 weights at D = 128 (1,336,355 trained). Differences: the stride-2 convs pad as
    Keras' "same" (bottom/right) unless ``pytorch_compatible`` (symmetric, as PyTorch: for converted weights);
    the input is on the 0..255 scale, which FRN makes irrelevant (it divides by the root mean square). The
    network's raw (pre-normalisation) output, which HyNet's loss penalises, is not an output here (see
    `descriptors.losses.hynet`).

    Args:
        descriptor_dim: output dimension D. Defaults to 128.
        dropout: dropout rate before the final conv. Defaults to 0.2 (HyNet's model default; its training script
            uses 0.3).
        conv_bias: biases in the six 3x3 convs. Defaults to True (HyNet).
        bn_epsilon: epsilon of the final BatchNorm. Defaults to 1e-5 (PyTorch).
        bn_momentum: Keras momentum of the final BatchNorm. Defaults to 0.9 (PyTorch 0.1).
        kernel_initializer: conv initializer. Defaults to "he_uniform" (close to PyTorch's default).
        pytorch_compatible: symmetric padding of the stride-2 convs. Defaults to False.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels. Output (B, D) float32, unit L2 norm.

    Example:
        >>> import numpy as np
        >>> HyNet(descriptor_dim=64)(np.zeros((2, 32, 32, 1), "float32")).shape
        (2, 64)
    """

    def __init__(self, descriptor_dim=128, dropout=0.2, conv_bias=True, bn_epsilon=1e-5, bn_momentum=0.9,
                 kernel_initializer="he_uniform", pytorch_compatible=False, **kwargs):
        owner = type(self).__name__
        check_descriptor_dim(owner, descriptor_dim)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ConfigError(f"`dropout` of {owner} must be in [0, 1). Received: dropout={dropout!r}")
        check_flag(owner, "conv_bias", conv_bias)
        check_flag(owner, "pytorch_compatible", pytorch_compatible)
        initializer = initializer_factory(owner, kernel_initializer)

        inputs = patch_input()
        x = FilterResponseNormalization(name="frn0")(inputs)
        x = ThresholdedLinearUnit(name="tlu0")(x)
        for index, (filters, stride) in enumerate(zip(HYNET_FILTERS, HYNET_STRIDES), start=1):
            padding = "same"
            if stride == 2 and pytorch_compatible:
                x = keras.layers.ZeroPadding2D(1, name=f"pad{index}")(x)
                padding = "valid"
            x = keras.layers.Conv2D(filters, 3, strides=stride, padding=padding, use_bias=conv_bias,
                                    kernel_initializer=initializer(),
                                    name=f"conv{index}")(x)
            x = FilterResponseNormalization(name=f"frn{index}")(x)
            x = ThresholdedLinearUnit(name=f"tlu{index}")(x)
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        x = keras.layers.Conv2D(descriptor_dim, 8, padding="valid", use_bias=False,
                                kernel_initializer=initializer(),
                                name="conv7")(x)
        x = keras.layers.BatchNormalization(center=False, scale=False, epsilon=bn_epsilon, momentum=bn_momentum,
                                            name="bn7")(x)
        x = keras.layers.Flatten(name="flatten")(x)
        outputs = L2Normalization(name="l2_normalization")(x)
        arguments = {"descriptor_dim": descriptor_dim, "dropout": float(dropout), "conv_bias": conv_bias,
                     "bn_epsilon": float(bn_epsilon), "bn_momentum": float(bn_momentum),
                     "kernel_initializer": copy.deepcopy(kernel_initializer),
                     "pytorch_compatible": pytorch_compatible}
        kwargs.setdefault("name", "hynet")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.descriptor_dim = descriptor_dim
