"""SimNet's online pair mining as a curriculum (Appalaraju & Chaoji 2017): contrastive loss on the batch's pairs of a
difficulty window that moves from easy to hard over training.

Every pair (i, j), i < j, of the N = B*K embeddings of a batch is scored with the current model: a positive pair
(same row, or the same track id) is harder the farther apart it is, a negative pair the closer. Within each kind,
pairs are ranked by hardness (quantile q in [0, 1]); with the epoch's difficulty lambda the loss keeps the pairs
with q in ``[lambda * (1 - window), lambda * (1 - window) + window]``: the easiest ``window`` of them at
lambda = 0, the hardest at lambda = 1. The kept pairs get the contrastive loss (``d^2`` for positives,
``max(0, margin - d)^2`` for negatives), positives and negatives averaged separately and summed (the two kinds
weigh the same). lambda rides in ``y_true[:, 1]`` (the trainers' curriculum batches, a pure
function of the epoch), so resumed runs mine as uninterrupted ones.

This is the published pair curriculum, unlike the triplet miner ``opms`` of `descriptors.losses.miners`, which
weights negatives of triplets by a softmax whose sharpness grows with lambda.
"""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin
from descriptors.losses.distances import pairwise_l2
from descriptors.losses.views import flatten_views, label_masks, view_labels

LARGE = 1e9


def hardness_quantiles(hardness, valid):
    """The rank quantile in [0, 1] of each valid entry of ``hardness`` among the valid ones (ties by position);
    invalid entries get 2.

    Shape:
        hardness (N, N), valid (N, N) bool -> (N, N).
    """
    flat = ops.reshape(ops.where(valid, hardness, LARGE), (-1,))
    rank = ops.argsort(ops.argsort(flat))  # the position of each entry in ascending order
    count = ops.sum(ops.cast(valid, "int32"))
    quantile = ops.cast(rank, hardness.dtype) / ops.cast(ops.maximum(count - 1, 1), hardness.dtype)
    return ops.where(valid, ops.reshape(quantile, ops.shape(hardness)), 2.0)


def opms_pair_selection(distances, same, difficulty, window=0.5):
    """(positive mask, negative mask) of the pairs (i < j) in the difficulty window (see the module docstring).

    Args:
        distances: (N, N) pair distances.
        same: (N, N) bool, True for pairs of the same point (the diagonal is ignored).
        difficulty: lambda in [0, 1] (float or scalar tensor).
        window: the fraction of each kind's pairs kept.

    Returns:
        Two (N, N) bool masks, upper triangle only.
    """
    n = ops.shape(distances)[0]
    upper = ops.greater(ops.arange(n)[None, :], ops.arange(n)[:, None])
    d = ops.stop_gradient(distances)
    positive = ops.logical_and(same, upper)
    negative = ops.logical_and(ops.logical_not(same), upper)
    low = ops.cast(difficulty, d.dtype) * (1.0 - window)
    high = low + window + 1e-6

    def kept(hardness, mask):
        q = hardness_quantiles(hardness, mask)
        return ops.logical_and(mask, ops.logical_and(q >= low - 1e-6, q <= high))

    return kept(d, positive), kept(-d, negative)


@keras.saving.register_keras_serializable(package="descriptors")
class OPMSPairLoss(EmbeddingLoss):
    """Contrastive loss on the pairs of the current difficulty window (SimNet's OPMS curriculum).

    Args:
        margin: the contrastive margin. Defaults to 1.0.
        window: the fraction of each kind of pair kept per batch, in (0, 1]. Defaults to 0.5.
        difficulty: lambda when ``y_true`` carries none (a (B,) y_true). Defaults to 1.0.
        use_labels: positives are views with the same track id ``y_true[:, 0]`` instead of the same row.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: (B, 2) = (track id, lambda) from `CurriculumBatches`, or (B,) (then ``difficulty``).
        y_pred: (B, K, D), K >= 2 views per row.

    Example:
        >>> import numpy as np
        >>> views = np.random.default_rng(0).normal(size=(8, 2, 4)).astype("float32")
        >>> y = np.stack([np.arange(8), np.full(8, 0.5)], axis=1).astype("float32")
        >>> float(OPMSPairLoss()(y, views)) > 0
        True
    """

    def __init__(self, margin=1.0, window=0.5, difficulty=1.0, use_labels=False, name="opms_pair_loss",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        owner = type(self).__name__
        self.margin = check_margin(margin, owner)
        for key, value, low_open in (("window", window, True), ("difficulty", difficulty, False)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    (0 < value <= 1) if low_open else (0 <= value <= 1)):
                bounds = "(0, 1]" if low_open else "[0, 1]"
                raise ConfigError(f"`{key}` of {owner} must be in {bounds}. Received: {key}={value!r}")
        self.window, self.difficulty = float(window), float(difficulty)
        if not isinstance(use_labels, bool):
            raise ConfigError(f"`use_labels` of {owner} must be a bool. Received: use_labels={use_labels!r}")
        self.use_labels = use_labels

    def call(self, y_true, y_pred):
        emb, views = flatten_views(y_pred, type(self).__name__)
        labels = view_labels(y_true, ops.shape(emb)[0], views, self.use_labels)
        same, _ = label_masks(labels)
        same = ops.logical_or(same, ops.eye(ops.shape(emb)[0], dtype="bool"))
        difficulty = y_true[0, 1] if len(y_true.shape) == 2 and y_true.shape[1] == 2 else self.difficulty
        dist = pairwise_l2(emb, emb)
        positive, negative = opms_pair_selection(dist, same, difficulty, self.window)

        def mean_over(values, mask):
            mask = ops.cast(mask, values.dtype)
            return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)

        total = mean_over(ops.square(dist), positive) + mean_over(ops.square(ops.relu(self.margin - dist)), negative)
        return ops.ones_like(y_pred[:, 0, 0]) * total  # the batch's value for every row (Keras averages rows)

    def _requires_labels(self):
        return self.use_labels

    def _arguments(self):
        return {"margin": self.margin, "window": self.window, "difficulty": self.difficulty,
                "use_labels": self.use_labels}
