"""`CourseworkBaseline`: the 2019 N-HPatches coursework descriptor (`get_descriptor_model`), reproduced exactly."""

import keras

from descriptors.models.base import ConfigModel, patch_input
from descriptors.models.l2net import TRUNK

COURSEWORK_DESCRIPTOR_DIM = 128


@keras.saving.register_keras_serializable(package="descriptors")
class CourseworkBaseline(ConfigModel):
    """The keras_triplet_descriptor baseline descriptor: 1,336,928 parameters (1,336,032 trainable).

    L2-Net layout with Keras defaults: six 3x3 convs with bias and `he_normal` init, each followed by an
    affine BatchNormalization (epsilon 1e-3, momentum 0.99) and ReLU; Dropout(0.3); an 8x8 valid conv to 128
    with bias; reshape to (B, 128). No input normalisation (raw 0..255 pixels), no final BN, no L2
    normalisation: descriptors are unnormalised, as in the original.

    Args:
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`). The layout itself has no options.

    Shape:
        Input (B, 32, 32, 1) float32 pixels 0..255. Output (B, 128) float32, not normalised.
    """

    def __init__(self, **kwargs):
        inputs = patch_input()
        x = inputs
        for index, (filters, stride) in enumerate(TRUNK, start=1):
            x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=True,
                                    kernel_initializer="he_normal", name=f"conv{index}")(x)
            x = keras.layers.BatchNormalization(axis=-1, name=f"bn{index}")(x)
            x = keras.layers.Activation("relu", name=f"relu{index}")(x)
        x = keras.layers.Dropout(0.3, name="dropout")(x)
        x = keras.layers.Conv2D(COURSEWORK_DESCRIPTOR_DIM, 8, padding="valid", use_bias=True,
                                kernel_initializer="he_normal", name="conv7")(x)
        outputs = keras.layers.Reshape((COURSEWORK_DESCRIPTOR_DIM,), name="reshape")(x)
        kwargs.setdefault("name", "coursework_baseline")
        super().__init__(inputs, outputs, {}, **kwargs)
        self.descriptor_dim = COURSEWORK_DESCRIPTOR_DIM
