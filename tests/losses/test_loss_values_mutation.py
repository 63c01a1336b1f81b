"""Loss values computed by hand or by a float64 numpy oracle, written to kill the mutants that survived the rest of
tests/losses (see docs/mutation_testing.md): sql2 versus L2 in HardestInBatch, defaults, boundaries, dtypes,
reductions, messages."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses.arcface import ArcFaceHead, ArcFaceLoss, arcface_logits
from descriptors.losses.base import EmbeddingLoss, check_margin, unstack_embeddings
from descriptors.losses.contrastive import ContrastiveLoss, contrastive_pair_loss
from descriptors.losses.distances import rowwise_distance
from descriptors.losses.hardnet import HardestInBatchLoss, hardest_in_batch_loss
from descriptors.losses.miners import distance_weighted_negatives, mine_negatives
from descriptors.losses.registry import LOSS_INPUT_ARITY, LOSSES, build_configured_loss, build_loss
from descriptors.losses.snr import snr_triplet_loss, zero_mean_penalty
from descriptors.losses.supcon import SupConLoss, check_temperature
from descriptors.losses.triplet import in_triplet_hard_negative_loss


def _np(x):
    return ops.convert_to_numpy(x)


# --- HardestInBatch: "sql2" must be the squared L2 distance (planted bug: sql2 computed as L2) -------------------

A = np.array([[0, 0], [3, 0]], np.float32)
P = np.array([[0, 1], [3, 0.5]], np.float32)
# L2:   D = [[1, sqrt(9.25)], [sqrt(10), 0.5]]      sql2: D = [[1, 9.25], [10, 0.25]]


def test_hardest_in_batch_sql2_by_hand():
    # margin 10, anchor swap: hardest of pair 0 = min(D01, D10), of pair 1 = min(D10, D01).
    np.testing.assert_allclose(_np(hardest_in_batch_loss(A, P, margin=10.0, distance="sql2")),
                               [10 + 1 - 9.25, 10 + 0.25 - 9.25], rtol=1e-6)
    np.testing.assert_allclose(_np(hardest_in_batch_loss(A, P, margin=10.0, distance="l2")),
                               [10 + 1 - 9.25**0.5, 10 + 0.5 - 9.25**0.5], rtol=1e-6)
    # Without swap, pair 1 looks only at row 1: D10.
    np.testing.assert_allclose(_np(hardest_in_batch_loss(A, P, margin=10.0, anchor_swap=False, distance="sql2")),
                               [10 + 1 - 9.25, 10 + 0.25 - 10], rtol=1e-6)


def _oracle(anchor, positive, margin, distance, min_distance=0.008):
    """Brute force in float64; `min_distance` applies to the chosen distance, as documented."""
    diff = anchor[:, None, :].astype(np.float64) - positive[None, :, :]
    dist = (diff**2).sum(-1)
    if distance == "l2":
        dist = np.sqrt(dist)
    b = len(anchor)
    out = []
    for i in range(b):
        negatives = [dist[i, j] for j in range(b) if j != i and dist[i, j] >= min_distance]
        negatives += [dist[j, i] for j in range(b) if j != i and dist[j, i] >= min_distance]
        out.append(max(0.0, margin + dist[i, i] - min(negatives)) if negatives else 0.0)
    return np.array(out)


def test_hardest_in_batch_function_names_itself_in_distance_errors():
    with pytest.raises(ConfigError, match=r"^`distance` of hardest_in_batch_loss must be one of \['l2', 'sql2'\]\. "
                                          r"Received: distance='mean_squared'$"):
        hardest_in_batch_loss(A, P, distance="mean_squared")


@pytest.mark.parametrize("distance", ["l2", "sql2"])
def test_hardest_in_batch_loss_class_matches_oracle_for_each_distance(distance):
    rng = np.random.default_rng(11)
    y = rng.normal(size=(7, 2, 5)).astype(np.float32)
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    expected = _oracle(y[:, 0], y[:, 1], margin=1.5, distance=distance)
    assert expected.min() > 0  # every pair contributes: a wrong distance changes every term
    loss = HardestInBatchLoss(margin=1.5, distance=distance, reduction=None)
    np.testing.assert_allclose(_np(loss(None, y)), expected, rtol=1e-5, atol=1e-6)
    other = "l2" if distance == "sql2" else "sql2"
    assert not np.allclose(expected, _oracle(y[:, 0], y[:, 1], margin=1.5, distance=other), atol=1e-3)
    assert HardestInBatchLoss(distance=distance).get_config()["distance"] == distance


# --- Every loss class: documented defaults, and name / reduction / dtype reach Keras ------------------------------


DEFAULT_CONFIGS = {
    "triplet_margin": {"name": "triplet_margin_loss", "margin": 1.0, "distance": "l2"},
    "triplet_ratio": {"name": "triplet_ratio_loss", "distance": "l2"},
    "in_triplet_hard_negative": {"name": "in_triplet_hard_negative_loss", "margin": 1.0, "distance": "l2"},
    "hardest_in_batch": {"name": "hardest_in_batch_loss", "margin": 1.0, "anchor_swap": True, "min_distance": 0.008,
                         "use_labels": False, "distance": "l2"},
    "contrastive": {"name": "contrastive_loss", "margin": 1.0, "pair_reduction": "balanced", "use_labels": False},
    "supcon": {"name": "supcon_loss", "temperature": 0.1, "use_labels": False},
    "ntxent": {"name": "ntxent_loss", "temperature": 0.1},
    "arcface": {"name": "arcface_loss", "scale": 30.0, "margin": 0.5},
    "snr": {"name": "snr_triplet_loss", "margin": 1.0, "regularization": 0.01},
    "sos": {"name": "sosnet_loss", "margin": 1.0, "knn": 8, "sos_weight": 1.0, "min_distance": 0.008},
    "hynet": {"name": "hynet_loss", "margin": 1.2, "alpha": 2.0, "sos_weight": 0.0, "knn": 8, "min_distance": 0.008},
}


def _inputs(name, batch=4, dim=6, seed=0):
    """(y_true, y_pred) fit for loss `name`: unit descriptors (B, K, D), or cosines and ids for ArcFace."""
    rng = np.random.default_rng(seed)
    if name == "arcface":
        return np.arange(batch, dtype=np.float32), rng.uniform(-1, 1, size=(batch, 2, batch)).astype(np.float32)
    y = rng.normal(size=(batch, LOSS_INPUT_ARITY[name], dim))
    return None, (y / np.linalg.norm(y, axis=-1, keepdims=True)).astype(np.float32)


def test_every_loss_is_listed():
    assert sorted(DEFAULT_CONFIGS) == sorted(LOSSES)


@pytest.mark.parametrize("name", sorted(DEFAULT_CONFIGS))
def test_default_configuration(name):
    config = LOSSES[name]().get_config()
    assert config == {"reduction": "sum_over_batch_size", **DEFAULT_CONFIGS[name]}
    assert LOSSES[name].from_config(config).get_config() == config


@pytest.mark.parametrize("name", sorted(DEFAULT_CONFIGS))
def test_name_reduction_and_dtype_reach_keras(name):
    y_true, y_pred = _inputs(name)
    loss = LOSSES[name](name="custom", reduction=None, dtype="float64")
    assert loss.name == "custom" and loss.reduction is None and loss.dtype == "float64"
    per_row = loss(y_true, y_pred)
    # JAX computes in 32 bits unless jax_enable_x64 is set, so a float64 dtype policy yields float32 there.
    wanted = "float32" if keras.backend.backend() == "jax" else "float64"
    assert tuple(per_row.shape) == (4,) and keras.backend.standardize_dtype(per_row.dtype) == wanted
    mean = LOSSES[name](reduction="sum_over_batch_size")(y_true, y_pred)
    total = LOSSES[name](reduction="sum")(y_true, y_pred)
    np.testing.assert_allclose(_np(per_row).mean(), _np(mean), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(per_row).sum(), _np(total), rtol=1e-5, atol=1e-6)


OWNED_ERRORS = [  # (loss, bad keyword arguments, the field named in the message)
    ("triplet_margin", {"margin": -1.0}, "margin"), ("triplet_margin", {"distance": "cos"}, "distance"),
    ("triplet_ratio", {"distance": "cos"}, "distance"),
    ("in_triplet_hard_negative", {"margin": -1.0}, "margin"),
    ("in_triplet_hard_negative", {"distance": "cos"}, "distance"),
    ("hardest_in_batch", {"margin": -1.0}, "margin"), ("hardest_in_batch", {"distance": "mean_squared"}, "distance"),
    ("contrastive", {"margin": -1.0}, "margin"),
    ("supcon", {"temperature": 0.0}, "temperature"), ("ntxent", {"temperature": 0.0}, "temperature"),
    ("snr", {"margin": -1.0}, "margin"), ("snr", {"regularization": -1.0}, "regularization"),
    ("snr", {"regularization": "0.1"}, "regularization"), ("hardest_in_batch", {"min_distance": "0.1"}, "min_distance"),
    ("hardest_in_batch", {"min_distance": -0.1}, "min_distance"), ("hardest_in_batch", {"use_labels": 1}, "use_labels"),
    ("hardest_in_batch", {"anchor_swap": "yes"}, "anchor_swap"),
    ("contrastive", {"pair_reduction": "sum"}, "pair_reduction"),
]


@pytest.mark.parametrize("name, kwargs, field", OWNED_ERRORS, ids=lambda v: str(v))
def test_config_errors_name_the_class_and_field(name, kwargs, field):
    owner = LOSSES[name].__name__
    with pytest.raises(ConfigError, match=rf"^`{field}` of {owner} must "):
        LOSSES[name](**kwargs)


@pytest.mark.parametrize("name", sorted(n for n in LOSSES if n != "arcface"))
def test_shape_errors_name_the_class(name):
    bad = np.zeros((4, 5, 6), np.float32) if LOSS_INPUT_ARITY[name] == 3 else np.zeros((4, 6), np.float32)
    if name == "ntxent":
        bad = np.zeros((4, 3, 6), np.float32)  # exactly two views
    with pytest.raises(ShapeError, match=rf"^`y_pred` of {LOSSES[name].__name__} must have shape \(B, "):
        LOSSES[name]()(None, bad)


# --- The registry passes each loss exactly the options it has ---------------------------------------------------

CONFIGURED = {  # loss name -> the options build_configured_loss must pass (margin 2.5, sql2, temperature 0.3)
    "triplet_margin": {"margin": 2.5, "distance": "sql2"},
    "triplet_ratio": {"distance": "sql2"},
    "in_triplet_hard_negative": {"margin": 2.5, "distance": "sql2"},
    "hardest_in_batch": {"margin": 2.5, "distance": "sql2"},
    "contrastive": {"margin": 2.5},
    "supcon": {"temperature": 0.3},
    "ntxent": {"temperature": 0.3},
    "arcface": {},
    "snr": {"margin": 2.5},
}


@pytest.mark.parametrize("name", sorted(CONFIGURED))
def test_build_configured_loss_passes_each_loss_its_options(name):
    loss = build_configured_loss(name, margin=2.5, distance="sql2", temperature=0.3)
    assert type(loss) is LOSSES[name]
    expected = {**LOSSES[name]().get_config(), **CONFIGURED[name]}
    assert loss.get_config() == expected


@pytest.mark.parametrize("name", ["triplet_margin", "triplet_ratio", "in_triplet_hard_negative", "snr"])
def test_build_configured_loss_with_a_miner(name):
    loss = build_configured_loss(name, miner="semi_hard", margin=2.5, distance="sql2", temperature=0.3)
    config = loss.get_config()
    assert type(loss).__name__ == "MinedTripletLoss"
    assert (config["loss"], config["miner"], config["margin"]) == (name, "semi_hard", 2.5)
    assert config["distance"] == ("l2" if name == "snr" else "sql2")  # snr has its own distance


def test_build_loss_errors_and_miner():
    assert build_loss("triplet_margin", miner="opms").get_config()["miner"] == "opms"
    with pytest.raises(ConfigError, match=r"^Invalid arguments for mined loss 'triplet_margin': .*temperature"):
        build_loss("triplet_margin", miner="opms", temperature=0.1)
    with pytest.raises(ConfigError, match=r"^Invalid arguments for loss 'supcon' \(SupConLoss\): .*margin"):
        build_loss("supcon", margin=1.0)
    with pytest.raises(ConfigError, match=r"^`miner` works with the losses \[.*\]\. Received: name='supcon', "
                                          r"miner='opms'"):
        build_loss("supcon", miner="opms")
    with pytest.raises(ConfigError, match=r"^`name` must be one of the loss names \[.*\]\. Received: name='nope'"):
        build_loss("nope")


# --- Helpers and layers: default arguments, boundaries, dtypes ----------------------------------------------------


def test_contrastive_pair_loss_by_hand():
    dist = np.array([0.5, 0.5, 1.5, 3.0], np.float32)
    same = np.array([True, False, False, False])
    np.testing.assert_allclose(_np(contrastive_pair_loss(dist, same)), [0.25, 0.25, 0.0, 0.0])  # margin 1
    np.testing.assert_allclose(_np(contrastive_pair_loss(dist, same, margin=2.0)), [0.25, 2.25, 0.25, 0.0])
    half = contrastive_pair_loss(dist.astype(np.float16), same)  # labels take the distances' dtype
    assert keras.backend.standardize_dtype(half.dtype) == "float16"


def test_arcface_head_accepts_two_classes_and_checks_the_type():
    head = ArcFaceHead(2)
    cosines = _np(head(np.array([[[3.0, 4.0, 0.0]], [[0.0, 0.0, 2.0]]], np.float32)))  # (B=2, K=1, D=3)
    assert cosines.shape == (2, 1, 2)
    weights = _np(head.class_weights)
    assert head.class_weights.name == "class_weights" and weights.shape == (2, 3)
    unit_w = weights / np.linalg.norm(weights, axis=-1, keepdims=True)
    np.testing.assert_allclose(cosines[0, 0], unit_w @ np.array([0.6, 0.8, 0.0]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cosines[1, 0], unit_w @ np.array([0.0, 0.0, 1.0]), rtol=1e-5, atol=1e-6)
    for bad in (1, 3.5, True, "3"):
        with pytest.raises(ConfigError, match=r"^`num_classes` of ArcFaceHead must be an integer >= 2\. "):
            ArcFaceHead(bad)


# --- ArcFace: defaults, boundaries, finite gradients at |cos| = 1, (B, 2) targets ----------------------------------


def _arcface_target(cos, scale=30.0, margin=0.5):
    """Reference target logit (InsightFace): s*cos(theta+m) if cos > cos(pi-m), else s*(cos - sin(pi-m)*m)."""
    if cos > math.cos(math.pi - margin):
        return scale * math.cos(math.acos(cos) + margin)
    return scale * (cos - math.sin(math.pi - margin) * margin)


def test_arcface_logits_defaults_by_hand():
    cosines = np.array([[0.6, -0.2, 0.1]], np.float32)
    one_hot = np.array([[1.0, 0.0, 0.0]], np.float32)
    got = _np(arcface_logits(cosines, one_hot))  # scale 30, margin 0.5
    np.testing.assert_allclose(got, [[_arcface_target(0.6), 30 * -0.2, 30 * 0.1]], rtol=1e-5)


def test_arcface_logits_boundary_is_strict():
    """At exactly cos = cos(pi - m) the reference takes the fallback branch (cos > threshold is False)."""
    edge = np.float32(math.cos(math.pi - 0.5))
    got = _np(arcface_logits(np.array([[edge, 0.0]], np.float32), np.array([[1.0, 0.0]], np.float32)))
    np.testing.assert_allclose(got[0, 0], 30 * (float(edge) - math.sin(math.pi - 0.5) * 0.5), rtol=1e-6)


def test_arcface_logits_clip_unit_cosines():
    """Cosines are clipped to [-1 + 1e-7, 1 - 1e-7] (float32) before sin = sqrt(1 - cos^2) is taken."""
    cosines = np.array([[-1.0, 1.0, 0.5]], np.float32)
    clipped = np.clip(cosines, np.float32(-1.0 + 1e-7), np.float32(1.0 - 1e-7))
    assert clipped[0, 0] != -1.0 and clipped[0, 1] != 1.0
    np.testing.assert_array_equal(_np(arcface_logits(cosines, np.zeros((1, 3), np.float32))), np.float32(30) * clipped)
    target = _np(arcface_logits(cosines[:, 1:], np.array([[1.0, 0.0]], np.float32)))[0, 0]
    np.testing.assert_allclose(target, 30 * math.cos(math.acos(float(clipped[0, 1])) + 0.5), rtol=1e-5)


def test_arcface_gradient_is_finite_at_unit_cosines(value_and_gradient):
    cosines = np.array([[[1.0, -1.0, 0.3]], [[-1.0, 1.0, 0.0]]], np.float32)  # |cos| = 1: sqrt(1 - cos^2) at 0
    labels = np.array([0, 0], np.float32)
    value, grad = value_and_gradient(lambda c: ArcFaceLoss()(labels, c), cosines)
    assert np.isfinite(value) and np.isfinite(grad).all()


def test_arcface_loss_accepts_range_edges_and_two_column_targets():
    for scale, margin in ((0.5, 0.0), (30.0, 1.2), (1e-3, math.pi / 2 - 1e-6)):
        assert ArcFaceLoss(scale=scale, margin=margin).get_config()["margin"] == margin
    for kwargs in ({"margin": math.pi / 2}, {"margin": "0.5"}, {"scale": "3"}, {"scale": True}, {"margin": -0.1}):
        with pytest.raises(ConfigError, match=r"^`(scale|margin)` of ArcFaceLoss must be"):
            ArcFaceLoss(**kwargs)
    rng = np.random.default_rng(4)
    cosines = rng.uniform(-0.9, 0.9, size=(3, 2, 4)).astype(np.float32)
    ids = np.array([2, 0, 3], np.float32)
    with_difficulty = np.stack([ids, np.full(3, 0.7, np.float32)], axis=1)  # (B, 2) = (track id, difficulty)
    loss = ArcFaceLoss(reduction=None)
    np.testing.assert_allclose(_np(loss(with_difficulty, cosines)), _np(loss(ids, cosines)), rtol=1e-6)


# --- SupCon / NT-Xent, contrastive, SNR, miners: values that only a per-row or boundary check sees --------------


def _supcon_oracle_rows(y, labels, temperature):
    """Per-row SupCon in float64: anchor i normalises by its own sum over a != i."""
    b, k, _ = y.shape
    z = y.reshape(b * k, -1).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    logits = z @ z.T / temperature
    lab = np.repeat(labels, k)
    terms = []
    for i in range(b * k):
        others = [a for a in range(b * k) if a != i]
        lse = np.log(np.exp(logits[i, others]).sum())
        pos = [p for p in others if lab[p] == lab[i]]
        terms.append(-np.mean([logits[i, p] - lse for p in pos]) if pos else 0.0)
    return np.array(terms).reshape(b, k).mean(axis=1)


def test_supcon_per_row_values_with_shared_track_ids():
    rng = np.random.default_rng(8)
    y = rng.normal(size=(4, 2, 5)).astype(np.float32)
    labels = np.array([0, 0, 1, 2])  # rows 0 and 1 show the same track: groups of unequal size
    expected = _supcon_oracle_rows(y, labels, 0.5)
    got = _np(SupConLoss(temperature=0.5, use_labels=True, reduction=None)(labels.astype(np.float32), y))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_check_temperature_rejects_strings_with_a_config_error():
    assert check_temperature(0.25, "X") == 0.25
    for bad in ("0.1", True, 0, -1.0):
        with pytest.raises(ConfigError, match=r"^`temperature` of X must be a positive number"):
            check_temperature(bad, "X")


def test_zero_mean_penalty_reduces_the_last_axis():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10.0
    np.testing.assert_allclose(_np(zero_mean_penalty(x)), np.abs(x.sum(-1)))


def test_distance_weighted_cutoff_is_exclusive():
    d_an = np.array([[0.8, 1.4, 1.3]], np.float32)  # 1.4 = the non-zero-loss cutoff: no weight
    negative = np.array([[True, True, True]])
    weights = _np(distance_weighted_negatives(d_an, negative, 8.0))
    assert weights[0, 1] == 0.0 and weights[0, 0] > 0 and weights[0, 2] > 0
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-6)


# --- Shared plumbing: base class, tuple unstacking, view labels, distance defaults ------------------------------


class _RowSum(EmbeddingLoss):
    """Minimal subclass: relies on EmbeddingLoss's own defaults."""

    def call(self, y_true, y_pred):
        return ops.sum(y_pred[:, 0, :], axis=-1)


