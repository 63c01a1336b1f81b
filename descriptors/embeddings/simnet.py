"""`SimNet`: a multi-scale image-similarity network (Appalaraju & Chaoji, "Image similarity using Deep CNN and
Curriculum Learning", 2017): one deep branch at full resolution plus two shallow branches on down-sampled inputs.
"""

import keras

from descriptors.embeddings.base import (
    EmbeddingBackbone,
    check_input_shape,
    check_weights,
    image_input,
    load_local_weights,
)
from descriptors.embeddings.heads import check_head_options, embedding_head
from descriptors.errors import ConfigError
from descriptors.models.layers import L2Normalization, PatchStandardization


def _positive_ints(owner, name, values, length=None):
    values = tuple(values)
    valid = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values) and values
    if not valid or (length is not None and len(values) != length):
        count = f"{length} " if length else ""
        raise ConfigError(f"`{name}` of {owner} must be {count}positive integers. Received: {name}={values!r}")
    return values


@keras.saving.register_keras_serializable(package="descriptors")
class SimNet(EmbeddingBackbone):
    """SimNet-style multi-scale embedding network.

    Deep branch: per stage two 3x3 conv + BN + ReLU and a 2x2 max-pool (VGG-like, `deep_filters` per stage),
    global average pooling. Shallow branches: the image average-pooled by `scales[i]` (4 and 8 by default), one
    3x3 conv + ReLU with `shallow_filters`, a 2x2 max-pool and global average pooling. The three vectors are each
    L2-normalised, concatenated and projected by a dense layer to E (then L2-normalised), as in the paper.

    Args:
        input_shape: (H, W, C), H and W >= 4 * max(scales), C in (1, 3). Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        deep_filters: filters of the deep branch stages. Defaults to (32, 64, 128).
        shallow_filters: filters of each shallow branch. Defaults to 32.
        scales: down-sampling factors of the two shallow branches. Defaults to (4, 8).
        normalize: L2-normalise the output. Defaults to True.
        weights: None (random init) or a local `.keras` / `.weights.h5` file of the same graph. Defaults to None.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Raises:
        ConfigError: bad shape or options. FileNotFoundError: missing `weights` file.

    Shape:
        Input (B, H, W, C) float32 pixels 0..255. Output (B, E) float32, unit L2 norm when `normalize`.
    """

    def __init__(self, input_shape=(32, 32, 1), embedding_dim=128, deep_filters=(32, 64, 128), shallow_filters=32,
                 scales=(4, 8), normalize=True, weights=None, **kwargs):
        owner = type(self).__name__
        scales = _positive_ints(owner, "scales", scales, length=2)
        input_shape = check_input_shape(owner, input_shape, min_side=4 * max(scales))
        check_head_options(owner, embedding_dim, "none", 0.0, normalize)
        deep_filters = _positive_ints(owner, "deep_filters", deep_filters)
        (shallow_filters,) = _positive_ints(owner, "shallow_filters", (shallow_filters,))
        weights = check_weights(owner, weights)
        inputs = image_input(input_shape)
        x = PatchStandardization(name="standardization")(inputs)
        deep = x
        for stage, filters in enumerate(deep_filters, start=1):
            for conv in (1, 2):
                deep = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False,
                                           name=f"deep{stage}_conv{conv}")(deep)
                deep = keras.layers.BatchNormalization(name=f"deep{stage}_bn{conv}")(deep)
                deep = keras.layers.ReLU(name=f"deep{stage}_relu{conv}")(deep)
            if min(deep.shape[1:3]) >= 2:
                deep = keras.layers.MaxPooling2D(2, name=f"deep{stage}_pool")(deep)
        branches = [L2Normalization(name="deep_l2")(keras.layers.GlobalAveragePooling2D(name="deep_gap")(deep))]
        for scale in scales:
            s = keras.layers.AveragePooling2D(scale, name=f"shallow{scale}_downsample")(x)
            s = keras.layers.Conv2D(shallow_filters, 3, padding="same", activation="relu",
                                    name=f"shallow{scale}_conv")(s)
            s = keras.layers.MaxPooling2D(2, name=f"shallow{scale}_pool")(s)
            s = keras.layers.GlobalAveragePooling2D(name=f"shallow{scale}_gap")(s)
            branches.append(L2Normalization(name=f"shallow{scale}_l2")(s))
        merged = keras.layers.Concatenate(name="concat")(branches)
        outputs = embedding_head(merged, embedding_dim, pooling="none", normalize=normalize)
        arguments = {"input_shape": input_shape, "embedding_dim": embedding_dim, "deep_filters": list(deep_filters),
                     "shallow_filters": shallow_filters, "scales": list(scales), "normalize": normalize,
                     "weights": weights}
        kwargs.setdefault("name", "simnet")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.deep_filters = deep_filters
        self.shallow_filters = shallow_filters
        self.scales = scales
        self.normalize = normalize
        self.weights_path = weights
        if weights is not None:
            load_local_weights(self, weights)
