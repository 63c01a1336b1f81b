"""HardNet's hardest-in-batch triplet margin loss (Mishchuk et al. 2017; DagnyT/hardnet `code/Losses.py`)."""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin, unstack_embeddings
from descriptors.losses.distances import check_distance, pairwise_l2, pairwise_squared_l2

PAIRWISE_DISTANCES = {"l2": pairwise_l2, "sql2": pairwise_squared_l2}
HARDNET_MIN_DISTANCE = 0.008


def hardest_in_batch_loss(anchor, positive, margin=1.0, anchor_swap=True, min_distance=HARDNET_MIN_DISTANCE,
                          labels=None, distance="l2"):
    """Per-pair hardest-in-batch margin loss `max(0, margin + D[i, i] - hardest_i)`.

    `D[i, j] = d(anchor_i, positive_j)`. The hardest negative of pair i is the minimum of row i (and, with
    `anchor_swap`, of column i too) over the valid entries. An entry (i, j) is invalid when i == j, when
    `D[i, j] < min_distance` (likely duplicate patches; HardNet uses 0.008), or when `labels[i] == labels[j]`.
    Invalid entries are replaced by `max(D) + margin + 1` (no gradient), so a pair without any valid negative
    (e.g. a batch of one) gets loss 0 with finite gradients.

    Args:
        anchor, positive: (B, D) matching descriptors, pair i = same 3-D point.
        margin: the margin. Defaults to 1.0.
        anchor_swap: also search column i (negatives among the anchors). Defaults to True.
        min_distance: entries below this distance are not negatives. Defaults to 0.008 (0 disables it).
        labels: optional (B,) point ids; pairs with equal ids are not negatives.
        distance: "l2" or "sql2". Defaults to "l2".

    Shape:
        anchor (B, D), positive (B, D), labels (B,) -> (B,).
    """
    dist = PAIRWISE_DISTANCES[check_distance(distance, "hardest_in_batch_loss", tuple(PAIRWISE_DISTANCES))](
        anchor, positive
    )
    batch = ops.shape(dist)[0]
    invalid = ops.eye(batch, dtype="bool")
    if min_distance > 0:
        invalid = ops.logical_or(invalid, ops.less(dist, min_distance))
    if labels is not None:
        labels = ops.reshape(labels, (-1,))
        invalid = ops.logical_or(invalid, ops.equal(labels[:, None], labels[None, :]))
    filler = ops.stop_gradient(ops.max(dist)) + margin + 1.0
    masked = ops.where(invalid, filler, dist)
    hardest = ops.min(masked, axis=1)
    if anchor_swap:
        hardest = ops.minimum(hardest, ops.min(masked, axis=0))
    positive_dist = ops.diagonal(dist)
    return ops.relu(margin + positive_dist - hardest)


@keras.saving.register_keras_serializable(package="descriptors")
class HardestInBatchLoss(EmbeddingLoss):
    """HardNet loss: each pair against its hardest non-matching descriptor in the batch, averaged over pairs.

    Args:
        margin: the margin. Defaults to 1.0.
        anchor_swap: search the hardest negative in row and column i of the distance matrix. Defaults to True.
        min_distance: distances below this are not used as negatives (HardNet: 0.008). Defaults to 0.008.
        use_labels: read `y_true` as (B,) point ids and never use a pair with the same id as a negative.
            Defaults to False (then `y_true` is ignored, so dummy targets are safe).
        distance: "l2" or "sql2". Defaults to "l2".
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: (B,) point ids if `use_labels`, else ignored.
        y_pred: (B, K, D), K >= 2; the first two are (anchor, positive), the rest are ignored.

    Raises:
        ConfigError: negative margin or min_distance, unknown distance.
        ShapeError: `y_pred` is not (B, K>=2, D), or `use_labels` without `y_true`.
    """

    def __init__(self, margin=1.0, anchor_swap=True, min_distance=HARDNET_MIN_DISTANCE, use_labels=False,
                 distance="l2", name="hardest_in_batch_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        owner = type(self).__name__
        self.margin = check_margin(margin, owner)
        if isinstance(min_distance, bool) or not isinstance(min_distance, (int, float)) or not min_distance >= 0:
            raise ConfigError(
                f"`min_distance` of {owner} must be a non-negative number. Received: min_distance={min_distance!r}"
            )
        for flag, value in (("anchor_swap", anchor_swap), ("use_labels", use_labels)):
            if not isinstance(value, bool):
                raise ConfigError(f"`{flag}` of {owner} must be a bool. Received: {flag}={value!r}")
        self.min_distance = float(min_distance)
        self.anchor_swap = anchor_swap
        self.use_labels = use_labels
        self.distance = check_distance(distance, owner, tuple(PAIRWISE_DISTANCES))

    def call(self, y_true, y_pred):
        anchor, positive = unstack_embeddings(y_pred, type(self).__name__, minimum=2)[:2]
        labels = y_true if self.use_labels else None
        return hardest_in_batch_loss(anchor, positive, self.margin, self.anchor_swap, self.min_distance, labels,
                                     self.distance)

    def _requires_labels(self):
        return self.use_labels

    def _arguments(self):
        return {"margin": self.margin, "anchor_swap": self.anchor_swap, "min_distance": self.min_distance,
                "use_labels": self.use_labels, "distance": self.distance}
