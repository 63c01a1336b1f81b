"""`ApplicationEmbedder`: a `keras.applications` backbone (random init by default) with an embedding head."""

import keras

from descriptors.embeddings.base import (
    EmbeddingBackbone,
    check_input_shape,
    check_weights,
    image_input,
)
from descriptors.embeddings.heads import check_head_options, embedding_head
from descriptors.embeddings.layers import ApplicationPreprocessing
from descriptors.errors import ConfigError

# name -> (constructor attribute of keras.applications, preprocessing mode, keyword arguments it accepts).
# Every one builds with include_top=False down to 32x32 inputs (the keras.applications minimum).
APPLICATIONS = {
    "resnet50": ("ResNet50", "caffe", ()),
    "efficientnetv2_b0": ("EfficientNetV2B0", "none", ("include_preprocessing",)),
    "mobilenetv3_small": ("MobileNetV3Small", "none", ("alpha", "minimalistic", "dropout_rate",
                                                       "include_preprocessing")),
    "densenet121": ("DenseNet121", "torch", ()),
}
APPLICATION_MIN_SIDE = 32


def application_constructor(application):
    """The `keras.applications` function building `application` (looked up at call time, so tests can spy)."""
    return getattr(keras.applications, APPLICATIONS[application][0])


@keras.saving.register_keras_serializable(package="descriptors")
class ApplicationEmbedder(EmbeddingBackbone):
    """A Keras application trunk (`include_top=False`) followed by pooling, dense to E and L2 normalisation.

    The trunk is built with `weights=None` (random init). A local weights file of the trunk (e.g. the ImageNet
    `*_notop.h5` downloaded once by hand) can be given as `weights`; it must match the input channels. The input
    is 0..255 pixels; the preprocessing the application expects runs inside the graph (`ApplicationPreprocessing`).
    The transformers are our own compact implementations: `VisionTransformer` (vit.py), `SwinTransformer` (swin.py).

    Args:
        application: one of "resnet50", "efficientnetv2_b0", "mobilenetv3_small", "densenet121".
            Defaults to "mobilenetv3_small".
        input_shape: (H, W, C), H and W >= 32, C in (1, 3). Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        pooling: "avg" or "max" global pooling of the trunk output. Defaults to "avg".
        dropout: dropout before the dense projection. Defaults to 0.0.
        normalize: L2-normalise the output. Defaults to True.
        weights: None or a local weights file path of the trunk. Defaults to None.
        application_options: extra arguments of the application (only those listed in `APPLICATIONS`, e.g.
            {"alpha": 0.75, "minimalistic": True} for MobileNetV3). Defaults to None.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Raises:
        ConfigError: unknown application or option, bad shape. FileNotFoundError: missing `weights` file.

    Shape:
        Input (B, H, W, C) float32 pixels 0..255. Output (B, E) float32, unit L2 norm when `normalize`.
    """

    def __init__(self, application="mobilenetv3_small", input_shape=(32, 32, 1), embedding_dim=128, pooling="avg",
                 dropout=0.0, normalize=True, weights=None, application_options=None, **kwargs):
        owner = type(self).__name__
        if application not in APPLICATIONS:
            raise ConfigError(
                f"`application` of {owner} must be one of {sorted(APPLICATIONS)}. Received: application={application!r}"
            )
        input_shape = check_input_shape(owner, input_shape, min_side=APPLICATION_MIN_SIDE)
        check_head_options(owner, embedding_dim, pooling, dropout, normalize)
        if pooling == "none":
            raise ConfigError(f"`pooling` of {owner} must be 'avg' or 'max'. Received: pooling='none'")
        weights = check_weights(owner, weights)
        _, mode, allowed = APPLICATIONS[application]
        application_options = dict(application_options or {})
        unknown = sorted(set(application_options) - set(allowed))
        if unknown:
            raise ConfigError(
                f"`application_options` of {owner} for {application!r} must only use {sorted(allowed)}. "
                f"Received: application_options={application_options!r}"
            )
        trunk = application_constructor(application)(
            include_top=False, weights=weights, input_shape=input_shape, pooling=None, **application_options
        )
        inputs = image_input(input_shape)
        x = ApplicationPreprocessing(mode, name="preprocessing")(inputs)
        x = trunk(x)
        outputs = embedding_head(x, embedding_dim, pooling=pooling, dropout=dropout, normalize=normalize)
        arguments = {"application": application, "input_shape": input_shape, "embedding_dim": embedding_dim,
                     "pooling": pooling, "dropout": float(dropout), "normalize": normalize, "weights": weights,
                     "application_options": application_options}
        kwargs.setdefault("name", f"{application}_embedder")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.application = application
        self.pooling = pooling
        self.dropout = float(dropout)
        self.normalize = normalize
        self.weights_path = weights
        self.application_options = application_options
