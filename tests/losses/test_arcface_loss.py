"""ArcFaceHead + ArcFaceLoss against a numpy oracle of the additive angular margin softmax."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses import ArcFaceHead, ArcFaceLoss


def _oracle(cosines, labels, scale, margin):
    out = []
    for row, label in zip(cosines, labels):
        per_view = []
        for cos in row:
            logits = scale * cos.astype(np.float64)
            theta = math.acos(np.clip(cos[label], -1 + 1e-7, 1 - 1e-7))
            target = math.cos(theta + margin) if theta + margin < math.pi else cos[label] - math.sin(math.pi - margin) * margin
            logits[label] = scale * target
            per_view.append(-(logits[label] - np.log(np.exp(logits).sum())))
        out.append(np.mean(per_view))
    return np.mean(out)


@pytest.mark.parametrize("scale,margin", [(30.0, 0.5), (4.0, 0.2)])
def test_arcface_matches_oracle(scale, margin):
    rng = np.random.default_rng(9)
    cosines = rng.uniform(-0.9, 0.9, size=(4, 2, 5)).astype(np.float32)
    cosines[0, 0, 1] = -0.99  # theta + m beyond pi: the fallback branch
    labels = np.array([1, 0, 4, 2])
    value = float(ops.convert_to_numpy(ArcFaceLoss(scale, margin)(labels.astype(np.float32), cosines)))
    np.testing.assert_allclose(value, _oracle(cosines, labels, scale, margin), rtol=1e-4)


def test_head_gives_cosines_to_class_centres():
    head = ArcFaceHead(3)
    emb = np.random.default_rng(10).normal(size=(2, 2, 4)).astype(np.float32)
    cos = ops.convert_to_numpy(head(emb))
    w = ops.convert_to_numpy(head.class_weights)
    expected = (emb / np.linalg.norm(emb, axis=-1, keepdims=True)) @ (w / np.linalg.norm(w, axis=1, keepdims=True)).T
    np.testing.assert_allclose(cos, expected, rtol=1e-5, atol=1e-6)
    assert head.compute_output_shape((None, 2, 4)) == (None, 2, 3)
    assert keras.layers.deserialize(keras.layers.serialize(head)).num_classes == 3


def test_arcface_errors():
    with pytest.raises(ConfigError, match="`num_classes` of ArcFaceHead must be an integer >= 2"):
        ArcFaceHead(1)
    with pytest.raises(ConfigError, match=r"`margin` of ArcFaceLoss must be in \[0, pi/2\)"):
        ArcFaceLoss(margin=2.0)
    with pytest.raises(ConfigError, match="`scale` of ArcFaceLoss must be a positive number"):
        ArcFaceLoss(scale=0)
    with pytest.raises(ShapeError, match="`y_true` of ArcFaceLoss must be"):
        ArcFaceLoss()(None, np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ShapeError, match=r"must be cosines \(B, K, C\)"):
        ArcFaceLoss()(np.zeros(2, np.float32), np.zeros((2, 3), np.float32))
    loss = ArcFaceLoss(10.0, 0.3)
    assert ArcFaceLoss.from_config(loss.get_config()).get_config() == loss.get_config()
