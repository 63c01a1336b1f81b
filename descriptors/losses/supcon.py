"""Supervised contrastive loss (Khosla et al., NeurIPS 2020) on the K views of each row."""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss
from descriptors.losses.views import flatten_views, label_masks, masked_mean, rows_mean, view_labels

LARGE_NEGATIVE = -1e9


def check_temperature(temperature, owner):
    """Raises ConfigError unless `temperature` is a positive number; returns it as float."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ConfigError(f"`temperature` of {owner} must be a positive number. Received: temperature={temperature!r}")
    return float(temperature)


def supcon_per_embedding(embeddings, labels, temperature):
    """SupCon term of every anchor: `-mean_{p in P(i)} log(exp(s_ip/T) / sum_{a != i} exp(s_ia/T))`.

    `s` is the cosine similarity (embeddings are L2-normalised here). An anchor without positives gets 0.

    Shape:
        embeddings (N, D), labels (N,) -> (N,).
    """
    z = ops.normalize(embeddings, axis=-1, order=2)
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    positive, _ = label_masks(labels)
    eye = ops.eye(ops.shape(logits)[0], dtype="bool")
    log_prob = logits - ops.logsumexp(ops.where(eye, LARGE_NEGATIVE, logits), axis=1, keepdims=True)
    return -masked_mean(log_prob, positive)


@keras.saving.register_keras_serializable(package="descriptors")
class SupConLoss(EmbeddingLoss):
    """SupCon: every view of a row is a positive of the others, every other embedding of the batch a negative.

    Args:
        temperature: softmax temperature T. Defaults to 0.1.
        use_labels: positives share the track id `y_true` instead of the row. Defaults to False.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: (B,) track ids if `use_labels`, else ignored.
        y_pred: (B, K, D), K >= 2 views per row.

    Returns:
        per-row mean (B,) of the anchors' terms, averaged by Keras (the mean over the N = B*K anchors).

    Raises:
        ConfigError: non-positive temperature.
        ShapeError: `y_pred` is not (B, K>=2, D).
    """

    def __init__(self, temperature=0.1, use_labels=False, name="supcon_loss", reduction="sum_over_batch_size",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = check_temperature(temperature, type(self).__name__)
        self.use_labels = bool(use_labels)

    def call(self, y_true, y_pred):
        emb, views = flatten_views(y_pred, type(self).__name__)
        labels = view_labels(y_true, ops.shape(emb)[0], views, self.use_labels)
        return rows_mean(supcon_per_embedding(emb, labels, self.temperature), views)

    def _requires_labels(self):
        return self.use_labels

    def _arguments(self):
        return {"temperature": self.temperature, "use_labels": self.use_labels}
