"""Triplet miners over the flattened views of a batch: which negatives each (anchor, positive) pair uses.

The batch is `y_pred` (B, K, D) flattened to N = B*K embeddings (row-major). The (anchor, positive) pairs are
every ordered pair of two views of the same row: M = B*K*(K-1), row-major (see `anchor_positive_pairs`).
Negatives are embeddings with another label (another row, or another track id). A miner returns a
weight matrix W (M, N) over the candidate negatives of each pair, without gradient:

- ``batch_hard`` (Hermans et al. 2017): the hardest positive of each anchor with its hardest negative (one-hot);
- ``semi_hard`` (FaceNet, Schroff et al. 2015): the closest negative farther than the positive, else the
  farthest negative (the TensorFlow Addons rule), for every pair;
- ``distance_weighted`` (Wu et al. 2017): negatives weighted by `min(lambda, 1/q(d))` with q the density of
  distances between uniform points on the unit sphere; we use the exact expectation over that distribution
  instead of drawing one negative (deterministic, no random state in the loss);
- ``opms`` (online progressive mining, a curriculum): negatives that already satisfy the margin are pruned
  and the others weighted by `softmax(gamma * (d_ap - d_an))` with `gamma = 10 * lambda / (1 - lambda)`:
  nearly uniform (random triplets) for a small difficulty lambda, the hardest negative at lambda = 1.

Rows of W sum to 1 (an active pair) or 0 (no valid negative / pruned / not selected).
"""

from keras import ops

from descriptors.errors import ConfigError

MINERS = ("batch_hard", "semi_hard", "distance_weighted", "opms")
LARGE = 1e9
OPMS_SHARPNESS = 10.0
DW_CUTOFF = 0.5
DW_NONZERO_LOSS_CUTOFF = 1.4


def check_miner(miner, owner):
    """Raises ConfigError unless `miner` is one of `MINERS`; returns it."""
    if miner not in MINERS:
        raise ConfigError(f"`miner` of {owner} must be one of {list(MINERS)}. Received: miner={miner!r}")
    return miner


def anchor_positive_pairs(batch, views):
    """(anchor, positive) indices (M,) of every ordered pair of distinct views within a row, M = B*K*(K-1).

    Pair m belongs to row `m // (K*(K-1))`; anchors of one row come in groups of K-1 consecutive pairs.
    """
    first = [k for k in range(views) for j in range(views) if j != k]
    second = [j for k in range(views) for j in range(views) if j != k]
    base = ops.arange(batch)[:, None] * views
    anchors = ops.reshape(base + ops.convert_to_tensor(first, "int32")[None, :], (-1,))
    positives = ops.reshape(base + ops.convert_to_tensor(second, "int32")[None, :], (-1,))
    return anchors, positives


def _one_hot_rows(index, valid, count, dtype):
    return ops.one_hot(index, count, dtype=dtype) * ops.cast(valid, dtype)[:, None]


def mine_negatives(miner, d_ap, d_an, negative, views, margin=1.0, difficulty=1.0, dim=128):
    """Negative weights W (M, N) of each (anchor, positive) pair.

    Args:
        miner: one of `MINERS`.
        d_ap: (M,) anchor-positive distances.
        d_an: (M, N) anchor-to-every-embedding distances (L2 for ``distance_weighted``).
        negative: (M, N) bool, True where the embedding is a valid negative of the pair's anchor.
        views: K (for the hardest positive of each anchor in ``batch_hard``).
        margin: margin of ``semi_hard`` / ``opms``.
        difficulty: OPMS lambda in [0, 1] (float or scalar tensor).
        dim: descriptor dimension D (``distance_weighted``).

    Shape:
        d_ap (M,), d_an (M, N), negative (M, N) -> (M, N) float, no gradient.
    """
    check_miner(miner, "mine_negatives")
    d_ap, d_an = ops.stop_gradient(d_ap), ops.stop_gradient(d_an)
    count, dtype = ops.shape(d_an)[1], d_an.dtype
    has_negative = ops.any(negative, axis=1)
    if miner == "batch_hard":
        hardest = ops.argmin(ops.where(negative, d_an, LARGE), axis=1)
        per_anchor = ops.reshape(d_ap, (-1, views - 1))
        is_hardest_pos = ops.reshape(per_anchor >= ops.max(per_anchor, axis=1, keepdims=True), (-1,))
        return _one_hot_rows(hardest, ops.logical_and(has_negative, is_hardest_pos), count, dtype)
    if miner == "semi_hard":
        outside = ops.logical_and(negative, d_an > d_ap[:, None])
        closest_outside = ops.argmin(ops.where(outside, d_an, LARGE), axis=1)
        farthest = ops.argmax(ops.where(negative, d_an, -LARGE), axis=1)
        chosen = ops.where(ops.any(outside, axis=1), closest_outside, farthest)
        return _one_hot_rows(chosen, has_negative, count, dtype)
    if miner == "distance_weighted":
        return distance_weighted_negatives(d_an, negative, float(dim))
    valid = ops.logical_and(negative, d_an < d_ap[:, None] + margin)
    difficulty = ops.cast(difficulty, dtype)
    gamma = OPMS_SHARPNESS * difficulty / ops.maximum(1.0 - difficulty, 1e-3)
    scores = ops.where(valid, gamma * (d_ap[:, None] - d_an), -LARGE)
    return _softmax_rows(scores, valid)


def _softmax_rows(scores, valid):
    weights = ops.softmax(scores, axis=1) * ops.cast(valid, scores.dtype)
    return ops.stop_gradient(weights * ops.cast(ops.any(valid, axis=1), scores.dtype)[:, None])


def distance_weighted_negatives(d_an, negative, dim, cutoff=DW_CUTOFF, nonzero_loss_cutoff=DW_NONZERO_LOSS_CUTOFF):
    """Distance-weighted sampling probabilities (Wu et al. 2017) of each negative, for unit-norm descriptors.

    `log w = (2 - D) log d - (D - 3)/2 log(1 - d^2/4)` with d clipped at `cutoff`; negatives at distance
    >= `nonzero_loss_cutoff` get no weight (they would give zero loss); each row is normalised to sum 1.

    Shape:
        d_an (M, N) L2 distances, negative (M, N) bool -> (M, N), no gradient.
    """
    d = ops.maximum(ops.stop_gradient(d_an), cutoff)
    log_w = (2.0 - dim) * ops.log(d) - ((dim - 3.0) / 2.0) * ops.log(ops.maximum(1.0 - 0.25 * ops.square(d), 1e-8))
    valid = ops.logical_and(negative, d < nonzero_loss_cutoff)
    return _softmax_rows(ops.where(valid, log_w, -LARGE), valid)
