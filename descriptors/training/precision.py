"""Mixed precision for training: float16 / bfloat16 compute with float32 weights, loss and BatchNorm statistics.

`precision_policy(mode)` sets Keras' global dtype policy while the run builds, loads and trains its models
(``"off"``: float32; ``"float16"``: ``mixed_float16``, whose optimizer Keras wraps in a `LossScaleOptimizer`;
``"bfloat16"``: ``mixed_bfloat16``). Weights stay float32 variables in every mode; Keras' BatchNormalization
computes its statistics in float32 and our losses cast their inputs to float32. The models a run hands out (the
saved pipeline, the evaluation, the denoised training patches) are rebuilt in float32 with `float32_copy`, so a
mixed-precision run still saves and evaluates an ordinary float32 model.

Example:
    >>> with precision_policy("bfloat16"):                                  # doctest: +SKIP
    ...     model = build_descriptor("hardnet")   # computes in bfloat16
    >>> float32_copy(model).dtype_policy.name                                # doctest: +SKIP
    'float32'
"""

from __future__ import annotations

import contextlib

import keras

from descriptors.errors import ConfigError

POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


@contextlib.contextmanager
def precision_policy(mode: str):
    """Sets the global Keras dtype policy of ``mode`` (one of `POLICIES`) inside the block, then restores it."""
    if mode not in POLICIES:
        raise ConfigError(f"`mixed_precision` must be one of {list(POLICIES)}. Received: mixed_precision={mode!r}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(POLICIES[mode])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _policy_names(model: keras.Model) -> set[str]:
    return {layer.dtype_policy.name for layer in model._flatten_layers(include_self=True)
            if not isinstance(layer, keras.layers.InputLayer)}


def rebuilt_with_policy(model: keras.Model, mode: str) -> keras.Model:
    """``model`` rebuilt from its config with every layer in the policy of ``mode``, holding the same weights.

    Works for this project's models (`ConfigModel` subclasses: their config is their constructor arguments, so
    the rebuilt layers take the policy in force). Returns ``model`` itself when it already has that policy.
    """
    wanted = POLICIES[mode]
    if model is None or _policy_names(model) == {wanted}:
        return model
    with precision_policy(mode):
        copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def float32_copy(model: keras.Model) -> keras.Model:
    """``model`` with float32 compute everywhere (itself when it already is): `rebuilt_with_policy(model, "off")`."""
    return rebuilt_with_policy(model, "off")
