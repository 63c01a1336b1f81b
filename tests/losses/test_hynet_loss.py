"""HyNet's hybrid triplet loss against a NumPy transcription of the reference (yuruntian/HyNet `Loss_HyNet`:
the four nearest negatives chosen by argsort on penalised detached distances, the hardest of them, the hybrid
hinge)."""

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.losses import HyNetLoss, hybrid_distance
from descriptors.losses.registry import build_configured_loss

from test_sos import _views, reference_orders
from test_sos import oracle as sos_oracle


def oracle(anchor, positive, margin=1.2, alpha=2.0):
    big_l, big_r, big_lr, i_l, i_r, i_lr, i_rl = reference_orders(anchor, positive)
    i_l, i_r, i_lr, i_rl = i_l[:, 0], i_r[0, :], i_lr[:, 0], i_rl[0, :]
    n = len(anchor)
    index = np.arange(n)
    candidates = np.stack([big_l[index, i_l], big_r[i_r, index], big_lr[index, i_lr], big_lr[i_rl, index]])
    hardest = np.sort(candidates, axis=0)[0]
    positive_distance = np.diag(big_lr)
    return np.maximum(0.0, margin + (positive_distance + positive_distance ** 2 / 2 * alpha)
                      - (hardest + hardest ** 2 / 2 * alpha))


@pytest.mark.parametrize("n, margin, alpha", [(12, 1.2, 2.0), (12, 0.5, 0.0), (20, 1.2, 2.0), (5, 2.0, 1.0)])
def test_hybrid_triplet_equals_the_reference(n, margin, alpha):
    views = _views(n, seed=n, spread=0.6)
    expected = oracle(views[:, 0], views[:, 1], margin, alpha)
    assert expected.max() > 0
    value = float(HyNetLoss(margin=margin, alpha=alpha)(np.zeros(n), views))
    assert value == pytest.approx(expected.mean(), rel=1e-4, abs=1e-6)


def test_with_sosr_and_duplicates():
    views = _views(10, seed=9, spread=0.6)
    views[4] = views[8]
    _, sos = sos_oracle(views[:, 0], views[:, 1], knn=3)
    expected = oracle(views[:, 0], views[:, 1]) + 0.5 * sos
    assert float(HyNetLoss(sos_weight=0.5, knn=3)(None, views)) == pytest.approx(expected.mean(), rel=1e-4)


def test_hybrid_distance_config_and_errors():
    assert float(hybrid_distance(np.float32(0.5), alpha=2.0)) == pytest.approx(0.75)
    loss = HyNetLoss(margin=0.9, alpha=1.5, sos_weight=0.2, knn=4)
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert (again.margin, again.alpha, again.sos_weight, again.knn) == (0.9, 1.5, 0.2, 4)
    built = build_configured_loss("hynet", margin=1.2)
    assert isinstance(built, HyNetLoss) and (built.margin, built.alpha, built.sos_weight) == (1.2, 2.0, 0.0)
    assert build_configured_loss("hynet", sos_weight=0.3).sos_weight == 0.3
    for bad, field in (({"alpha": -1.0}, "alpha"), ({"alpha": float("inf")}, "alpha"), ({"knn": 0}, "knn"),
                       ({"min_distance": -0.1}, "min_distance")):
        with pytest.raises(ConfigError, match=field):
            HyNetLoss(**bad)
