"""Any triplet-style loss with any miner: `MinedTripletLoss(loss="triplet_margin", miner="batch_hard")`.

The loss terms are written on distances, so one (N, N) distance matrix of the batch serves every candidate
triplet: margin `max(0, d_ap - d_an + m)`, ratio `2 * sigmoid(d_ap - d_an)**2` (the softmax ratio loss),
in-triplet hard negative `max(0, d_ap - min(d_an, d_pn) + m)`, and SNR (the margin form with the SNR distance,
plus the zero-mean regulariser).
"""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin
from descriptors.losses.distances import check_distance, pairwise_l2, pairwise_squared_l2
from descriptors.losses.miners import anchor_positive_pairs, check_miner, mine_negatives
from descriptors.losses.snr import DEFAULT_SNR_REGULARIZATION, check_regularization, pairwise_snr, zero_mean_penalty
from descriptors.losses.views import flatten_views, label_masks, rows_mean, view_labels

TRIPLET_FORMS = ("triplet_margin", "triplet_ratio", "in_triplet_hard_negative", "snr")
PAIRWISE = {"l2": pairwise_l2, "sql2": pairwise_squared_l2}


def triplet_form(loss, d_ap, d_an, d_pn, margin):
    """Per-triplet loss of `loss` (one of `TRIPLET_FORMS`) from broadcastable distance tensors."""
    if loss == "triplet_ratio":
        return 2.0 * ops.square(ops.sigmoid(d_ap - d_an))
    if loss == "in_triplet_hard_negative":
        return ops.relu(d_ap - ops.minimum(d_an, d_pn) + margin)
    return ops.relu(d_ap - d_an + margin)


@keras.saving.register_keras_serializable(package="descriptors")
class MinedTripletLoss(EmbeddingLoss):
    """A triplet-style loss over the triplets a miner selects among the N = B*K views of the batch.

    Loss = sum over pairs m and negatives n of `W[m, n] * l(a_m, p_m, n)`, divided by the number of active
    pairs (rows of W with weight); returned per row (B,) so that Keras' batch mean equals that value.
    No active pair gives 0 with finite gradients.

    Args:
        loss: "triplet_margin", "triplet_ratio", "in_triplet_hard_negative" or "snr". Defaults to "triplet_margin".
        miner: "batch_hard", "semi_hard", "distance_weighted" or "opms". Defaults to "batch_hard".
        margin: the margin (also the pruning margin of semi_hard / opms). Defaults to 1.0.
        distance: "l2" or "sql2" (ignored by "snr", which uses the SNR distance). Defaults to "l2".
        difficulty: OPMS lambda used when `y_true` carries none (validation, standalone use). Defaults to 1.0.
        regularization: zero-mean regulariser weight of "snr". Defaults to 0.01.
        use_labels: negatives are embeddings of another track id `y_true` (not just another row).
            Defaults to False.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: (B,) track ids, or (B, 2) = (track id, OPMS difficulty) from `CurriculumBatches`; the
            difficulty column is averaged over the batch. Ignored otherwise.
        y_pred: (B, K, D), K >= 2 views per row.

    Raises:
        ConfigError: unknown loss / miner / distance, invalid margin, difficulty or regularization.
        ShapeError: `y_pred` is not (B, K>=2, D).
    """

    def __init__(self, loss="triplet_margin", miner="batch_hard", margin=1.0, distance="l2", difficulty=1.0,
                 regularization=DEFAULT_SNR_REGULARIZATION, use_labels=False, name="mined_triplet_loss",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        owner = type(self).__name__
        if loss not in TRIPLET_FORMS:
            raise ConfigError(f"`loss` of {owner} must be one of {list(TRIPLET_FORMS)}. Received: loss={loss!r}")
        if isinstance(difficulty, bool) or not isinstance(difficulty, (int, float)) or not 0 <= difficulty <= 1:
            raise ConfigError(f"`difficulty` of {owner} must be in [0, 1]. Received: difficulty={difficulty!r}")
        self.loss, self.miner = loss, check_miner(miner, owner)
        self.margin = check_margin(margin, owner)
        self.distance = check_distance(distance, owner, tuple(PAIRWISE))
        self.difficulty = float(difficulty)
        self.regularization = check_regularization(regularization, owner)
        self.use_labels = bool(use_labels)

    def _requires_labels(self):
        return self.use_labels

    def _difficulty(self, y_true):
        if len(y_true.shape) == 2 and y_true.shape[1] == 2:
            return ops.mean(y_true[:, 1])
        return self.difficulty

    def call(self, y_true, y_pred):
        emb, views = flatten_views(y_pred, type(self).__name__)
        count = ops.shape(emb)[0]
        _, negative = label_masks(view_labels(y_true, count, views, self.use_labels))
        dist = pairwise_snr(emb, emb) if self.loss == "snr" else PAIRWISE[self.distance](emb, emb)
        anchors, positives = anchor_positive_pairs(count // views, views)
        d_ap = ops.take(ops.reshape(dist, (-1,)), anchors * count + positives)
        d_an, d_pn = ops.take(dist, anchors, axis=0), ops.take(dist, positives, axis=0)
        negative = ops.take(negative, anchors, axis=0)
        if self.miner == "distance_weighted":
            l2 = pairwise_l2(emb, emb)
            mine_ap, mine_an = ops.take(ops.reshape(l2, (-1,)), anchors * count + positives), ops.take(l2, anchors, axis=0)
        else:
            mine_ap, mine_an = d_ap, d_an
        weights = mine_negatives(self.miner, mine_ap, mine_an, negative, views, self.margin,
                                 self._difficulty(y_true), dim=y_pred.shape[-1])
        per_pair = ops.sum(weights * triplet_form(self.loss, d_ap[:, None], d_an, d_pn, self.margin), axis=1)
        active = ops.sum(ops.cast(ops.sum(weights, axis=1) > 0, per_pair.dtype))
        rows = ops.cast(count // views, per_pair.dtype)
        per_row = ops.sum(ops.reshape(per_pair, (-1, views * (views - 1))), axis=1) * rows / ops.maximum(active, 1.0)
        if self.loss == "snr":
            per_row = per_row + self.regularization * rows_mean(zero_mean_penalty(emb), views)
        return per_row

    def _arguments(self):
        return {"loss": self.loss, "miner": self.miner, "margin": self.margin, "distance": self.distance,
                "difficulty": self.difficulty, "regularization": self.regularization, "use_labels": self.use_labels}
