"""`L2Net`: the L2-Net descriptor trunk (Tian et al., CVPR 2017) with per-patch input standardisation."""

import copy

import keras

from descriptors.errors import ConfigError
from descriptors.models.base import ConfigModel, patch_input
from descriptors.models.layers import L2Normalization, PatchStandardization

# (filters, stride) of the six 3x3 convs of the L2-Net trunk.
TRUNK = ((32, 1), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1))


def check_trunk_options(owner, descriptor_dim, dropout, bn_epsilon, bn_momentum, kernel_initializer):
    """Validates the options of the L2-Net family and returns the resolved Keras initializer."""
    if isinstance(descriptor_dim, bool) or not isinstance(descriptor_dim, int) or descriptor_dim < 1:
        raise ConfigError(
            f"`descriptor_dim` of {owner} must be a positive integer. Received: descriptor_dim={descriptor_dim!r}"
        )
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ConfigError(f"`dropout` of {owner} must be a number in [0, 1). Received: dropout={dropout!r}")
    if isinstance(bn_epsilon, bool) or not isinstance(bn_epsilon, (int, float)) or not bn_epsilon > 0:
        raise ConfigError(f"`bn_epsilon` of {owner} must be a positive number. Received: bn_epsilon={bn_epsilon!r}")
    if isinstance(bn_momentum, bool) or not isinstance(bn_momentum, (int, float)) or not 0.0 <= bn_momentum < 1.0:
        raise ConfigError(
            f"`bn_momentum` of {owner} must be a number in [0, 1). Received: bn_momentum={bn_momentum!r}"
        )
    try:
        return keras.initializers.get(copy.deepcopy(kernel_initializer))
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"`kernel_initializer` of {owner} must be a Keras initializer name or config dict. "
            f"Received: kernel_initializer={kernel_initializer!r}"
        ) from error


def check_flag(owner, name, value):
    """Raises ConfigError unless `value` is a bool."""
    if not isinstance(value, bool):
        raise ConfigError(f"`{name}` of {owner} must be true or false. Received: {name}={value!r}")


def l2net_trunk(x, descriptor_dim, dropout, bn_epsilon, bn_momentum, kernel_initializer, symmetric_padding=False):
    """The L2-Net/HardNet trunk: six 3x3 conv + BN(no affine) + ReLU, dropout, 8x8 valid conv + BN(no affine).

    Convs have no bias; BN has `center=False, scale=False` (PyTorch `BatchNorm2d(affine=False)`). The 3x3 convs
    use Keras "same" padding, which for the two stride-2 convs pads one row and column at the bottom/right only;
    `symmetric_padding=True` pads one pixel on every side instead (`ZeroPadding2D(1)` + "valid"), as PyTorch's
    `Conv2d(padding=1, stride=2)` does (the layer names and weights are the same either way).

    Shape:
        Input (B, 32, 32, 1) standardised patches. Output (B, descriptor_dim), not normalised.
    """

    def batch_norm(name):
        return keras.layers.BatchNormalization(center=False, scale=False, epsilon=bn_epsilon, momentum=bn_momentum,
                                               name=name)

    for index, (filters, stride) in enumerate(TRUNK, start=1):
        padding = "same"
        if symmetric_padding and stride > 1:
            x = keras.layers.ZeroPadding2D(1, name=f"pad{index}")(x)
            padding = "valid"
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding=padding, use_bias=False,
                                kernel_initializer=copy.deepcopy(kernel_initializer), name=f"conv{index}")(x)
        x = batch_norm(f"bn{index}")(x)
        x = keras.layers.ReLU(name=f"relu{index}")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Conv2D(descriptor_dim, 8, padding="valid", use_bias=False,
                            kernel_initializer=copy.deepcopy(kernel_initializer), name="conv7")(x)
    x = batch_norm("bn7")(x)
    return keras.layers.Flatten(name="flatten")(x)


@keras.saving.register_keras_serializable(package="descriptors")
class L2Net(ConfigModel):
    """L2-Net descriptor: standardise each patch, L2-Net trunk, L2-normalise (1,334,560 weights + 1,152 BN stats).

    The released L2-Net also subtracts a dataset mean image before the per-patch standardisation and trains
    with deep supervision; neither is part of this inference graph.

    `pytorch_compatible=True` makes the graph compute exactly what the PyTorch ports (DagnyT/hardnet, kornia)
    compute, for weights converted from them (`descriptors.convert`): the sample standard deviation (`ddof=1`)
    in the standardisation and symmetric zero padding in the stride-2 convs. The weights are the same either way.

    Args:
        descriptor_dim: output dimension D (channels of the final 8x8 conv). Defaults to 128.
        dropout: dropout rate before the final conv. Defaults to 0.0 (L2-Net has none).
        bn_epsilon: BatchNormalization epsilon. Defaults to 1e-4 (L2-Net).
        bn_momentum: Keras BN momentum (PyTorch momentum 0.1 == Keras 0.9). Defaults to 0.9.
        kernel_initializer: Keras initializer name or config dict for every conv. Defaults to "he_normal".
        pytorch_compatible: reproduce the PyTorch graph exactly (see above). Defaults to False.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels (any scale; 0..255 by convention). Output (B, D) float32, unit L2 norm.
    """

    def __init__(self, descriptor_dim=128, dropout=0.0, bn_epsilon=1e-4, bn_momentum=0.9,
                 kernel_initializer="he_normal", pytorch_compatible=False, **kwargs):
        owner = type(self).__name__
        check_trunk_options(owner, descriptor_dim, dropout, bn_epsilon, bn_momentum, kernel_initializer)
        check_flag(owner, "pytorch_compatible", pytorch_compatible)
        dropout, bn_epsilon, bn_momentum = float(dropout), float(bn_epsilon), float(bn_momentum)
        inputs = patch_input()
        x = self.standardization(pytorch_compatible)(inputs)
        x = l2net_trunk(x, descriptor_dim, dropout, bn_epsilon, bn_momentum, kernel_initializer,
                        symmetric_padding=pytorch_compatible)
        outputs = L2Normalization(name="l2_normalization")(x)
        arguments = {"descriptor_dim": descriptor_dim, "dropout": dropout, "bn_epsilon": bn_epsilon,
                     "bn_momentum": bn_momentum, "kernel_initializer": copy.deepcopy(kernel_initializer),
                     "pytorch_compatible": pytorch_compatible}
        kwargs.setdefault("name", owner.lower())
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.descriptor_dim = descriptor_dim
        self.dropout = dropout
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.kernel_initializer = copy.deepcopy(kernel_initializer)
        self.pytorch_compatible = pytorch_compatible

    @staticmethod
    def standardization(pytorch_compatible):
        """The input layer: HardNet's `input_norm` (sample std when `pytorch_compatible`)."""
        return PatchStandardization(ddof=1 if pytorch_compatible else 0, name="patch_standardization")
