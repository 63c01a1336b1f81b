import keras
import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses.triplet import (
    InTripletHardNegativeLoss,
    TripletMarginLoss,
    TripletRatioLoss,
    in_triplet_hard_negative_loss,
    triplet_margin_loss,
    triplet_ratio_loss,
)


def _dist(a, b, distance):
    d2 = np.sum((a.astype(np.float64) - b) ** 2, axis=-1)
    return {"l2": np.sqrt(d2), "sql2": d2, "mean_squared": d2 / a.shape[-1]}[distance]


def _oracle(kind, y, margin, distance):
    """Loops over triplets, float64."""
    out = []
    for a, p, n in y:
        dp, dn, dpn = (_dist(a, p, distance), _dist(a, n, distance), _dist(p, n, distance))
        if kind == "margin":
            out.append(max(0.0, dp - dn + margin))
        elif kind == "swap":
            out.append(max(0.0, dp - min(dn, dpn) + margin))
        else:
            sp, sn = np.exp(dp) / (np.exp(dp) + np.exp(dn)), np.exp(dn) / (np.exp(dp) + np.exp(dn))
            out.append(sp**2 + (1 - sn) ** 2)
    return np.array(out)


@pytest.fixture
def triplets():
    return np.random.default_rng(1).normal(scale=0.6, size=(6, 3, 5)).astype(np.float32)


@pytest.mark.parametrize("distance", ["l2", "sql2", "mean_squared"])
@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 3.0])
def test_margin_losses_match_oracle(triplets, distance, margin):
    for kind, cls in (("margin", TripletMarginLoss), ("swap", InTripletHardNegativeLoss)):
        expected = _oracle(kind, triplets, margin, distance)
        loss = cls(margin=margin, distance=distance)
        assert float(loss(np.zeros(6), triplets)) == pytest.approx(expected.mean(), rel=1e-5, abs=1e-6)
        per_sample = cls(margin=margin, distance=distance, reduction=None)(None, triplets)
        np.testing.assert_allclose(ops.convert_to_numpy(per_sample), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("distance", ["l2", "sql2"])
def test_ratio_loss_matches_oracle(triplets, distance):
    expected = _oracle("ratio", triplets, None, distance)
    assert float(TripletRatioLoss(distance=distance)(None, triplets)) == pytest.approx(expected.mean(), rel=1e-5)


def test_hand_built_triplet():
    # a=(0,0), p=(3,4): d+=5; n=(0,1): d(a,n)=1, d(p,n)=sqrt(9+9)=4.2426.
    a, p, n = (np.array([v], np.float32) for v in ([0, 0], [3, 4], [0, 1]))
    assert float(triplet_margin_loss(a, p, n, margin=1.0)[0]) == pytest.approx(5.0)
    assert float(triplet_margin_loss(a, p, n, margin=0.0, distance="sql2")[0]) == pytest.approx(24.0)
    assert float(triplet_margin_loss(a, p, n, distance="mean_squared")[0]) == pytest.approx(13.0)  # 12.5 - 0.5 + 1
    assert float(in_triplet_hard_negative_loss(a, p, n, margin=1.0)[0]) == pytest.approx(5.0)
    n_far = np.array([[0, 10]], np.float32)  # d(a,n)=10, d(p,n)=sqrt(9+36)=6.7082 -> swap picks 6.7082
    assert float(triplet_margin_loss(a, p, n_far, margin=1.0)[0]) == pytest.approx(0.0)
    assert float(in_triplet_hard_negative_loss(a, p, n_far, margin=2.0)[0]) == pytest.approx(5 - 45**0.5 + 2, rel=1e-6)
    # ratio: d+=5, d-=1 -> s+ = e^5/(e^5+e) ; loss = 2 s+^2
    s = np.exp(5) / (np.exp(5) + np.exp(1))
    assert float(triplet_ratio_loss(a, p, n)[0]) == pytest.approx(2 * s**2, rel=1e-6)


def test_coursework_loss_is_margin_one_on_mean_squared(triplets):
    a, p, n = triplets[:, 0], triplets[:, 1], triplets[:, 2]
    coursework = np.maximum(0, np.mean((a - p) ** 2, -1) - np.mean((a - n) ** 2, -1) + 1.0).mean()
    assert float(TripletMarginLoss(distance="mean_squared")(None, triplets)) == pytest.approx(coursework, rel=1e-5)


@pytest.mark.parametrize("cls", [TripletMarginLoss, TripletRatioLoss, InTripletHardNegativeLoss])
def test_config_round_trip_and_serialization(cls):
    kwargs = {"distance": "sql2"} if cls is TripletRatioLoss else {"margin": 0.3, "distance": "sql2"}
    loss = cls(**kwargs, name="custom")
    config = loss.get_config()
    assert {k: config[k] for k in kwargs} == kwargs and config["name"] == "custom"
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(clone) is cls and clone.get_config() == config


@pytest.mark.parametrize("cls", [TripletMarginLoss, TripletRatioLoss, InTripletHardNegativeLoss])
def test_needs_three_embeddings(cls):
    with pytest.raises(ShapeError, match=rf"`y_pred` of {cls.__name__} must have shape \(B, 3, D\)\. "
                                         r"Received: y_pred.shape=\(4, 2, 5\)"):
        cls()(None, np.zeros((4, 2, 5), np.float32))
    with pytest.raises(ShapeError, match=r"must have shape \(B, 3, D\)"):
        cls()(None, np.zeros((4, 15), np.float32))


def test_invalid_options():
    with pytest.raises(ConfigError, match=r"`margin` of TripletMarginLoss must be a non-negative number\. "
                                          r"Received: margin=-1"):
        TripletMarginLoss(margin=-1)
    with pytest.raises(ConfigError, match=r"`distance` of InTripletHardNegativeLoss must be one of \['l2', 'sql2', "
                                          r"'mean_squared'\]\. Received: distance='l1'"):
        InTripletHardNegativeLoss(distance="l1")


def test_gradients_are_finite_for_identical_embeddings(value_and_gradient):
    y = np.ones((2, 3, 4), np.float32)
    for loss in (TripletMarginLoss(), TripletRatioLoss(), InTripletHardNegativeLoss()):
        value, grad = value_and_gradient(lambda t, loss=loss: loss(None, t), y)
        assert np.isfinite(value) and np.all(np.isfinite(grad)), type(loss).__name__