def test_embedding_loss_defaults_and_sample_weight():
    loss = _RowSum()
    assert loss.reduction == "sum_over_batch_size" and loss.dtype == "float32"
    assert _RowSum(dtype="float64").dtype == "float64"
    y = np.array([[[1.0, 2.0]], [[3.0, 4.0]]], np.float32)  # row sums 3 and 7
    assert float(loss(None, y)) == pytest.approx(5.0)
    assert float(loss(None, y, sample_weight=np.array([1.0, 0.0], np.float32))) == pytest.approx(1.5)


def test_check_margin_rejects_strings_with_a_config_error():
    assert check_margin(0, "X") == 0.0
    for bad in ("1.0", True, -0.5, None):
        with pytest.raises(ConfigError, match=r"^`margin` of X must be a non-negative number"):
            check_margin(bad, "X")


def test_unstack_embeddings_static_and_dynamic_k():
    parts = unstack_embeddings(np.zeros((2, 4, 3), np.float32), "X", minimum=2)
    assert len(parts) == 4  # every static view, not just the minimum
    assert len(unstack_embeddings(keras.KerasTensor((None, None, 5)), "X", exact=3)) == 3
    assert len(unstack_embeddings(keras.KerasTensor((None, None, 5)), "X", minimum=2)) == 2
    for bad in (np.zeros((4,), np.float32), np.zeros((2, 5), np.float32)):
        with pytest.raises(ShapeError, match=r"^`y_pred` of X must have shape \(B, 3, D\)"):
            unstack_embeddings(bad, "X", exact=3)
    with pytest.raises(ShapeError, match=r"^`y_pred` of ContrastiveLoss must have shape \(B, K>=2, D\)"):
        ContrastiveLoss()(None, np.zeros((4,), np.float32))


