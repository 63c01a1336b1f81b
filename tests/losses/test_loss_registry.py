import pytest

from descriptors.errors import ConfigError
from descriptors.losses import (
    HardestInBatchLoss,
    InTripletHardNegativeLoss,
    TripletMarginLoss,
    TripletRatioLoss,
)
from descriptors.losses.registry import LOSS_INPUT_ARITY, LOSSES, build_loss


def test_names_classes_and_arity():
    original = {"triplet_margin": TripletMarginLoss, "triplet_ratio": TripletRatioLoss,
                "in_triplet_hard_negative": InTripletHardNegativeLoss, "hardest_in_batch": HardestInBatchLoss}
    assert {name: LOSSES[name] for name in original} == original
    assert sorted(LOSSES) == sorted([*original, "contrastive", "supcon", "ntxent", "arcface", "snr", "sos", "hynet"])
    assert LOSS_INPUT_ARITY == {"triplet_margin": 3, "triplet_ratio": 3, "in_triplet_hard_negative": 3,
                                "hardest_in_batch": 2, "contrastive": 2, "supcon": 2, "ntxent": 2, "arcface": 2,
                                "snr": 3, "sos": 2, "hynet": 2}


def test_build_with_kwargs():
    loss = build_loss("triplet_margin", margin=1.0, distance="mean_squared")
    assert isinstance(loss, TripletMarginLoss) and loss.distance == "mean_squared"
    assert build_loss("hardest_in_batch", margin=0.5).margin == 0.5


def test_errors():
    with pytest.raises(ConfigError, match=r"`name` must be one of the loss names \['arcface', 'contrastive', "
                                          r"'hardest_in_batch', 'hynet', 'in_triplet_hard_negative', 'ntxent', 'snr', "
                                          r"'sos', 'supcon', 'triplet_margin', 'triplet_ratio'\]\. "
                                          r"Received: name='circle'"):
        build_loss("circle")
    with pytest.raises(ConfigError, match=r"Invalid arguments for loss 'triplet_ratio' \(TripletRatioLoss\)"):
        build_loss("triplet_ratio", margin=1.0)
