"""Input adapters of the image backbones: grayscale conversion and ImageNet-style preprocessing (`keras.ops`)."""

import keras
from keras import ops

from descriptors.errors import ConfigError

# ImageNet statistics used by keras.applications ("caffe": BGR means on 0..255; "torch": RGB mean/std on 0..1).
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
PREPROCESSING_MODES = ("caffe", "torch", "tf", "none")


@keras.saving.register_keras_serializable(package="descriptors")
class ChannelMean(keras.layers.Layer):
    """Averages the channels into one (RGB -> gray), so a grayscale patch network reads colour images.

    Shape:
        Input (B, H, W, C). Output (B, H, W, 1).
    """

    def call(self, inputs):
        return ops.mean(inputs, axis=-1, keepdims=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (1,)


@keras.saving.register_keras_serializable(package="descriptors")
class ApplicationPreprocessing(keras.layers.Layer):
    """The input scaling a `keras.applications` backbone was trained with, applied to 0..255 pixels in the graph.

    Modes follow `keras.applications.imagenet_utils.preprocess_input`: "caffe" (RGB -> BGR, subtract the ImageNet
    BGR means; ResNet50), "torch" (scale to 0..1, ImageNet mean/std; DenseNet), "tf" (scale to -1..1) and "none"
    (the application preprocesses itself; EfficientNetV2, MobileNetV3). With a channel count other than 3 the
    ImageNet statistics do not apply, and "caffe"/"torch" fall back to "tf".

    Args:
        mode: one of "caffe", "torch", "tf", "none". Defaults to "tf".
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, H, W, C) float32 on 0..255. Output: same shape.
    """

    def __init__(self, mode="tf", **kwargs):
        super().__init__(**kwargs)
        if mode not in PREPROCESSING_MODES:
            raise ConfigError(
                f"`mode` of ApplicationPreprocessing must be one of {PREPROCESSING_MODES}. Received: mode={mode!r}"
            )
        self.mode = mode

    def call(self, inputs):
        channels = inputs.shape[-1]
        mode = self.mode if channels == 3 or self.mode == "none" else "tf"
        if mode == "none":
            return inputs
        if mode == "tf":
            return inputs / 127.5 - 1.0
        if mode == "caffe":
            return ops.flip(inputs, axis=-1) - ops.convert_to_tensor(CAFFE_BGR_MEAN, dtype=inputs.dtype)
        mean = ops.convert_to_tensor(TORCH_MEAN, dtype=inputs.dtype)
        std = ops.convert_to_tensor(TORCH_STD, dtype=inputs.dtype)
        return (inputs / 255.0 - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