@pytest.mark.parametrize("name", ["contrastive", "supcon"])
def test_view_losses_read_track_ids_from_the_first_column(name):
    _, y = _inputs(name, batch=4)
    ids = np.array([0, 0, 1, 2], np.float32)  # rows 0 and 1 are the same track
    with_difficulty = np.stack([ids, np.full(4, 0.9, np.float32)], axis=1)
    loss = LOSSES[name](use_labels=True, reduction=None)
    np.testing.assert_allclose(_np(loss(with_difficulty, y)), _np(loss(ids, y)), rtol=1e-6)
    assert not np.allclose(_np(loss(ids, y)), _np(LOSSES[name](reduction=None)(None, y)))


def test_function_defaults():
    a = np.array([[0.0, 0.0]], np.float32)
    p = np.array([[0.0, 0.5]], np.float32)
    n = np.array([[0.0, 1.0]], np.float32)  # d(a, p) = 0.5, d(a, n) = 1, d(p, n) = 0.5
    np.testing.assert_allclose(_np(in_triplet_hard_negative_loss(a, p, n)), [1.0 + 0.5 - 0.5], rtol=1e-6)
    np.testing.assert_allclose(_np(rowwise_distance(a, n)), [1.0], rtol=1e-6)  # "l2" by default


def test_build_configured_loss_defaults():
    assert build_configured_loss("triplet_margin").get_config()["margin"] == 1.0
    assert build_configured_loss("triplet_margin").get_config()["distance"] == "l2"
    assert build_configured_loss("supcon").get_config()["temperature"] == 0.1


