"""SOSNet's losses (Tian et al., CVPR 2019): the second-order similarity regulariser (SOSR) and the full SOSNet loss.

A batch holds B matching pairs (anchor_i, positive_i). With ``L = D(a, a)``, ``R = D(p, p)`` and ``LR = D(a, p)``
the L2 distance matrices, SOSR asks each descriptor's neighbourhood to look the same in both views:

    sos_i = sqrt( sum_j A_ij (L_ij - R_ij)^2 + eps )

where ``A`` marks the pairs (i, j), j != i, that are among the ``knn`` nearest neighbours of each other in ``L``, in
``R`` or across views in ``LR`` (rows and columns), made symmetric. The neighbour search uses detached distances in
which the diagonal and near-duplicates (distance <= ``min_distance``) are pushed back by 2, as the reference code
(yuruntian/HyNet ``train.py``, ``Loss_SOSNet``) does; the terms keep the gradient of ``L`` and ``R``.

SOSNet's first-order term is HardNet's hardest negative (among ``L``'s row, ``R``'s column and ``LR``'s row and
column of each pair, chosen on the same detached distances) in a **quadratic** hinge:
``max(0, margin + LR_ii - LR_neg)^2``. Differences from the reference: losses are averaged over the batch (the
reference sums them: only the scale of the learning rate changes), ``eps`` is 1e-8, and ``knn`` is capped at B - 1.
"""

import keras
from keras import ops

from descriptors.errors import ConfigError
from descriptors.losses.base import EmbeddingLoss, check_margin, unstack_embeddings
from descriptors.losses.distances import pairwise_l2
from descriptors.losses.hardnet import HARDNET_MIN_DISTANCE

SOS_EPSILON = 1e-8


def _ranked(distances, min_distance):
    """Detached distances for the neighbour search, as the reference: the diagonal pushed back by 2, then every
    entry still at or below ``min_distance`` (near-duplicates) by 2 more."""
    d = ops.stop_gradient(distances)
    d = d + 2.0 * ops.eye(ops.shape(d)[0], dtype=d.dtype)
    return d + 2.0 * ops.cast(ops.less_equal(d, min_distance), d.dtype)


def _row_neighbours(ranked, knn):
    """1.0 where column j is one of the ``knn`` smallest entries of row i of ``ranked`` (B, B), else 0.0.

    Exactly ``min(knn, B - 1)`` per row (ties go to the lower index, as a stable argsort); B may be unknown
    when a graph is traced (TensorFlow's ``top_k`` then takes ``k`` as a tensor).
    """
    columns = ranked.shape[1]
    k = min(knn, columns - 1) if columns is not None else ops.minimum(knn, ops.shape(ranked)[1] - 1)
    chosen = ops.top_k(-ranked, k, sorted=True)[1]  # (B, k)
    every = ops.arange(ops.shape(ranked)[1], dtype=chosen.dtype)
    hit = ops.any(ops.equal(chosen[:, :, None], every[None, None, :]), axis=1)
    return ops.cast(hit, ranked.dtype)


def sos_regularizer(anchor, positive, knn=8, min_distance=HARDNET_MIN_DISTANCE):
    """Per-pair second-order similarity term ``sos_i`` (see the module docstring).

    Args:
        anchor, positive: (B, D) matching descriptors (L2-normalised in SOSNet).
        knn: neighbours per descriptor in each of the kNN graphs. Defaults to 8 (SOSNet).
        min_distance: distances at or below this are near-duplicates, not neighbours. Defaults to 0.008.

    Shape:
        anchor (B, D), positive (B, D) -> (B,).

    Example:
        >>> import numpy as np
        >>> a = np.eye(4, dtype="float32"); p = np.roll(a, 1, axis=1)
        >>> float(sos_regularizer(a, p, knn=2)[0]) < 1e-3  # the same geometry in both views
        True
    """
    left, right, across = pairwise_l2(anchor, anchor), pairwise_l2(positive, positive), pairwise_l2(anchor, positive)
    near_left = _row_neighbours(_ranked(left, min_distance), knn)
    near_right = _row_neighbours(_ranked(right, min_distance), knn)
    ranked_across = _ranked(across, min_distance)
    near_across = _row_neighbours(ranked_across, knn) + ops.transpose(
        _row_neighbours(ops.transpose(ranked_across), knn))
    adjacency = sum(m + ops.transpose(m) for m in (near_left, near_right, near_across))
    off_diagonal = 1.0 - ops.eye(ops.shape(left)[0], dtype=left.dtype)
    adjacency = ops.cast(ops.greater(adjacency, 0.0), left.dtype) * off_diagonal
    difference = (left - right) * adjacency
    return ops.sqrt(ops.sum(ops.square(difference), axis=1) + SOS_EPSILON)


def hardest_negatives(anchor, positive, min_distance=HARDNET_MIN_DISTANCE):
    """``(d(a_i, p_i), d_neg_i)`` per pair: SOSNet's and HyNet's hardest negative.

    ``d_neg_i`` is the smallest of: row i of ``L`` and of ``LR``, column i of ``R`` and of ``LR``, each at the
    entry chosen on the detached, diagonal- and duplicate-penalised distances (the gradient flows through it).

    Shape:
        anchor (B, D), positive (B, D) -> ((B,), (B,)).
    """
    left, right, across = pairwise_l2(anchor, anchor), pairwise_l2(positive, positive), pairwise_l2(anchor, positive)

    def hardest_in_rows(distances):
        chosen = ops.argmin(_ranked(distances, min_distance), axis=1)
        return ops.take_along_axis(distances, chosen[:, None], axis=1)[:, 0]

    negative = ops.minimum(
        ops.minimum(hardest_in_rows(left), hardest_in_rows(across)),
        ops.minimum(hardest_in_rows(ops.transpose(right)), hardest_in_rows(ops.transpose(across))),
    )
    return ops.diagonal(across), negative


