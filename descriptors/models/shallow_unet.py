"""`ShallowUNet`: the 2019 N-HPatches coursework denoiser (`get_denoise_model`), with two optional improvements."""

import keras

from descriptors.errors import ConfigError
from descriptors.models.base import ConfigModel, patch_input


def check_denoiser_options(owner, residual, input_scale):
    """Validates the options shared by the denoisers (`residual`, `input_scale`)."""
    if not isinstance(residual, bool):
        raise ConfigError(f"`residual` of {owner} must be a bool. Received: residual={residual!r}")
    if isinstance(input_scale, bool) or not isinstance(input_scale, (int, float)) or not input_scale > 0:
        raise ConfigError(f"`input_scale` of {owner} must be a positive number. Received: input_scale={input_scale!r}")


def wrap_denoiser_body(inputs, body, residual, input_scale):
    """Applies `input_scale`, the body and the residual option around a denoiser body.

    Args:
        inputs: the (B, 32, 32, 1) input tensor, pixels 0..255.
        body: callable tensor -> tensor, the network on the scaled input.
        residual: if True the body predicts the noise and the output is `scaled input - body(scaled input)`.
        input_scale: factor applied to the input before the body; the output is divided by it, so the
            output is back on the 0..255 scale. 1.0 adds no layer.

    Returns:
        The output tensor (B, 32, 32, 1), pixels on the 0..255 scale (not clipped).
    """
    scaled = inputs if input_scale == 1.0 else keras.layers.Rescaling(input_scale, name="input_scale")(inputs)
    out = body(scaled)
    if residual:
        out = keras.layers.Subtract(name="residual")([scaled, out])
    if input_scale != 1.0:
        out = keras.layers.Rescaling(1.0 / input_scale, name="output_scale")(out)
    return out


@keras.saving.register_keras_serializable(package="descriptors")
class ShallowUNet(ConfigModel):
    """The coursework "Shallow U-Net" denoiser (59,777 parameters), keras_triplet_descriptor `get_denoise_model`.

    Layout: conv 16 3x3 ReLU -> max-pool 2 -> conv 32 3x3 ReLU -> upsample x2 -> conv 64 2x2 ReLU ->
    concatenate with the first conv -> conv 64 3x3 ReLU -> conv 1 3x3 linear. ReLU convs use `he_normal`,
    the last conv the Keras default (Glorot uniform), all with bias and "same" padding, as the original.
    The defaults reproduce the coursework model exactly (raw 0..255 in and out, no residual).

    Args:
        residual: if True the network predicts the noise and the model returns `input - f(input)`.
            Defaults to False (coursework).
        input_scale: internal input scaling (e.g. 1/255); the output is rescaled back to 0..255.
            Defaults to 1.0 (coursework, raw pixels).
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels 0..255. Output (B, 32, 32, 1) float32 on the same scale, unclipped.
    """

    def __init__(self, residual=False, input_scale=1.0, **kwargs):
        check_denoiser_options("ShallowUNet", residual, input_scale)
        input_scale = float(input_scale)

        def body(x):
            conv1 = keras.layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                                        name="conv1")(x)
            pool1 = keras.layers.MaxPooling2D(2, name="pool1")(conv1)
            conv2 = keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                                        name="conv2")(pool1)
            up = keras.layers.UpSampling2D(2, name="up")(conv2)
            up3 = keras.layers.Conv2D(64, 2, padding="same", activation="relu", kernel_initializer="he_normal",
                                      name="up3")(up)
            merge3 = keras.layers.Concatenate(axis=-1, name="merge3")([conv1, up3])
            conv3 = keras.layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal",
                                        name="conv3")(merge3)
            return keras.layers.Conv2D(1, 3, padding="same", name="conv4")(conv3)

        inputs = patch_input()
        outputs = wrap_denoiser_body(inputs, body, residual, input_scale)
        kwargs.setdefault("name", "shallow_unet")
        super().__init__(inputs, outputs, {"residual": residual, "input_scale": input_scale}, **kwargs)
        self.residual = residual
        self.input_scale = input_scale
