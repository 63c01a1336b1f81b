"""Filter Response Normalization and the Thresholded Linear Unit (Singh & Krishnan, CVPR 2020), HyNet's
normalisation: no batch statistics, so a descriptor does not depend on the other patches of its batch."""

import keras
from keras import ops

from descriptors.errors import ConfigError


def _check_positive(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ConfigError(f"`{name}` of {owner} must be a positive finite number. Received: {name}={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="descriptors")
class FilterResponseNormalization(keras.layers.Layer):
    """FRN: ``gamma * x / sqrt(mean_{H,W}(x^2) + |eps|) + beta``, per sample and channel.

    As HyNet's PyTorch ``FRN`` (yuruntian/HyNet ``model.py``): gamma starts at 1, beta at 0, both per channel;
    ``eps`` is a constant unless ``learnable_epsilon`` (then a trained scalar; its absolute value is used). The
    mean runs over the spatial axes of a channels-last input. Computed in float32 whatever the layer's dtype
    policy (a mean of squares in float16 overflows).

    Args:
        epsilon: the epsilon. Defaults to 1e-6.
        learnable_epsilon: train epsilon too. Defaults to False.
        center: add beta. Defaults to True.
        scale: multiply by gamma. Defaults to True.
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, H, W, C). Output: the same.

    Example:
        >>> import numpy as np
        >>> FilterResponseNormalization()(np.ones((1, 4, 4, 2), "float32")).shape
        (1, 4, 4, 2)
    """

    def __init__(self, epsilon=1e-6, learnable_epsilon=False, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.epsilon = _check_positive(owner, "epsilon", epsilon)
        for flag, value in (("learnable_epsilon", learnable_epsilon), ("center", center), ("scale", scale)):
            if not isinstance(value, bool):
                raise ConfigError(f"`{flag}` of {owner} must be a bool. Received: {flag}={value!r}")
        self.learnable_epsilon, self.center, self.scale = learnable_epsilon, center, scale

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} needs (B, H, W, C) inputs with a known C. "
                             f"Received: {input_shape}")
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(shape=channels, initializer="ones", name="gamma") if self.scale else None
        self.beta = self.add_weight(shape=channels, initializer="zeros", name="beta") if self.center else None
        self.learned_epsilon = (self.add_weight(shape=(), initializer=keras.initializers.Constant(self.epsilon),
                                                name="epsilon") if self.learnable_epsilon else None)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        epsilon = ops.abs(ops.cast(self.learned_epsilon, "float32")) if self.learned_epsilon is not None \
            else self.epsilon
        x = x * ops.rsqrt(ops.mean(ops.square(x), axis=(1, 2), keepdims=True) + epsilon)
        if self.gamma is not None:
            x = x * ops.cast(self.gamma, "float32")
        if self.beta is not None:
            x = x + ops.cast(self.beta, "float32")
        return ops.cast(x, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "learnable_epsilon": self.learnable_epsilon,
                "center": self.center, "scale": self.scale}


@keras.saving.register_keras_serializable(package="descriptors")
class ThresholdedLinearUnit(keras.layers.Layer):
    """TLU: ``max(x, tau)`` with a trained threshold tau per channel (HyNet starts it at -1).

    Args:
        tau_initializer: initial tau. Defaults to -1.0 (HyNet; the FRN paper uses 0).
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (..., C). Output: the same.

    Example:
        >>> import numpy as np
        >>> keras.ops.convert_to_numpy(ThresholdedLinearUnit()(np.array([[-3.0, 2.0]], "float32"))).tolist()
        [[-1.0, 2.0]]
    """

    def __init__(self, tau_initializer=-1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(tau_initializer, bool) or not isinstance(tau_initializer, (int, float)):
            raise ConfigError(f"`tau_initializer` of {type(self).__name__} must be a number. "
                              f"Received: tau_initializer={tau_initializer!r}")
        self.tau_initializer = float(tau_initializer)

    def build(self, input_shape):
        self.tau = self.add_weight(shape=(input_shape[-1],), initializer=keras.initializers.Constant(
            self.tau_initializer), name="tau")

    def call(self, inputs):
        return ops.maximum(inputs, ops.cast(self.tau, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "tau_initializer": self.tau_initializer}
