"""Signal-to-noise-ratio distance and its triplet loss (Yuan et al., "Signal-to-Noise Ratio: A Robust Distance
Metric for Deep Metric Learning", CVPR 2019).

`d_SNR(a, b) = var(b - a) / var(a)` (variance over the D dimensions): the noise power of b seen as a noisy
copy of the anchor signal a, over the signal power. It is anchor-relative (not symmetric). The paper adds a
zero-mean regulariser `lambda * mean_i |sum_d h_id|` on the embeddings.
"""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin, unstack_embeddings
from descriptors.losses.distances import DEFAULT_EPSILON, pairwise_squared_l2

DEFAULT_SNR_REGULARIZATION = 0.01


def snr_distance(anchor, other, epsilon=DEFAULT_EPSILON):
    """Row-wise `var(other - anchor) / max(var(anchor), epsilon)`.

    Shape:
        anchor (B, D), other (B, D) -> (B,).
    """
    return ops.var(other - anchor, axis=-1) / ops.maximum(ops.var(anchor, axis=-1), epsilon)


def pairwise_snr(x, y, epsilon=DEFAULT_EPSILON):
    """`d_SNR(x_i, y_j)` for every pair, from the centred vectors: var(y_j - x_i) = |yc_j - xc_i|^2 / D.

    Shape:
        x (B, D), y (M, D) -> (B, M).
    """
    xc = x - ops.mean(x, axis=-1, keepdims=True)
    yc = y - ops.mean(y, axis=-1, keepdims=True)
    dim = ops.cast(ops.shape(x)[-1], x.dtype)
    noise = pairwise_squared_l2(xc, yc) / dim
    return noise / ops.maximum(ops.var(x, axis=-1), epsilon)[:, None]


def zero_mean_penalty(embeddings):
    """`|sum_d h_d|` of each embedding, the SNR paper's zero-mean regulariser term.

    Shape:
        (..., D) -> (...).
    """
    return ops.abs(ops.sum(embeddings, axis=-1))


def snr_triplet_loss(anchor, positive, negative, margin=1.0, regularization=DEFAULT_SNR_REGULARIZATION):
    """`max(0, d_SNR(a, p) - d_SNR(a, n) + margin) + regularization * mean(|sum a|, |sum p|, |sum n|)`.

    Shape:
        anchor, positive, negative (B, D) -> (B,).
    """
    hinge = ops.relu(snr_distance(anchor, positive) - snr_distance(anchor, negative) + margin)
    penalty = (zero_mean_penalty(anchor) + zero_mean_penalty(positive) + zero_mean_penalty(negative)) / 3.0
    return hinge + regularization * penalty


def check_regularization(value, owner):
    """Raises ConfigError unless `value` is a non-negative number; returns it as float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ConfigError(f"`regularization` of {owner} must be a non-negative number. Received: regularization={value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="descriptors")
class SNRTripletLoss(EmbeddingLoss):
    """Triplet margin loss with the SNR distance plus the zero-mean regulariser, averaged over the batch.

    For unit-norm, zero-mean descriptors d_SNR is about the squared L2 distance, so margins of the squared-L2
    triplet loss carry over.

    Args:
        margin: the margin. Defaults to 1.0.
        regularization: weight lambda of the zero-mean regulariser. Defaults to 0.01 (our choice; not tuned).
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored.
        y_pred: (B, 3, D) = stacked (anchor, positive, negative).

    Raises:
        ConfigError: negative margin or regularization.
        ShapeError: `y_pred` is not (B, 3, D).
    """

    def __init__(self, margin=1.0, regularization=DEFAULT_SNR_REGULARIZATION, name="snr_triplet_loss",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = check_margin(margin, type(self).__name__)
        self.regularization = check_regularization(regularization, type(self).__name__)

    def call(self, y_true, y_pred):
        anchor, positive, negative = unstack_embeddings(y_pred, type(self).__name__, exact=3)
        return snr_triplet_loss(anchor, positive, negative, self.margin, self.regularization)

    def _arguments(self):
        return {"margin": self.margin, "regularization": self.regularization}
