"""Small serializable layers shared by the denoisers and descriptors (pure `keras.ops`, any backend)."""

import keras
from keras import ops

from descriptors.errors import ConfigError


def _check_positive(value, name, owner):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ConfigError(f"`{name}` of {owner} must be a positive number. Received: {name}={value!r}")


EPSILON_PLACEMENTS = ("std", "variance")


@keras.saving.register_keras_serializable(package="descriptors")
class PatchStandardization(keras.layers.Layer):
    """Per-patch standardisation over H, W and C: HardNet's `input_norm` or PyTorch's `InstanceNorm2d`.

    With the defaults it computes `(x - mean) / (std + epsilon)` with the population standard deviation
    (HardNet's formula, except that HardNet uses the sample std, `ddof=1`). `epsilon_placement="variance"`
    gives `(x - mean) / sqrt(var + epsilon)`, PyTorch's `InstanceNorm2d(affine=False)` (TFeat, SOSNet; use
    `epsilon=1e-5`). The statistics are not detached from the graph (HardNet detaches them), so a denoiser placed
    in front receives the exact gradient; inference is unaffected. The variance is bounded below by 1e-12, so a
    constant patch gives zeros and finite gradients.

    Args:
        epsilon: added to the std (or to the variance). Defaults to 1e-7 (HardNet's value).
        ddof: 0 (population) or 1 (sample, `torch.std`'s default) variance. Defaults to 0.
        epsilon_placement: "std" or "variance", where `epsilon` is added. Defaults to "std".
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, H, W, C) float, any scale. Output: same shape, zero mean and unit std per patch.

    Example:
        >>> import numpy as np
        >>> layer = PatchStandardization(epsilon=1e-5, epsilon_placement="variance")
        >>> layer(np.arange(4.0).reshape(1, 2, 2, 1)).shape
        (1, 2, 2, 1)
    """

    def __init__(self, epsilon=1e-7, ddof=0, epsilon_placement="std", **kwargs):
        super().__init__(**kwargs)
        _check_positive(epsilon, "epsilon", "PatchStandardization")
        if isinstance(ddof, bool) or ddof not in (0, 1):
            raise ConfigError(f"`ddof` of PatchStandardization must be 0 or 1. Received: ddof={ddof!r}")
        if epsilon_placement not in EPSILON_PLACEMENTS:
            raise ConfigError(f"`epsilon_placement` of PatchStandardization must be one of {EPSILON_PLACEMENTS}. "
                              f"Received: epsilon_placement={epsilon_placement!r}")
        self.epsilon = float(epsilon)
        self.ddof = int(ddof)
        self.epsilon_placement = epsilon_placement

    def call(self, inputs):
        # In float32 whatever the compute dtype: squared 0..255 pixels summed over a patch overflow float16.
        dtype = inputs.dtype
        inputs = ops.cast(inputs, "float32")
        mean = ops.mean(inputs, axis=(1, 2, 3), keepdims=True)
        centred = inputs - mean
        var = ops.mean(ops.square(centred), axis=(1, 2, 3), keepdims=True)
        if self.ddof:
            count = ops.cast(ops.shape(inputs)[1] * ops.shape(inputs)[2] * ops.shape(inputs)[3], var.dtype)
            var = var * count / (count - 1.0)
        if self.epsilon_placement == "variance":
            return ops.cast(centred * ops.rsqrt(ops.maximum(var, 1e-12) + self.epsilon), dtype)
        std = ops.sqrt(ops.maximum(var, 1e-12))
        return ops.cast(centred / (std + self.epsilon), dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "ddof": self.ddof,
                "epsilon_placement": self.epsilon_placement}


@keras.saving.register_keras_serializable(package="descriptors")
class L2Normalization(keras.layers.Layer):
    """Scales each vector of the last axis to unit L2 norm: `x / sqrt(max(sum(x**2), epsilon))`.

    Args:
        epsilon: lower bound on the squared norm, so an all-zero vector maps to zeros with finite gradients.
            Defaults to 1e-10.
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, D). Output (B, D), unit-norm rows.
    """

    def __init__(self, epsilon=1e-10, **kwargs):
        super().__init__(**kwargs)
        _check_positive(epsilon, "epsilon", "L2Normalization")
        self.epsilon = float(epsilon)

    def call(self, inputs):
        dtype = inputs.dtype  # the norm in float32 whatever the compute dtype (float16 squares overflow early)
        inputs = ops.cast(inputs, "float32")
        sq_norm = ops.sum(ops.square(inputs), axis=-1, keepdims=True)
        return ops.cast(inputs * ops.rsqrt(ops.maximum(sq_norm, self.epsilon)), dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="descriptors")
class PixelClip(keras.layers.Layer):
    """Clips values to `[min_value, max_value]` (default the 0..255 pixel range), e.g. between denoiser and descriptor.

    Args:
        min_value: lower bound. Defaults to 0.0.
        max_value: upper bound. Defaults to 255.0.
        round_values: round to the nearest integer (half to even) before clipping, as
            `DescriptorPipeline.describe` does with the denoiser's output (no gradient flows through a rounding:
            for inference graphs only). Defaults to False.
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input any shape. Output: same shape.
    """

    def __init__(self, min_value=0.0, max_value=255.0, round_values=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(round_values, bool):
            raise ConfigError(f"`round_values` of PixelClip must be a bool. Received: round_values={round_values!r}")
        self.round_values = round_values
        if not float(min_value) < float(max_value):
            raise ConfigError(
                "`min_value` of PixelClip must be below `max_value`. "
                f"Received: min_value={min_value!r}, max_value={max_value!r}"
            )
        self.min_value = float(min_value)
        self.max_value = float(max_value)

    def call(self, inputs):
        if self.round_values:
            inputs = ops.round(inputs)
        return ops.clip(inputs, self.min_value, self.max_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "min_value": self.min_value, "max_value": self.max_value,
                "round_values": self.round_values}
