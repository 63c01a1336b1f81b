"""The embedding head shared by the image backbones: global pooling, dropout, dense projection, L2 norm."""

import keras

from descriptors.errors import ConfigError
from descriptors.models.layers import L2Normalization

POOLINGS = ("avg", "max", "none")


def check_head_options(owner, embedding_dim, pooling, dropout, normalize):
    """Raises ConfigError for an invalid head option of backbone class `owner`."""
    if isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int) or embedding_dim < 1:
        raise ConfigError(
            f"`embedding_dim` of {owner} must be a positive integer. Received: embedding_dim={embedding_dim!r}"
        )
    if pooling not in POOLINGS:
        raise ConfigError(f"`pooling` of {owner} must be one of {POOLINGS}. Received: pooling={pooling!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ConfigError(f"`dropout` of {owner} must be a number in [0, 1). Received: dropout={dropout!r}")
    if not isinstance(normalize, bool):
        raise ConfigError(f"`normalize` of {owner} must be True or False. Received: normalize={normalize!r}")


def embedding_head(features, embedding_dim, pooling="avg", dropout=0.0, normalize=True, activation=None,
                   name="head"):
    """Maps a feature map (or vector) to the embedding.

    Args:
        features: (B, h, w, F) feature map, or (B, F) when `pooling="none"`.
        embedding_dim: output dimension E.
        pooling: "avg" or "max" global pooling of a feature map, "none" for a vector. Defaults to "avg".
        dropout: dropout rate before the projection. Defaults to 0.0.
        normalize: L2-normalise the output. Defaults to True.
        activation: activation of the projection (e.g. "tanh" for TFeat). Defaults to None (linear).
        name: prefix of the layer names. Defaults to "head".

    Returns:
        the (B, E) embedding tensor.

    Shape:
        Input (B, h, w, F) or (B, F). Output (B, E) float32, unit L2 norm when `normalize`.
    """
    x = features
    if pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name=f"{name}_avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name=f"{name}_max_pool")(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    x = keras.layers.Dense(embedding_dim, activation=activation, name=f"{name}_dense")(x)
    if normalize:
        x = L2Normalization(name=f"{name}_l2_normalization")(x)
    return x
