"""`HardNet`: the HardNet descriptor (Mishchuk et al., NIPS 2017; DagnyT/hardnet `code/HardNet.py`)."""

import keras

from descriptors.models.l2net import L2Net

# DagnyT/hardnet `weights_init`: orthogonal with gain 0.6 for every conv.
HARDNET_INITIALIZER = {"class_name": "Orthogonal", "config": {"gain": 0.6}}


@keras.saving.register_keras_serializable(package="descriptors")
class HardNet(L2Net):
    """HardNet: the L2-Net graph with HardNet's defaults (dropout 0.3, BN epsilon 1e-5, orthogonal init).

    Per-patch standardisation inside the model, six 3x3 conv (no bias) + BN(affine=False) + ReLU,
    Dropout(0.3), 8x8 valid conv to D + BN(affine=False), L2 normalisation; 1,334,560 weights
    (+1,152 BN moving statistics). Differences from the PyTorch original: the patch statistics are not
    detached, population std is used, and Keras "same" padding of the stride-2 convs pads bottom/right only.
    `pytorch_compatible=True` removes the last two (for weights converted with `descriptors.convert`); the first
    changes gradients only, never outputs.

    Args:
        descriptor_dim: output dimension D. Defaults to 128.
        dropout: dropout rate before the final conv. Defaults to 0.3 (post-NIPS HardNet).
        bn_epsilon: BatchNormalization epsilon. Defaults to 1e-5 (PyTorch default).
        bn_momentum: Keras BN momentum (PyTorch 0.1). Defaults to 0.9.
        kernel_initializer: initializer name or config dict. Defaults to Orthogonal(gain=0.6).
        pytorch_compatible: sample std and symmetric stride-2 padding, as the PyTorch original. Defaults to False.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels (any scale; 0..255 by convention). Output (B, D) float32, unit L2 norm.
    """

    def __init__(self, descriptor_dim=128, dropout=0.3, bn_epsilon=1e-5, bn_momentum=0.9,
                 kernel_initializer=None, pytorch_compatible=False, **kwargs):
        if kernel_initializer is None:
            kernel_initializer = dict(HARDNET_INITIALIZER, config=dict(HARDNET_INITIALIZER["config"]))
        super().__init__(descriptor_dim=descriptor_dim, dropout=dropout, bn_epsilon=bn_epsilon,
                         bn_momentum=bn_momentum, kernel_initializer=kernel_initializer,
                         pytorch_compatible=pytorch_compatible, **kwargs)
