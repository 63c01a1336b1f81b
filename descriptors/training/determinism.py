"""Exact reruns: TensorFlow's op determinism for a training run (`--deterministic`, on by default).

Data order, augmentation and initialisation are already functions of the seed (`epoch_rng`,
`keras.utils.set_random_seed`). What is left is the order in which multi-threaded kernels add floating-point
numbers (reductions, convolution gradients): with TensorFlow's op determinism every op uses a fixed order, so the
same seed gives the same weights and the same printed numbers run to run on the same machine kind (the same CPU
instructions set; another CPU or library build may still round differently). XLA is not used while it is on (Keras
turns `jit_compile="auto"` off; `--jit-compile on` is refused with it, since XLA has no deterministic mode here).

On the JAX backend the flag changes nothing (XLA on a CPU is deterministic already); on a GPU with JAX, set
``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` yourself.
"""

from __future__ import annotations

import contextlib

import keras


@contextlib.contextmanager
def op_determinism(enabled: bool):
    """Enables TensorFlow's op determinism inside the block (TensorFlow backend only) and restores the previous
    state after it."""
    if not enabled or keras.backend.backend() != "tensorflow":
        yield
        return
    from tensorflow.python.framework import config as tf_config

    was_enabled = tf_config.is_op_determinism_enabled()
    tf_config.enable_op_determinism()
    try:
        yield
    finally:
        if not was_enabled:
            tf_config.disable_op_determinism()
