"""Triplet losses on (anchor, positive, negative): margin, softmax ratio, and in-triplet hard negative.

Functions return per-triplet losses (B,); the `keras.losses.Loss` classes take `y_pred` (B, 3, D) stacked as
(anchor, positive, negative), ignore `y_true`, and average over the batch by default.
"""

import keras
from keras import ops

from descriptors.losses.base import EmbeddingLoss, check_margin, unstack_embeddings
from descriptors.losses.distances import check_distance, rowwise_distance


def triplet_margin_loss(anchor, positive, negative, margin=1.0, distance="l2"):
    """`max(0, d(a, p) - d(a, n) + margin)`.

    With `distance="mean_squared"` and `margin=1.0` this is the 2019 coursework `triplet_loss`.

    Shape:
        anchor, positive, negative (B, D) -> (B,).
    """
    d_pos = rowwise_distance(anchor, positive, distance)
    d_neg = rowwise_distance(anchor, negative, distance)
    return ops.relu(d_pos - d_neg + margin)


def triplet_ratio_loss(anchor, positive, negative, distance="l2"):
    """Softmax ratio loss (Hoffer & Ailon 2015; TFeat): squared error of softmax(d+, d-) to (0, 1).

    With `s+ = e^{d+} / (e^{d+} + e^{d-})` and `s- = 1 - s+`, the loss is `s+**2 + (1 - s-)**2` (= 2 s+**2).

    Shape:
        anchor, positive, negative (B, D) -> (B,).
    """
    d_pos = rowwise_distance(anchor, positive, distance)
    d_neg = rowwise_distance(anchor, negative, distance)
    soft = ops.softmax(ops.stack([d_pos, d_neg], axis=-1), axis=-1)
    return ops.square(soft[:, 0]) + ops.square(1.0 - soft[:, 1])


def in_triplet_hard_negative_loss(anchor, positive, negative, margin=1.0, distance="l2"):
    """Margin loss with the anchor swap of TFeat: `max(0, d(a, p) - min(d(a, n), d(p, n)) + margin)`.

    Shape:
        anchor, positive, negative (B, D) -> (B,).
    """
    d_pos = rowwise_distance(anchor, positive, distance)
    d_neg = ops.minimum(rowwise_distance(anchor, negative, distance), rowwise_distance(positive, negative, distance))
    return ops.relu(d_pos - d_neg + margin)


@keras.saving.register_keras_serializable(package="descriptors")
class TripletMarginLoss(EmbeddingLoss):
    """Triplet margin loss `max(0, d(a, p) - d(a, n) + margin)`, averaged over the batch.

    Args:
        margin: the margin. Defaults to 1.0.
        distance: "l2", "sql2" (squared L2) or "mean_squared" (squared L2 / D, the coursework loss with
            margin 1.0). Defaults to "l2".
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored (any value, e.g. zeros (B,)).
        y_pred: (B, 3, D) = stacked (anchor, positive, negative).

    Returns:
        scalar loss (default reduction), or (B,) with `reduction=None`.

    Raises:
        ConfigError: negative margin or unknown distance.
        ShapeError: `y_pred` is not (B, 3, D).
    """

    def __init__(self, margin=1.0, distance="l2", name="triplet_margin_loss", reduction="sum_over_batch_size",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_margin(margin, type(self).__name__)
        self.distance = check_distance(distance, type(self).__name__)

    def call(self, y_true, y_pred):
        anchor, positive, negative = unstack_embeddings(y_pred, type(self).__name__, exact=3)
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.distance)

    def _arguments(self):
        return {"margin": self.margin, "distance": self.distance}


@keras.saving.register_keras_serializable(package="descriptors")
class TripletRatioLoss(EmbeddingLoss):
    """Softmax ratio loss: `s+**2 + (1 - s-)**2` with `(s+, s-) = softmax(d(a, p), d(a, n))`.

    Args:
        distance: "l2", "sql2" or "mean_squared". Defaults to "l2".
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored.
        y_pred: (B, 3, D) = stacked (anchor, positive, negative).

    Raises:
        ConfigError: unknown distance.
        ShapeError: `y_pred` is not (B, 3, D).
    """

    def __init__(self, distance="l2", name="triplet_ratio_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.distance = check_distance(distance, type(self).__name__)

    def call(self, y_true, y_pred):
        anchor, positive, negative = unstack_embeddings(y_pred, type(self).__name__, exact=3)
        return triplet_ratio_loss(anchor, positive, negative, self.distance)

    def _arguments(self):
        return {"distance": self.distance}


@keras.saving.register_keras_serializable(package="descriptors")
class InTripletHardNegativeLoss(EmbeddingLoss):
    """Triplet margin loss with anchor swap: the negative distance is `min(d(a, n), d(p, n))`.

    Args:
        margin: the margin. Defaults to 1.0.
        distance: "l2", "sql2" or "mean_squared". Defaults to "l2".
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored.
        y_pred: (B, 3, D) = stacked (anchor, positive, negative).

    Raises:
        ConfigError: negative margin or unknown distance.
        ShapeError: `y_pred` is not (B, 3, D).
    """

    def __init__(self, margin=1.0, distance="l2", name="in_triplet_hard_negative_loss",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_margin(margin, type(self).__name__)
        self.distance = check_distance(distance, type(self).__name__)

    def call(self, y_true, y_pred):
        anchor, positive, negative = unstack_embeddings(y_pred, type(self).__name__, exact=3)
        return in_triplet_hard_negative_loss(anchor, positive, negative, self.margin, self.distance)

    def _arguments(self):
        return {"margin": self.margin, "distance": self.distance}