def sosnet_first_order_loss(anchor, positive, margin=1.0, min_distance=HARDNET_MIN_DISTANCE):
    """SOSNet's quadratic hardest-in-batch hinge ``max(0, margin + d(a_i, p_i) - d_neg_i)^2`` per pair
    (`hardest_negatives`).

    Shape:
        anchor (B, D), positive (B, D) -> (B,).
    """
    positive_distance, negative = hardest_negatives(anchor, positive, min_distance)
    return ops.square(ops.relu(margin + positive_distance - negative))


def check_knn(knn, owner):
    if isinstance(knn, bool) or not isinstance(knn, int) or knn < 1:
        raise ConfigError(f"`knn` of {owner} must be an integer >= 1. Received: knn={knn!r}")
    return knn


def check_min_distance(min_distance, owner):
    if isinstance(min_distance, bool) or not isinstance(min_distance, (int, float)) or not min_distance >= 0:
        raise ConfigError(f"`min_distance` of {owner} must be a number >= 0. Received: min_distance={min_distance!r}")
    return float(min_distance)


def check_sos_weight(weight, owner):
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0 or weight == float("inf"):
        raise ConfigError(f"`sos_weight` of {owner} must be a finite number >= 0. Received: sos_weight={weight!r}")
    return float(weight)


@keras.saving.register_keras_serializable(package="descriptors")
class SOSNetLoss(EmbeddingLoss):
    """SOSNet's loss: the quadratic hardest-in-batch hinge plus ``sos_weight`` times SOSR, averaged over pairs.

    Args:
        margin: the hinge margin. Defaults to 1.0.
        knn: neighbours per descriptor for SOSR. Defaults to 8.
        sos_weight: weight of SOSR (0 leaves the first-order term alone). Defaults to 1.0.
        min_distance: near-duplicate threshold. Defaults to 0.008.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: ignored.
        y_pred: (B, K, D), K >= 2; the first two are (anchor, positive).

    Example:
        >>> import numpy as np
        >>> views = np.random.default_rng(0).normal(size=(16, 2, 8)).astype("float32")
        >>> views /= np.linalg.norm(views, axis=-1, keepdims=True)
        >>> float(SOSNetLoss()(np.zeros(16), views)) > 0
        True
    """

    def __init__(self, margin=1.0, knn=8, sos_weight=1.0, min_distance=HARDNET_MIN_DISTANCE, name="sosnet_loss",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        owner = type(self).__name__
        self.margin = check_margin(margin, owner)
        self.knn = check_knn(knn, owner)
        self.sos_weight = check_sos_weight(sos_weight, owner)
        self.min_distance = check_min_distance(min_distance, owner)

    def call(self, y_true, y_pred):
        anchor, positive = unstack_embeddings(y_pred, type(self).__name__, minimum=2)[:2]
        loss = sosnet_first_order_loss(anchor, positive, self.margin, self.min_distance)
        if self.sos_weight:
            loss = loss + self.sos_weight * sos_regularizer(anchor, positive, self.knn, self.min_distance)
        return loss

    def _arguments(self):
        return {"margin": self.margin, "knn": self.knn, "sos_weight": self.sos_weight,
                "min_distance": self.min_distance}


@keras.saving.register_keras_serializable(package="descriptors")
class SOSRegularized(EmbeddingLoss):
    """Any first-order loss plus ``sos_weight`` times SOSR on the first two embeddings of each row.

    Args:
        loss: the first-order `keras.losses.Loss` (e.g. `HardestInBatchLoss`, `TripletMarginLoss`); it gets the
            same ``y_true`` / ``y_pred``.
        sos_weight: weight of SOSR. Defaults to 1.0.
        knn: neighbours per descriptor. Defaults to 8.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: passed to ``loss``.
        y_pred: (B, K, D), K >= 2; SOSR reads the first two (anchor, positive).

    Example:
        >>> from descriptors.losses.triplet import TripletMarginLoss
        >>> regularized = SOSRegularized(TripletMarginLoss(), sos_weight=0.5)
    """

    def __init__(self, loss, sos_weight=1.0, knn=8, name="sos_regularized", reduction="sum_over_batch_size",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(loss, dict):
            loss = keras.saving.deserialize_keras_object(loss)
        if not isinstance(loss, keras.losses.Loss):
            raise ConfigError(f"`loss` of SOSRegularized must be a keras Loss. Received: {type(loss).__name__}")
        self.loss = loss
        self.sos_weight = check_sos_weight(sos_weight, type(self).__name__)
        self.knn = check_knn(knn, type(self).__name__)

    def call(self, y_true, y_pred):
        anchor, positive = unstack_embeddings(y_pred, type(self).__name__, minimum=2)[:2]
        base = self.loss(y_true, y_pred)  # already reduced to a scalar by its own reduction
        return base + self.sos_weight * sos_regularizer(anchor, positive, self.knn)

    def _requires_labels(self):
        requires = getattr(self.loss, "_requires_labels", None)
        return bool(requires()) if callable(requires) else False

    def _arguments(self):
        return {"loss": keras.saving.serialize_keras_object(self.loss), "sos_weight": self.sos_weight,
                "knn": self.knn}
