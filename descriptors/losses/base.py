"""Input convention of every embedding loss: `y_pred` stacks the K embeddings of a tuple as (B, K, D)."""

import keras
from keras import ops

from descriptors.errors import ConfigError, ShapeError


def check_margin(margin, owner):
    """Raises ConfigError unless `margin` is a non-negative real number; returns it as float."""
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not margin >= 0:
        raise ConfigError(f"`margin` of {owner} must be a non-negative number. Received: margin={margin!r}")
    return float(margin)


def unstack_embeddings(y_pred, owner, exact=None, minimum=None):
    """Splits `y_pred` (B, K, D) into K tensors (B, D), checking K on the static shape.

    Args:
        y_pred: (B, K, D) tensor.
        owner: class name used in error messages.
        exact: required K (e.g. 3 for triplets), or None.
        minimum: smallest K accepted (e.g. 2 for pairs), or None.

    Returns:
        list of K tensors (B, D) when K is static; with a dynamic K only the first `exact or minimum`.

    Raises:
        ShapeError: `y_pred` is not rank 3 or K does not fit.
    """
    shape = tuple(y_pred.shape)
    expected = f"(B, {exact}, D)" if exact is not None else f"(B, K>={minimum}, D)"
    k = shape[1] if len(shape) == 3 else None
    bad_k = k is not None and ((exact is not None and k != exact) or (minimum is not None and k < minimum))
    if len(shape) != 3 or bad_k:
        raise ShapeError(f"`y_pred` of {owner} must have shape {expected}. Received: y_pred.shape={shape}")
    count = k if k is not None else (exact if exact is not None else minimum)
    return [y_pred[:, index, :] for index in range(count)]


class EmbeddingLoss(keras.losses.Loss):
    """Base of the losses here: `call` returns per-tuple losses (B,); Keras applies the reduction (mean).

    `y_true` may be None (replaced by zeros (B,)) except for a loss that reads labels.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def _requires_labels(self):
        return False

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Keras cannot convert None; these losses mostly ignore y_true, so None stands for "no targets".
        if y_true is None:
            if self._requires_labels():
                raise ShapeError(
                    f"`y_true` of {type(self).__name__} must be (B,) point ids when use_labels=True. "
                    "Received: y_true=None"
                )
            y_true = ops.zeros(ops.shape(y_pred)[:1])
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def _arguments(self):
        return {}

    def get_config(self):
        return {**super().get_config(), **self._arguments()}
