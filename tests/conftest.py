"""Shared fixtures. The offline default dataset is built once per machine (about a minute) and cached."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def default_dataset_root():
    """The default dataset folder (built on first use into the user cache, see descriptors.data.default)."""
    from descriptors.data.default import default_dataset

    return default_dataset(progress=False)


def _value_and_gradient(fn, x):
    """``fn(x)`` and its gradient with respect to ``x`` on the active Keras backend (TensorFlow, JAX or torch).

    Args:
        fn: tensor -> scalar tensor, built from `keras.ops` (losses, layers).
        x: float32 numpy array, the point at which to differentiate.

    Returns:
        (value as float, gradient as a numpy array of x's shape; zeros where the backend reports no dependency).
    """
    import keras
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        variable = tf.Variable(x)
        with tf.GradientTape() as tape:
            value = fn(variable)
        grad = tape.gradient(value, variable)
        return float(value), np.zeros_like(x) if grad is None else grad.numpy()
    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(fn)(jax.numpy.asarray(x))
        return float(value), np.asarray(grad)
    if backend == "torch":
        import torch

        tensor = torch.tensor(x, requires_grad=True)
        value = fn(tensor)
        if value.requires_grad:
            value.backward()
        grad = tensor.grad
        return float(value.detach().cpu()), np.zeros_like(x) if grad is None else grad.detach().cpu().numpy()
    raise NotImplementedError(f"No gradient helper for the Keras backend {backend!r}")


@pytest.fixture
def value_and_gradient():
    """`_value_and_gradient`: differentiate a scalar function of one array on whichever backend is active."""
    return _value_and_gradient
