"""Data-parallel training through the backends' own engines: `tf.distribute.MirroredStrategy` (TensorFlow) and
`keras.distribution.DataParallel` (JAX).

Models and optimizers must be created under the scope; `distribution_scope` also covers loading a checkpoint on
resume and `fit`. Each replica computes the loss on its slice of the global batch under ``mirrored`` (so batch
losses mine within the slice and BatchNorm uses per-replica statistics); JAX ``data_parallel`` shards the batch
but computes the loss on the global batch. The batch size should be a multiple of the number of devices.
"""

from __future__ import annotations

import contextlib
import dataclasses

import keras

from descriptors.errors import ConfigError

DISTRIBUTE_MODES = ("none", "mirrored", "data_parallel")
BACKEND_OF_MODE = {"mirrored": "tensorflow", "data_parallel": "jax"}


def check_distribute(mode: str) -> str:
    """Raises ConfigError unless ``mode`` is known and matches the running Keras backend; returns it."""
    if mode not in DISTRIBUTE_MODES:
        raise ConfigError(f"`distribute` must be one of {DISTRIBUTE_MODES}. Received: distribute={mode!r}")
    needed = BACKEND_OF_MODE.get(mode)
    if needed and keras.config.backend() != needed:
        raise ConfigError(f"`distribute={mode!r}` needs KERAS_BACKEND={needed}. "
                          f"Received: backend={keras.config.backend()!r}")
    return mode


def tensorflow_devices() -> list[str]:
    """The GPUs if any, else every logical CPU device (e.g. two made by `set_logical_device_configuration`)."""
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


@contextlib.contextmanager
def distribution_scope(mode: str = "none"):
    """Context in which models are built, loaded and fit data-parallel; yields the strategy (or None).

    Raises:
        ConfigError: unknown mode or wrong backend.
    """
    check_distribute(mode)
    if mode == "none":
        yield None
    elif mode == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy(devices=tensorflow_devices())
        with strategy.scope():
            yield strategy
    else:
        distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
        with distribution.scope():
            yield distribution


def distributed_stage(stage, mode: str = "none"):
    """A copy of a `Stage` whose ``build_model`` builds and compiles under `distribution_scope(mode)`."""
    if check_distribute(mode) == "none":
        return stage
    build = stage.build_model

    def build_model():
        with distribution_scope(mode):
            return build()

    return dataclasses.replace(stage, build_model=build_model)
