"""Contrastive loss (Hadsell, Chopra & LeCun, CVPR 2006) over every pair of embeddings in the batch."""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin
from descriptors.losses.distances import pairwise_l2, pairwise_squared_l2
from descriptors.losses.views import flatten_views, label_masks, masked_mean, rows_mean, view_labels

PAIR_REDUCTIONS = ("balanced", "mean")


def contrastive_pair_loss(dist, same, margin=1.0):
    """`y * d**2 + (1 - y) * max(0, margin - d)**2` with pair label y = 1 for the same 3-D point.

    Shape:
        dist (...), same (...) bool or 0/1 -> (...).
    """
    same = ops.cast(same, dist.dtype)
    return same * ops.square(dist) + (1.0 - same) * ops.square(ops.relu(margin - dist))


@keras.saving.register_keras_serializable(package="descriptors")
class ContrastiveLoss(EmbeddingLoss):
    """Contrastive loss on all pairs (i, j), i != j, of the N = B*K embeddings of a batch.

    Pair label y = 1 when both embeddings are views of the same point (same row, or the same track id with
    `use_labels`), else 0. The pair loss is `y * d**2 + (1 - y) * max(0, margin - d)**2` with the L2 distance
    d (no 1/2 factor).

    Reduction over pairs (`pair_reduction`):
        - "mean": the plain mean over all N(N-1) ordered pairs (= the mean over unordered pairs);
        - "balanced" (default): for each embedding, mean over its positive pairs + mean over its negative
          pairs; with B=256 pairs a plain mean would be 511 negatives to 1 positive.
      Either way `call` returns the per-row mean (B,) over the row's K embeddings, so Keras' batch mean is the
      mean over embeddings.

    Args:
        margin: negatives closer than this are pushed away. Defaults to 1.0.
        pair_reduction: "balanced" or "mean". Defaults to "balanced".
        use_labels: positives are embeddings of equal track id `y_true` instead of the same row. Defaults to False.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: (B,) track ids if `use_labels`, else ignored.
        y_pred: (B, K, D), K >= 2 views per row.

    Raises:
        ConfigError: negative margin, unknown pair_reduction.
        ShapeError: `y_pred` is not (B, K>=2, D).
    """

    def __init__(self, margin=1.0, pair_reduction="balanced", use_labels=False, name="contrastive_loss",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_margin(margin, type(self).__name__)
        if pair_reduction not in PAIR_REDUCTIONS:
            raise ConfigError(f"`pair_reduction` of ContrastiveLoss must be one of {list(PAIR_REDUCTIONS)}. "
                              f"Received: pair_reduction={pair_reduction!r}")
        self.pair_reduction = pair_reduction
        self.use_labels = bool(use_labels)

    def call(self, y_true, y_pred):
        emb, views = flatten_views(y_pred, type(self).__name__)
        labels = view_labels(y_true, ops.shape(emb)[0], views, self.use_labels)
        positive, negative = label_masks(labels)
        pos_loss = pairwise_squared_l2(emb, emb)
        neg_loss = ops.square(ops.relu(self.margin - pairwise_l2(emb, emb)))
        if self.pair_reduction == "balanced":
            per = masked_mean(pos_loss, positive) + masked_mean(neg_loss, negative)
        else:
            per = masked_mean(ops.where(positive, pos_loss, neg_loss), ops.logical_or(positive, negative))
        return rows_mean(per, views)

    def _requires_labels(self):
        return self.use_labels

    def _arguments(self):
        return {"margin": self.margin, "pair_reduction": self.pair_reduction, "use_labels": self.use_labels}
