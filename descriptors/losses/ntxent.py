"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR (Chen et al., ICML 2020)."""

import keras
from keras import ops

from descriptors.losses.base import EmbeddingLoss
from descriptors.losses.supcon import check_temperature, supcon_per_embedding
from descriptors.losses.views import flatten_views, rows_mean


@keras.saving.register_keras_serializable(package="descriptors")
class NTXentLoss(EmbeddingLoss):
    """NT-Xent: the two views of a row are each other's only positive among the 2B embeddings.

    `l(i) = -log(exp(s(i, j)/T) / sum_{a != i} exp(s(i, a)/T))` with j the other view of i's row and s the cosine
    similarity; the loss is the mean over the 2B anchors (per row: the mean of its two terms). This is SupCon
    with exactly two views and row labels.

    Args:
        temperature: softmax temperature T. Defaults to 0.1.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored.
        y_pred: (B, 2, D).

    Raises:
        ConfigError: non-positive temperature.
        ShapeError: `y_pred` is not (B, 2, D).
    """

    def __init__(self, temperature=0.1, name="ntxent_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = check_temperature(temperature, type(self).__name__)

    def call(self, y_true, y_pred):
        emb, views = flatten_views(y_pred, type(self).__name__, exact=2)
        labels = ops.floor_divide(ops.arange(ops.shape(emb)[0]), 2)
        return rows_mean(supcon_per_embedding(emb, labels, self.temperature), views)

    def _arguments(self):
        return {"temperature": self.temperature}
