"""`SOSNet`: the SOSNet descriptor network (Tian et al., CVPR 2019), HardNet's trunk behind an instance norm."""

import keras

from descriptors.models.hardnet import HardNet
from descriptors.models.layers import PatchStandardization

# PyTorch `InstanceNorm2d(1, affine=False)`: (x - mean) / sqrt(population variance + 1e-5).
INSTANCE_NORM_EPSILON = 1e-5


@keras.saving.register_keras_serializable(package="descriptors")
class SOSNet(HardNet):
    """SOSNet: instance-normalised input, the L2-Net/HardNet trunk with dropout 0.1, L2 normalisation.

    The network of the SOSNet paper (its second-order similarity regulariser is a training loss, not part of the
    graph). It differs from `HardNet` only in the input layer, `InstanceNorm2d` (the epsilon inside the square
    root, population variance) instead of HardNet's `input_norm`, and the dropout rate. As in `HardNet`,
    `pytorch_compatible=True` pads the stride-2 convs symmetrically as PyTorch does (for converted weights); the
    input layer is the PyTorch one either way.

    Args:
        descriptor_dim: output dimension D. Defaults to 128.
        dropout: dropout rate before the final conv. Defaults to 0.1 (SOSNet).
        bn_epsilon: BatchNormalization epsilon. Defaults to 1e-5 (PyTorch default).
        bn_momentum: Keras BN momentum (PyTorch 0.1). Defaults to 0.9.
        kernel_initializer: initializer name or config dict. Defaults to Orthogonal(gain=0.6), as HardNet.
        pytorch_compatible: symmetric stride-2 padding, as the PyTorch original. Defaults to False.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels (any scale; 0..255 by convention). Output (B, D) float32, unit L2 norm.

    Example:
        >>> import numpy as np
        >>> SOSNet(descriptor_dim=64)(np.zeros((2, 32, 32, 1), "float32")).shape
        (2, 64)
    """

    def __init__(self, descriptor_dim=128, dropout=0.1, bn_epsilon=1e-5, bn_momentum=0.9,
                 kernel_initializer=None, pytorch_compatible=False, **kwargs):
        super().__init__(descriptor_dim=descriptor_dim, dropout=dropout, bn_epsilon=bn_epsilon,
                         bn_momentum=bn_momentum, kernel_initializer=kernel_initializer,
                         pytorch_compatible=pytorch_compatible, **kwargs)

    @staticmethod
    def standardization(pytorch_compatible):
        """The input layer: PyTorch's `InstanceNorm2d(affine=False)` (whatever `pytorch_compatible` says)."""
        return PatchStandardization(epsilon=INSTANCE_NORM_EPSILON, epsilon_placement="variance",
                                    name="instance_normalization")
