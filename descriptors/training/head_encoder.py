"""A tuple encoder with a trainable head after the descriptors (e.g. ArcFace class centres)."""

from __future__ import annotations

import keras

from descriptors.training.tuple_encoder import TupleEncoder


@keras.saving.register_keras_serializable(package="descriptors")
class HeadTupleEncoder(TupleEncoder):
    """Encodes (B, K, P, P, 1) tuples with the shared encoder, then applies `head` to the (B, K, D) descriptors.

    The head's weights are variables of this model, so `compile`/`fit` train them with the encoder and the
    checkpoints save them; the exported descriptor is still `model.encoder` alone.

    Args:
        encoder: a model mapping (N, P, P, 1) patches to (N, D) descriptors.
        head: a layer mapping (..., D) to the loss input (e.g. `ArcFaceHead`: (..., C) cosines).
    """

    def __init__(self, encoder, head, **kwargs):
        super().__init__(encoder, **kwargs)
        self.head = head

    def call(self, tuples, training=None):
        return self.head(super().call(tuples, training=training))

    def get_config(self):
        return {**super().get_config(), "head": keras.saving.serialize_keras_object(self.head)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["head"] = keras.saving.deserialize_keras_object(config["head"])
        return super().from_config(config)
