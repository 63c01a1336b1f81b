"""Factory from a loss name (as used in configs and CLI flags) to a `keras.losses.Loss`, and its input arity."""

from descriptors.errors import ConfigError
from descriptors.losses.arcface import ArcFaceLoss
from descriptors.losses.contrastive import ContrastiveLoss
from descriptors.losses.hardnet import HardestInBatchLoss
from descriptors.losses.hynet import HyNetLoss
from descriptors.losses.mined_loss import TRIPLET_FORMS, MinedTripletLoss
from descriptors.losses.ntxent import NTXentLoss
from descriptors.losses.opms_pairs import OPMSPairLoss
from descriptors.losses.snr import SNRTripletLoss
from descriptors.losses.sos import SOSNetLoss, SOSRegularized
from descriptors.losses.supcon import SupConLoss
from descriptors.losses.triplet import InTripletHardNegativeLoss, TripletMarginLoss, TripletRatioLoss

LOSSES = {
    "triplet_margin": TripletMarginLoss,
    "triplet_ratio": TripletRatioLoss,
    "in_triplet_hard_negative": InTripletHardNegativeLoss,
    "hardest_in_batch": HardestInBatchLoss,
    "contrastive": ContrastiveLoss,
    "supcon": SupConLoss,
    "ntxent": NTXentLoss,
    "arcface": ArcFaceLoss,
    "snr": SNRTripletLoss,
    "sos": SOSNetLoss,
    "hynet": HyNetLoss,
}

# How many embeddings per tuple the trainer must stack into y_pred (B, K, D): 3 = triplets, 2 = pairs.
LOSS_INPUT_ARITY = {
    "triplet_margin": 3,
    "triplet_ratio": 3,
    "in_triplet_hard_negative": 3,
    "hardest_in_batch": 2,
    "contrastive": 2,
    "supcon": 2,
    "ntxent": 2,
    "arcface": 2,
    "snr": 3,
    "sos": 2,
    "hynet": 2,
}

# Losses that read K >= 2 views of each row (B, K, D) and take every other row as negatives; a mined triplet loss
# is one too. NT-Xent needs exactly K = 2. ArcFace's y_pred is the cosines of `ArcFaceHead` (B, K, C).
VIEW_LOSSES = ("hardest_in_batch", "contrastive", "supcon", "ntxent", "arcface", "sos", "hynet")
# Losses that `MinedTripletLoss` can apply to mined triplets (`miner` other than "none").
MINEABLE_LOSSES = TRIPLET_FORMS
# Pair miners (SimNet's OPMS curriculum): they select pairs for the contrastive loss (`OPMSPairLoss`).
PAIR_MINERS = ("opms_pairs",)


def build_loss(name, miner="none", **kwargs):
    """Builds a loss by name, optionally on mined triplets.

    Args:
        name: one of `LOSSES` ("triplet_margin", "triplet_ratio", "in_triplet_hard_negative", "hardest_in_batch",
            "contrastive", "supcon", "ntxent", "arcface", "snr").
        miner: "none" (the loss on the sampled tuples), or a miner of `descriptors.losses.miners.MINERS`; then
            `name` must be in `MINEABLE_LOSSES` and the result is a `MinedTripletLoss` on (B, K>=2, D) views;
            or "opms_pairs" with ``name="contrastive"``: `OPMSPairLoss`.
        **kwargs: constructor arguments (e.g. `margin=2.0`, `distance="mean_squared"`).

    Returns:
        the `keras.losses.Loss`; without a miner it expects `y_pred` of shape (B, LOSS_INPUT_ARITY[name], D)
        (K >= 2 views for `VIEW_LOSSES`).

    Raises:
        ConfigError: unknown name, a miner with a loss that cannot be mined, or invalid arguments.
    """
    if name not in LOSSES:
        raise ConfigError(f"`name` must be one of the loss names {sorted(LOSSES)}. Received: name={name!r}")
    if miner in PAIR_MINERS:
        if name != "contrastive":
            raise ConfigError(f"`miner={miner!r}` mines pairs for the loss 'contrastive'. Received: name={name!r}")
        try:
            return OPMSPairLoss(**kwargs)
        except TypeError as error:
            raise ConfigError(f"Invalid arguments for the {miner} contrastive loss: {error}") from error
    if miner != "none":
        if name not in MINEABLE_LOSSES:
            raise ConfigError(f"`miner` works with the losses {list(MINEABLE_LOSSES)}. Received: name={name!r}, "
                              f"miner={miner!r}")
        try:
            return MinedTripletLoss(loss=name, miner=miner, **kwargs)
        except TypeError as error:
            raise ConfigError(f"Invalid arguments for mined loss {name!r}: {error}") from error
    try:
        return LOSSES[name](**kwargs)
    except TypeError as error:  # an unknown keyword argument
        raise ConfigError(f"Invalid arguments for loss {name!r} ({LOSSES[name].__name__}): {error}") from error


def build_configured_loss(name, miner="none", margin=1.0, distance="l2", temperature=0.1, sos_weight=None):
    """The loss of a training config: passes each loss only the options it has.

    margin: triplet-style losses, hardest_in_batch, contrastive, sos, hynet (ArcFace keeps its angular margin 0.5 rad);
    distance: triplet losses and hardest_in_batch (mined: "l2"/"sql2"); temperature: supcon, ntxent;
    sos_weight: SOSNet's regulariser weight for ``name="sos"`` (None: 1.0); for any other loss a weight > 0 wraps
    it in `SOSRegularized` (None or 0: the loss alone).
    """
    if name == "sos":
        return build_loss("sos", margin=margin, sos_weight=1.0 if sos_weight is None else sos_weight)
    if name == "hynet":
        return build_loss("hynet", margin=margin, sos_weight=sos_weight or 0.0)
    if miner != "none":
        options = {"margin": margin} if name == "snr" or miner in PAIR_MINERS else {"margin": margin,
                                                                                    "distance": distance}
        loss = build_loss(name, miner=miner, **options)
    else:
        options = {
            "triplet_ratio": {"distance": distance},
            "contrastive": {"margin": margin},
            "supcon": {"temperature": temperature},
            "ntxent": {"temperature": temperature},
            "arcface": {},
            "snr": {"margin": margin},
        }.get(name, {"margin": margin, "distance": distance})
        loss = build_loss(name, **options)
    return SOSRegularized(loss, sos_weight=sos_weight) if sos_weight else loss
