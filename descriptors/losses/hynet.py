"""HyNet's hybrid similarity loss (Tian et al., NeurIPS 2020; yuruntian/HyNet ``train.py``, ``Loss_HyNet``).

For L2-normalised descriptors the hybrid distance ``h(d) = d + alpha * d^2 / 2`` mixes the L2 distance d with the
inner product s (``d^2 = 2 - 2 s``). Each pair is a triplet with HyNet's (and SOSNet's) hardest negative among the
anchors' row, the positives' column and both directions across (`descriptors.losses.sos.hardest_negatives`):

    loss_i = max(0, margin + h(d(a_i, p_i)) - h(d_neg_i))  [+ sos_weight * sos_i]

Differences from the reference: rows are averaged (the reference sums); the reference's third term, a penalty
``0.1 * (|a~_i| - |p~_i|)^2`` on the norms of the raw descriptors before their L2 normalisation, is not here:
the training models hand the losses normalised descriptors only (train HyNet without it, or add it in a custom
training step).
"""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin, unstack_embeddings
from descriptors.losses.hardnet import HARDNET_MIN_DISTANCE
from descriptors.losses.sos import (check_knn, check_min_distance, check_sos_weight, hardest_negatives,
                                   sos_regularizer)


def hybrid_distance(distance, alpha=2.0):
    """``d + alpha * d^2 / 2``, elementwise."""
    return distance + 0.5 * alpha * ops.square(distance)


def hynet_triplet_loss(anchor, positive, margin=1.2, alpha=2.0, min_distance=HARDNET_MIN_DISTANCE):
    """Per-pair hybrid triplet hinge ``max(0, margin + h(d_pos) - h(d_neg))``.

    Shape:
        anchor (B, D), positive (B, D) -> (B,).
    """
    positive_distance, negative = hardest_negatives(anchor, positive, min_distance)
    return ops.relu(margin + hybrid_distance(positive_distance, alpha) - hybrid_distance(negative, alpha))


@keras.saving.register_keras_serializable(package="descriptors")
class HyNetLoss(EmbeddingLoss):
    """HyNet's hybrid triplet loss (optionally plus SOSR), averaged over pairs.

    Args:
        margin: the hinge margin. Defaults to 1.2 (HyNet).
        alpha: weight of the squared term of the hybrid distance. Defaults to 2.0 (HyNet).
        sos_weight: weight of SOSNet's regulariser (HyNet's optional ``--is_sosr``). Defaults to 0.0.
        knn: neighbours for SOSR. Defaults to 8.
        min_distance: near-duplicate threshold. Defaults to 0.008.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored.
        y_pred: (B, K, D), K >= 2; the first two are (anchor, positive).

    Example:
        >>> import numpy as np
        >>> views = np.random.default_rng(0).normal(size=(16, 2, 8)).astype("float32")
        >>> views /= np.linalg.norm(views, axis=-1, keepdims=True)
        >>> float(HyNetLoss()(None, views)) > 0
        True
    """

    def __init__(self, margin=1.2, alpha=2.0, sos_weight=0.0, knn=8, min_distance=HARDNET_MIN_DISTANCE,
                 name="hynet_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        owner = type(self).__name__
        self.margin = check_margin(margin, owner)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha < float("inf"):
            raise ConfigError(f"`alpha` of {owner} must be a finite number >= 0. Received: alpha={alpha!r}")
        self.alpha = float(alpha)
        self.sos_weight = check_sos_weight(sos_weight, owner)
        self.knn = check_knn(knn, owner)
        self.min_distance = check_min_distance(min_distance, owner)

    def call(self, y_true, y_pred):
        anchor, positive = unstack_embeddings(y_pred, type(self).__name__, minimum=2)[:2]
        loss = hynet_triplet_loss(anchor, positive, self.margin, self.alpha, self.min_distance)
        if self.sos_weight:
            loss = loss + self.sos_weight * sos_regularizer(anchor, positive, self.knn, self.min_distance)
        return loss

    def _arguments(self):
        return {"margin": self.margin, "alpha": self.alpha, "sos_weight": self.sos_weight, "knn": self.knn,
                "min_distance": self.min_distance}
