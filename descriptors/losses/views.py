"""Views layout of the batch losses: `y_pred` (B, K, D) holds K views per row, one row per 3-D point.

Flattening gives N = B*K embeddings in row-major order (embedding `b*K + k` is view k of row b); the label of an
embedding is its row index, or the track id `y_true[b]` when a loss is asked to read labels.
"""

from keras import ops

from descriptors.errors import ShapeError


def flatten_views(y_pred, owner, minimum=2, exact=None):
    """Checks `y_pred` (B, K, D) on its static shape and returns (embeddings (N, D), K).

    Raises:
        ShapeError: `y_pred` is not rank 3, K is not static, or K is below `minimum` / differs from `exact`.
    """
    shape = tuple(y_pred.shape)
    k = shape[1] if len(shape) == 3 else None
    bad = k is None or k < minimum or (exact is not None and k != exact)
    if bad:
        expected = f"(B, {exact}, D)" if exact is not None else f"(B, K>={minimum}, D)"
        raise ShapeError(f"`y_pred` of {owner} must have shape {expected}. Received: y_pred.shape={shape}")
    return ops.reshape(y_pred, (-1, shape[2])), int(k)


def view_labels(y_true, num_embeddings, views, use_labels):
    """Labels (N,) of the flattened embeddings: the row index, or the row's track id `y_true[:, 0]`/`y_true`."""
    if not use_labels:
        return ops.floor_divide(ops.arange(num_embeddings), views)
    ids = y_true[:, 0] if len(y_true.shape) == 2 else ops.reshape(y_true, (-1,))
    return ops.repeat(ops.cast(ids, "int32"), views)


def label_masks(labels):
    """(positive, negative) boolean (N, N) masks: same label and not the diagonal; different label."""
    same = ops.equal(labels[:, None], labels[None, :])
    eye = ops.eye(ops.shape(labels)[0], dtype="bool")
    return ops.logical_and(same, ops.logical_not(eye)), ops.logical_not(same)


def masked_mean(values, mask, axis=-1):
    """Mean of `values` over the True entries of `mask` along `axis`; 0 where there are none."""
    mask = ops.cast(mask, values.dtype)
    return ops.sum(values * mask, axis=axis) / ops.maximum(ops.sum(mask, axis=axis), 1.0)


def rows_mean(values, views):
    """Per-row mean of per-embedding values: (N,) -> (B,)."""
    return ops.mean(ops.reshape(values, (-1, views)), axis=1)
