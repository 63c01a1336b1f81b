"""Metric-learning losses in `keras.ops` (any backend). `y_pred` is (B, K, D): K stacked embeddings per tuple."""

from descriptors.losses.distances import (
    pairwise_l2,
    pairwise_squared_l2,
    rowwise_distance,
    rowwise_l2,
    rowwise_mean_squared,
    rowwise_squared_l2,
)
from descriptors.losses.arcface import ArcFaceHead, ArcFaceLoss, arcface_logits
from descriptors.losses.contrastive import ContrastiveLoss, contrastive_pair_loss
from descriptors.losses.hardnet import HardestInBatchLoss, hardest_in_batch_loss
from descriptors.losses.hynet import HyNetLoss, hybrid_distance, hynet_triplet_loss
from descriptors.losses.mined_loss import TRIPLET_FORMS, MinedTripletLoss
from descriptors.losses.miners import MINERS, anchor_positive_pairs, distance_weighted_negatives, mine_negatives
from descriptors.losses.ntxent import NTXentLoss
from descriptors.losses.registry import (
    LOSS_INPUT_ARITY,
    LOSSES,
    MINEABLE_LOSSES,
    VIEW_LOSSES,
    build_configured_loss,
    build_loss,
)
from descriptors.losses.snr import SNRTripletLoss, pairwise_snr, snr_distance, snr_triplet_loss, zero_mean_penalty
from descriptors.losses.sos import SOSNetLoss, SOSRegularized, sos_regularizer, sosnet_first_order_loss
from descriptors.losses.supcon import SupConLoss, supcon_per_embedding
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
    "MINEABLE_LOSSES",
    "MINERS",
    "TRIPLET_FORMS",
    "VIEW_LOSSES",
    "ArcFaceHead",
    "ArcFaceLoss",
    "ContrastiveLoss",
    "MinedTripletLoss",
    "NTXentLoss",
    "SNRTripletLoss",
    "SOSNetLoss",
    "SOSRegularized",
    "SupConLoss",
    "anchor_positive_pairs",
    "arcface_logits",
    "build_configured_loss",
    "contrastive_pair_loss",
    "distance_weighted_negatives",
    "mine_negatives",
    "pairwise_snr",
    "snr_distance",
    "snr_triplet_loss",
    "sos_regularizer",
    "sosnet_first_order_loss",
    "supcon_per_embedding",
    "zero_mean_penalty",
    "HardestInBatchLoss",
    "HyNetLoss",
    "InTripletHardNegativeLoss",
    "TripletMarginLoss",
    "TripletRatioLoss",
    "build_loss",
    "hardest_in_batch_loss",
    "hybrid_distance",
    "hynet_triplet_loss",
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
