"""A training wrapper that applies one encoder to every member of a tuple of patches."""

from __future__ import annotations

import keras
from keras import ops

from descriptors.training.multi_worker_fit import MultiWorkerFitMixin


@keras.saving.register_keras_serializable(package="descriptors")
class TupleEncoder(MultiWorkerFitMixin, keras.Model):
    """Encodes (B, K, P, P, 1) tuples to (B, K, D) with a shared encoder (the losses' input layout).

    All B*K patches go through the encoder as one batch, so batch-norm statistics are those of the whole batch.
    It can be trained by a multi-worker ``fit`` (`MultiWorkerFitMixin`).

    Args:
        encoder: a model mapping (N, P, P, 1) patches to (N, D) descriptors.
    """

    def __init__(self, encoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder

    def call(self, tuples, training=None):
        arity = tuples.shape[1]
        flat = ops.reshape(tuples, (-1,) + tuple(tuples.shape[2:]))
        codes = self.encoder(flat, training=training)
        return ops.reshape(codes, (-1, arity, codes.shape[-1]))

    def get_config(self):
        return {**super().get_config(), "encoder": keras.saving.serialize_keras_object(self.encoder)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
