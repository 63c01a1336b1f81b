"""`TFeat`: the shallow TFeat network (Balntas et al., BMVC 2016) as an image backbone, on the layers of the patch
descriptor `descriptors.models.TFeatDescriptor` (`tfeat_trunk`)."""

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
from descriptors.models.layers import PatchStandardization
from descriptors.models.tfeat import tfeat_trunk


@keras.saving.register_keras_serializable(package="descriptors")
class TFeat(EmbeddingBackbone):
    """TFeat: per-image standardisation, Conv 7x7 + tanh, max-pool 2, Conv 6x6 + tanh, flatten, Dense + tanh.

    The original takes 32x32 patches (32 and 64 filters, 128-D tanh output, no normalisation); here the input
    size, the filter counts and E are options and the output is L2-normalised by default.

    Args:
        input_shape: (H, W, C), H and W >= 18, C in (1, 3). Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        filters: filters of the two convolutions. Defaults to (32, 64).
        normalize: L2-normalise the output. Defaults to True.
        weights: None (random init) or a local `.keras` / `.weights.h5` file of the same graph. Defaults to None.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Raises:
        ConfigError: bad shape or options. FileNotFoundError: missing `weights` file.

    Shape:
        Input (B, H, W, C) float32 pixels 0..255. Output (B, E) float32, unit L2 norm when `normalize`.
    """

    def __init__(self, input_shape=(32, 32, 1), embedding_dim=128, filters=(32, 64), normalize=True, weights=None,
                 **kwargs):
        owner = type(self).__name__
        input_shape = check_input_shape(owner, input_shape, min_side=18)
        check_head_options(owner, embedding_dim, "none", 0.0, normalize)
        filters = tuple(filters)
        if len(filters) != 2 or not all(isinstance(f, int) and not isinstance(f, bool) and f > 0 for f in filters):
            raise ConfigError(f"`filters` of {owner} must be two positive integers. Received: filters={filters!r}")
        weights = check_weights(owner, weights)
        inputs = image_input(input_shape)
        x = PatchStandardization(name="standardization")(inputs)
        x = tfeat_trunk(x, filters)
        outputs = embedding_head(x, embedding_dim, pooling="none", normalize=normalize, activation="tanh")
        arguments = {"input_shape": input_shape, "embedding_dim": embedding_dim, "filters": list(filters),
                     "normalize": normalize, "weights": weights}
        kwargs.setdefault("name", "tfeat")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.filters = filters
        self.normalize = normalize
        self.weights_path = weights
        if weights is not None:
            load_local_weights(self, weights)
