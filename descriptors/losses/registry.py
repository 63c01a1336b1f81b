"""Factory from a loss name (as used in configs and CLI flags) to a `keras.losses.Loss`, and its input arity."""

from descriptors.errors import ConfigError
from descriptors.losses.hardnet import HardestInBatchLoss
from descriptors.losses.triplet import InTripletHardNegativeLoss, TripletMarginLoss, TripletRatioLoss

LOSSES = {
    "triplet_margin": TripletMarginLoss,
    "triplet_ratio": TripletRatioLoss,
    "in_triplet_hard_negative": InTripletHardNegativeLoss,
    "hardest_in_batch": HardestInBatchLoss,
}

# How many embeddings per tuple the trainer must stack into y_pred (B, K, D): 3 = triplets, 2 = pairs.
LOSS_INPUT_ARITY = {
    "triplet_margin": 3,
    "triplet_ratio": 3,
    "in_triplet_hard_negative": 3,
    "hardest_in_batch": 2,
}


def build_loss(name, **kwargs):
    """Builds a loss by name.

    Args:
        name: one of "triplet_margin", "triplet_ratio", "in_triplet_hard_negative", "hardest_in_batch".
        **kwargs: constructor arguments (e.g. `margin=2.0`, `distance="mean_squared"`).

    Returns:
        the `keras.losses.Loss`; it expects `y_pred` of shape (B, LOSS_INPUT_ARITY[name], D).

    Raises:
        ConfigError: unknown name or invalid arguments.
    """
    if name not in LOSSES:
        raise ConfigError(f"`name` must be one of the loss names {sorted(LOSSES)}. Received: name={name!r}")
    try:
        return LOSSES[name](**kwargs)
    except TypeError as error:  # an unknown keyword argument
        raise ConfigError(f"Invalid arguments for loss {name!r} ({LOSSES[name].__name__}): {error}") from error
