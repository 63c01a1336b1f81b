"""`VisionTransformer`: a compact ViT (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021) as an image
backbone, sized for small images."""

import keras
from keras import ops

from descriptors.embeddings.base import (
    EmbeddingBackbone,
    check_input_shape,
    check_weights,
    image_input,
    load_local_weights,
)
from descriptors.embeddings.heads import check_head_options, embedding_head
from descriptors.errors import ConfigError

DEFAULT_PATCH_SIZE = 4


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`{name}` of {owner} must be a positive integer. Received: {name}={value!r}")
    return value


def check_vit_input(input_shape, patch_size=DEFAULT_PATCH_SIZE, owner="VisionTransformer"):
    """Checks that a ViT with `patch_size` can take `input_shape` and returns it as a tuple of ints.

    Raises:
        ConfigError: H or W below `patch_size` or not a multiple of it (or an invalid `patch_size`), naming both.
    """
    patch_size = _positive_int(owner, "patch_size", patch_size)
    input_shape = check_input_shape(owner, input_shape, min_side=patch_size)
    if input_shape[0] % patch_size or input_shape[1] % patch_size:
        raise ConfigError(f"`input_shape` of {owner} must have H and W multiples of patch_size={patch_size}. "
                          f"Received: input_shape={input_shape!r}")
    return input_shape


@keras.saving.register_keras_serializable(package="descriptors")
class ClassTokenPositionEmbedding(keras.layers.Layer):
    """Prepends a learned class token to the patch tokens and adds a learned position embedding.

    Args:
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, N, D). Output (B, N + 1, D), the class token first.
    """

    def build(self, input_shape):
        _, tokens, dim = input_shape
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.class_token = self.add_weight(shape=(1, 1, dim), initializer="zeros", name="class_token")
        self.position_embedding = self.add_weight(shape=(1, tokens + 1, dim), initializer=init,
                                                  name="position_embedding")

    def call(self, inputs):
        token = ops.zeros_like(inputs[:, :1, :]) + ops.cast(self.class_token, inputs.dtype)
        return ops.concatenate([token, inputs], axis=1) + ops.cast(self.position_embedding, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] + 1, input_shape[2])


def transformer_block(x, num_heads, mlp_dim, dropout, name):
    """A pre-norm encoder block: x + MHA(LN(x)), then x + MLP(LN(x)) with a GELU hidden layer."""
    dim = x.shape[-1]
    y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm1")(x)
    y = keras.layers.MultiHeadAttention(num_heads, dim // num_heads, dropout=dropout, name=f"{name}_attention")(y, y)
    if dropout > 0:
        y = keras.layers.Dropout(dropout, name=f"{name}_attention_dropout")(y)
    x = keras.layers.Add(name=f"{name}_residual1")([x, y])
    y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm2")(x)
    y = keras.layers.Dense(mlp_dim, activation="gelu", name=f"{name}_mlp_in")(y)
    if dropout > 0:
        y = keras.layers.Dropout(dropout, name=f"{name}_mlp_dropout1")(y)
    y = keras.layers.Dense(dim, name=f"{name}_mlp_out")(y)
    if dropout > 0:
        y = keras.layers.Dropout(dropout, name=f"{name}_mlp_dropout2")(y)
    return keras.layers.Add(name=f"{name}_residual2")([x, y])


@keras.saving.register_keras_serializable(package="descriptors")
class VisionTransformer(EmbeddingBackbone):
    """Compact ViT: pixels scaled to -1..1, patch embedding (conv with kernel = stride = patch_size), class token
    and learned position embedding, `depth` pre-norm transformer blocks, final LayerNorm, class token -> dense to E
    -> L2 norm.

    Args:
        input_shape: (H, W, C), H and W multiples of `patch_size` (>= patch_size), C in (1, 3).
            Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        patch_size: side of the square patches. Defaults to 4.
        hidden_dim: token width D (a multiple of `num_heads`). Defaults to 64.
        depth: transformer blocks. Defaults to 4.
        num_heads: attention heads. Defaults to 4.
        mlp_dim: hidden width of each block's MLP. Defaults to 128.
        dropout: dropout after the embeddings, in the attention and in the MLPs. Defaults to 0.0.
        normalize: L2-normalise the output. Defaults to True.
        weights: None (random init) or a local `.keras` / `.weights.h5` file of the same graph. Defaults to None.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Raises:
        ConfigError: bad shape or options. FileNotFoundError: missing `weights` file.

    Shape:
        Input (B, H, W, C) float32 pixels 0..255. Output (B, E) float32, unit L2 norm when `normalize`.
    """

    def __init__(self, input_shape=(32, 32, 1), embedding_dim=128, patch_size=DEFAULT_PATCH_SIZE, hidden_dim=64,
                 depth=4, num_heads=4, mlp_dim=128, dropout=0.0, normalize=True, weights=None, **kwargs):
        owner = type(self).__name__
        input_shape = check_vit_input(input_shape, patch_size, owner)
        for name, value in (("hidden_dim", hidden_dim), ("depth", depth), ("num_heads", num_heads),
                            ("mlp_dim", mlp_dim)):
            _positive_int(owner, name, value)
        if hidden_dim % num_heads:
            raise ConfigError(f"`hidden_dim` of {owner} must be a multiple of num_heads={num_heads}. "
                              f"Received: hidden_dim={hidden_dim!r}")
        check_head_options(owner, embedding_dim, "none", dropout, normalize)
        weights = check_weights(owner, weights)
        patches = (input_shape[0] // patch_size) * (input_shape[1] // patch_size)
        inputs = image_input(input_shape)
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescaling")(inputs)
        x = keras.layers.Conv2D(hidden_dim, patch_size, strides=patch_size, name="patch_embedding")(x)
        x = keras.layers.Reshape((patches, hidden_dim), name="patch_tokens")(x)
        x = ClassTokenPositionEmbedding(name="class_token_position")(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
        for block in range(depth):
            x = transformer_block(x, num_heads, mlp_dim, float(dropout), name=f"block{block + 1}")
        x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
        x = keras.layers.Cropping1D((0, patches), name="class_token")(x)  # (B, 1, D): the class token only
        x = keras.layers.Flatten(name="class_token_flatten")(x)
        outputs = embedding_head(x, embedding_dim, pooling="none", normalize=normalize)
        arguments = {"input_shape": input_shape, "embedding_dim": embedding_dim, "patch_size": patch_size,
                     "hidden_dim": hidden_dim, "depth": depth, "num_heads": num_heads, "mlp_dim": mlp_dim,
                     "dropout": float(dropout), "normalize": normalize, "weights": weights}
        kwargs.setdefault("name", "vit")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.patch_size, self.hidden_dim, self.depth = patch_size, hidden_dim, depth
        self.num_heads, self.mlp_dim = num_heads, mlp_dim
        self.num_tokens = patches + 1
        self.weights_path = weights
        if weights is not None:
            load_local_weights(self, weights)

    @classmethod
    def check_input(cls, input_shape, options):
        """Checks `input_shape` against `options.get("patch_size", 4)`, building nothing.

        Raises:
            ConfigError: see `check_vit_input`.
        """
        return check_vit_input(input_shape, options.get("patch_size", DEFAULT_PATCH_SIZE), cls.__name__)
