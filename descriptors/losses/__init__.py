"""Metric-learning losses in `keras.ops` (any backend). `y_pred` is (B, K, D): K stacked embeddings per tuple."""

from descriptors.losses.distances import (
    pairwise_l2,
    pairwise_squared_l2,
    rowwise_distance,
    rowwise_l2,
    rowwise_mean_squared,
    rowwise_squared_l2,
)
from descriptors.losses.hardnet import HardestInBatchLoss, hardest_in_batch_loss
from descriptors.losses.registry import LOSS_INPUT_ARITY, LOSSES, build_loss
from descriptors.losses.triplet import (
    InTripletHardNegativeLoss,
    TripletMarginLoss,
    TripletRatioLoss,
    in_triplet_hard_negative_loss,
    triplet_margin_loss,
    triplet_ratio_loss,
)

__all__ = [
    "LOSSES",
    "LOSS_INPUT_ARITY",
    "HardestInBatchLoss",
    "InTripletHardNegativeLoss",
    "TripletMarginLoss",
    "TripletRatioLoss",
    "build_loss",
    "hardest_in_batch_loss",
    "in_triplet_hard_negative_loss",
    "pairwise_l2",
    "pairwise_squared_l2",
    "rowwise_distance",
    "rowwise_l2",
    "rowwise_mean_squared",
    "rowwise_squared_l2",
    "triplet_margin_loss",
    "triplet_ratio_loss",
]
