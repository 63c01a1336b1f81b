"""ArcFace (Deng et al., CVPR 2019): additive angular margin softmax over patch-track classes.

A Keras 3 `Loss` owns no variables, so the learnable class centres live in `ArcFaceHead`, a layer that the
training model applies after the encoder (the trainer's `HeadTupleEncoder`, training/head_encoder.py); the
optimizer trains it with the encoder. The head outputs cosines (B, K, C) and `ArcFaceLoss` turns them into the
margin softmax cross-entropy with the track ids `y_true`.
"""

import math

import keras
from keras import ops

from descriptors.errors import ConfigError, ShapeError
from descriptors.losses.base import EmbeddingLoss

COSINE_CLIP = 1e-7


@keras.saving.register_keras_serializable(package="descriptors")
class ArcFaceHead(keras.layers.Layer):
    """Cosine similarities between descriptors and C learnable class centres (the ArcFace weight (C, D)).

    `num_classes` must cover every track id the loss sees: ids are 0..C-1 (an id >= C has no centre and its
    one-hot target is all zeros, which silently drops the margin term). The trainer uses C = number of
    training tracks, the id space of its batches.

    Args:
        num_classes: number of classes C (patch tracks).
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        (..., D) float32 -> (..., C) float32 cosines in [-1, 1].
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ConfigError(f"`num_classes` of ArcFaceHead must be an integer >= 2. Received: num_classes={num_classes!r}")
        self.num_classes = num_classes

    def build(self, input_shape):
        self.class_weights = self.add_weight(shape=(self.num_classes, int(input_shape[-1])),
                                             initializer="glorot_uniform", name="class_weights")

    def call(self, embeddings):
        z = ops.normalize(embeddings, axis=-1, order=2)
        w = ops.normalize(self.class_weights, axis=-1, order=2)
        return ops.matmul(z, ops.transpose(w))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_classes,)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def arcface_logits(cosines, one_hot, scale=30.0, margin=0.5):
    """`scale * cos(theta + margin)` on the target class, `scale * cos(theta)` elsewhere (InsightFace form).

    Beyond theta > pi - margin (where cos(theta + m) would stop decreasing) the target logit is
    `cos(theta) - sin(pi - m) * m`, as in the reference implementation.

    Shape:
        cosines (..., C), one_hot (..., C) -> (..., C).
    """
    cos = ops.clip(cosines, -1.0 + COSINE_CLIP, 1.0 - COSINE_CLIP)
    sin = ops.sqrt(1.0 - ops.square(cos))
    phi = cos * math.cos(margin) - sin * math.sin(margin)
    phi = ops.where(cos > math.cos(math.pi - margin), phi, cos - math.sin(math.pi - margin) * margin)
    return scale * (one_hot * phi + (1.0 - one_hot) * cos)


@keras.saving.register_keras_serializable(package="descriptors")
class ArcFaceLoss(EmbeddingLoss):
    """Softmax cross-entropy of the ArcFace logits of every view against its row's track id.

    Args:
        scale: logit scale s. Defaults to 30.0.
        margin: additive angular margin m in radians, in [0, pi/2). Defaults to 0.5.
        name, reduction, dtype: as `keras.losses.Loss`.

    Call arguments:
        y_true: (B,) track ids 0..C-1 (required).
        y_pred: (B, K, C) cosines from `ArcFaceHead`.

    Returns:
        per-row mean over the K views (B,).

    Raises:
        ConfigError: invalid scale or margin.
        ShapeError: `y_pred` is not rank 3, or `y_true` is None.
    """

    def __init__(self, scale=30.0, margin=0.5, name="arcface_loss", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
            raise ConfigError(f"`scale` of ArcFaceLoss must be a positive number. Received: scale={scale!r}")
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < math.pi / 2:
            raise ConfigError(f"`margin` of ArcFaceLoss must be in [0, pi/2). Received: margin={margin!r}")
        self.scale, self.margin = float(scale), float(margin)

    def _requires_labels(self):
        return True

    def call(self, y_true, y_pred):
        if len(y_pred.shape) != 3:
            raise ShapeError(f"`y_pred` of ArcFaceLoss must be cosines (B, K, C). Received: y_pred.shape={y_pred.shape}")
        ids = y_true[:, 0] if len(y_true.shape) == 2 else ops.reshape(y_true, (-1,))
        one_hot = ops.one_hot(ops.cast(ids, "int32"), y_pred.shape[-1], dtype=y_pred.dtype)[:, None, :]
        logits = arcface_logits(y_pred, one_hot, self.scale, self.margin)
        per_view = -ops.sum(one_hot * ops.log_softmax(logits, axis=-1), axis=-1)
        return ops.mean(per_view, axis=1)

    def _arguments(self):
        return {"scale": self.scale, "margin": self.margin}