def test_snr_triplet_loss_default_margin():
    a = np.array([[1.0, -1.0, 0.0]], np.float32)  # var(a) = 2/3; p = a, n = a: both SNR distances are 0
    np.testing.assert_allclose(_np(snr_triplet_loss(a, a, a, regularization=0.0)), [1.0], rtol=1e-6)


def test_mine_negatives_defaults_boundaries_and_message():
    d_ap, views = np.array([0.5], np.float32), 2
    everything = np.array([[True, True, True]])
    # semi-hard: the closest negative strictly farther than the positive (0.5 itself is not "outside")
    semi = _np(mine_negatives("semi_hard", d_ap, np.array([[0.5, 0.7, 0.3]], np.float32), everything, views))
    np.testing.assert_array_equal(semi, [[0.0, 1.0, 0.0]])
    # opms prunes negatives with d_an >= d_ap + margin (default margin 1.0): 1.5 is pruned, 1.6 too
    pruned = _np(mine_negatives("opms", d_ap, np.array([[1.5, 1.0, 1.6]], np.float32), everything, views,
                                difficulty=0.0))
    np.testing.assert_allclose(pruned, [[0.0, 1.0, 0.0]], atol=1e-7)
    # default difficulty 1.0: gamma = 10 / 1e-3, a 0.001 gap gives the second negative a weight of e^-10
    sharp = _np(mine_negatives("opms", d_ap, np.array([[0.6, 0.601, 2.0]], np.float32), everything, views))
    np.testing.assert_allclose(sharp[0, 1], np.exp(-10.0), rtol=2e-2)
    # distance-weighted sampling uses dim = 128 by default
    d_an = np.array([[0.9, 1.1, 1.3]], np.float32)
    np.testing.assert_allclose(_np(mine_negatives("distance_weighted", d_ap, d_an, everything, views)),
                               _np(distance_weighted_negatives(d_an, everything, 128.0)), rtol=1e-6)
    with pytest.raises(ConfigError, match=r"^`miner` of mine_negatives must be one of \['batch_hard', "):
        mine_negatives("hardest", d_ap, d_an, everything, views)
