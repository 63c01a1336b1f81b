"""Lets Keras 3's TensorFlow ``fit`` / ``evaluate`` run under `tf.distribute` strategies on any batch.

Keras 3.15 builds a model before training by reducing its first distributed batch with ``strategy.reduce``
(only its shapes are used): under ``MultiWorkerMirroredStrategy`` that fails on the per-replica batch
(keras-team/keras#20585), and under ``MirroredStrategy`` it fails when the batch does not split evenly (e.g. 15
validation tuples on 2 devices: 8 + 7). It also reduces each step's logs with
``strategy.reduce("MEAN", value, axis=0)``, which fails on scalar logs under the multi-worker strategy. The mixin
takes the build batch from the first local replica and, under the multi-worker strategy, hands the logs out as
shape ``(1,)`` (their mean over workers is then the usual scalar). Outside a strategy, and on other backends, it
changes nothing.
"""

from __future__ import annotations

import keras
from keras import ops


def tf_strategy_of(model):
    """The `tf.distribute` strategy ``model`` was created under, or None (no strategy, or not TensorFlow)."""
    if keras.config.backend() != "tensorflow":
        return None
    return getattr(model, "_distribute_strategy", None)


def in_multi_worker_strategy(model) -> bool:
    """Whether ``model`` was created under a `tf.distribute.MultiWorkerMirroredStrategy` scope."""
    strategy = tf_strategy_of(model)
    if strategy is None:
        return False
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


class MultiWorkerFitMixin:
    """Mixed into a `keras.Model` subclass (before ``keras.Model``) to make it trainable by a multi-worker ``fit``.

    Example:
        >>> class Encoder(MultiWorkerFitMixin, keras.Model):
        ...     pass
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = tf_strategy_of(self)
        if iterator is not None and strategy is not None:
            for _, _, batches in iterator:
                first = next(batches)
                break
            data_batch = keras.tree.map_structure(lambda v: strategy.experimental_local_results(v)[0], first)
            iterator = None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def _logs_for_reduction(self, logs):
        if not in_multi_worker_strategy(self):
            return logs
        return keras.tree.map_structure(lambda v: ops.reshape(v, (1,)), logs)

    def train_step(self, *args, **kwargs):  # (data) on TensorFlow; JAX's (state, data) passes through unchanged
        return self._logs_for_reduction(super().train_step(*args, **kwargs))

    def test_step(self, *args, **kwargs):
        return self._logs_for_reduction(super().test_step(*args, **kwargs))
