"""Distances between descriptors, written in `keras.ops` with gradients that stay finite at zero distance.

All distances here are "smaller = closer". The L2 distance is `sqrt(max(d2, epsilon))`: below `epsilon` the
value is the constant `sqrt(epsilon)` and its gradient is zero instead of infinite.
"""

from keras import ops

from descriptors.errors import ConfigError

DEFAULT_EPSILON = 1e-12


def pairwise_squared_l2(x, y):
    """Squared L2 distances between every row of `x` and every row of `y`, clamped at 0.

    Computed as `|x|^2 + |y|^2 - 2 x.y` (one matrix product).

    Shape:
        x (B, D), y (M, D) -> (B, M).
    """
    x_sq = ops.sum(ops.square(x), axis=-1, keepdims=True)
    y_sq = ops.sum(ops.square(y), axis=-1, keepdims=True)
    d2 = x_sq + ops.transpose(y_sq) - 2.0 * ops.matmul(x, ops.transpose(y))
    return ops.maximum(d2, 0.0)


def pairwise_l2(x, y, epsilon=DEFAULT_EPSILON):
    """L2 distances between every row of `x` and every row of `y`: `sqrt(max(d2, epsilon))`.

    Shape:
        x (B, D), y (M, D) -> (B, M).
    """
    return ops.sqrt(ops.maximum(pairwise_squared_l2(x, y), epsilon))


def rowwise_squared_l2(a, b):
    """Squared L2 distance between matching rows: `sum((a - b)**2, -1)`.

    Shape:
        a (B, D), b (B, D) -> (B,).
    """
    return ops.sum(ops.square(a - b), axis=-1)


def rowwise_l2(a, b, epsilon=DEFAULT_EPSILON):
    """L2 distance between matching rows: `sqrt(max(sum((a - b)**2, -1), epsilon))`.

    Shape:
        a (B, D), b (B, D) -> (B,).
    """
    return ops.sqrt(ops.maximum(rowwise_squared_l2(a, b), epsilon))


def rowwise_mean_squared(a, b):
    """Mean over the D dimensions of the squared difference (`K.mean(K.square(a - b), -1)` of the coursework).

    Shape:
        a (B, D), b (B, D) -> (B,).
    """
    return ops.mean(ops.square(a - b), axis=-1)


# name -> row-wise distance function (a, b) -> (B,).
ROWWISE_DISTANCES = {"l2": rowwise_l2, "sql2": rowwise_squared_l2, "mean_squared": rowwise_mean_squared}


def check_distance(distance, owner, choices=tuple(ROWWISE_DISTANCES)):
    """Raises ConfigError unless `distance` is one of `choices`; returns it."""
    if distance not in choices:
        raise ConfigError(f"`distance` of {owner} must be one of {list(choices)}. Received: distance={distance!r}")
    return distance


def rowwise_distance(a, b, distance="l2"):
    """Row-wise distance by name: "l2", "sql2" (squared L2) or "mean_squared" (squared L2 / D).

    Shape:
        a (B, D), b (B, D) -> (B,).
    """
    return ROWWISE_DISTANCES[check_distance(distance, "rowwise_distance")](a, b)
