"""The layers of the Swin Transformer (Liu et al., ICCV 2021): window attention with a learned relative position
bias, the (shifted-)window transformer block, and patch merging; plus the numpy constants they use.

Windows are non-overlapping w x w squares of a (B, H, W, C) map, taken in row-major order (window index
`(i // w) * (W // w) + j // w`, token index `(i % w) * w + j % w` inside a window). The shifted block rolls the map by
`-shift` along H and W first; the attention mask then keeps tokens that were not neighbours before the roll
(they came from different edge regions) from attending each other. The mask and the relative position index are
numpy constants derived from the config (never weights).
"""

import keras
import numpy as np
from keras import ops

from descriptors.errors import ConfigError

# Added to the attention logits of token pairs from different regions of a shifted window (as in the paper's code).
MASK_VALUE = -100.0


def relative_position_index(window_size):
    """The index into the (2w-1)^2 relative position bias table of every (query, key) token pair of a window.

    Returns:
        int32 array (w*w, w*w): `(dy + w - 1) * (2w - 1) + (dx + w - 1)` with (dy, dx) = query - key position.
    """
    rows, cols = np.meshgrid(np.arange(window_size), np.arange(window_size), indexing="ij")
    coords = np.stack([rows.ravel(), cols.ravel()])  # (2, N)
    relative = coords[:, :, None] - coords[:, None, :] + (window_size - 1)  # (2, N, N), each in [0, 2w-2]
    return (relative[0] * (2 * window_size - 1) + relative[1]).astype("int32")


def numpy_window_partition(x, window_size):
    """numpy version of `window_partition`: (B, H, W, C) -> (B * nW, w*w, C)."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // window_size, window_size, w // window_size, window_size, c)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(-1, window_size * window_size, c)


def shifted_window_mask(height, width, window_size, shift_size):
    """The additive attention mask of the shifted windows of an H x W map, after a roll by -shift.

    Returns:
        float32 array (nW, w*w, w*w): 0 where both tokens come from the same region, `MASK_VALUE` otherwise.
    """
    regions = np.zeros((1, height, width, 1), dtype="float32")
    label = 0
    for rows in (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None)):
        for cols in (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None)):
            regions[:, rows, cols, :] = label
            label += 1
    windows = numpy_window_partition(regions, window_size)[..., 0]  # (nW, N)
    different = windows[:, :, None] != windows[:, None, :]
    return np.where(different, MASK_VALUE, 0.0).astype("float32")


def window_partition(x, window_size):
    """Splits a (B, H, W, C) map into windows.

    Shape:
        Input (B, H, W, C) with H, W multiples of w. Output (B * nW, w*w, C), nW = (H // w) * (W // w).
    """
    _, height, width, channels = x.shape
    x = ops.reshape(x, (-1, height // window_size, window_size, width // window_size, window_size, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, window_size * window_size, channels))


def window_reverse(windows, window_size, height, width):
    """Inverse of `window_partition`.

    Shape:
        Input (B * nW, w*w, C). Output (B, H, W, C).
    """
    channels = windows.shape[-1]
    x = ops.reshape(windows, (-1, height // window_size, width // window_size, window_size, window_size, channels))
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, height, width, channels))


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`{name}` of {owner} must be a positive integer. Received: {name}={value!r}")
    return value


@keras.saving.register_keras_serializable(package="descriptors")
class WindowAttention(keras.layers.Layer):
    """Multi-head self-attention inside each window, with a learned relative position bias.

    logits = (x Wq)(x Wk)^T / sqrt(head_dim) + B[index] (+ mask), per head; output = softmax(logits) (x Wv) Wo.
    B is a ((2w-1)^2, heads) table indexed by `relative_position_index(w)`.

    Args:
        dim: channels C (a multiple of `num_heads`).
        window_size: window side w.
        num_heads: attention heads.
        qkv_bias: bias of the query/key/value projection. Defaults to True.
        attention_dropout: dropout on the attention weights. Defaults to 0.0.
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B', w*w, C) and optionally `attention_mask` (nW, w*w, w*w) with B' a multiple of nW.
        Output (B', w*w, C).
    """

    def __init__(self, dim, window_size, num_heads, qkv_bias=True, attention_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.dim = _positive_int(owner, "dim", dim)
        self.window_size = _positive_int(owner, "window_size", window_size)
        self.num_heads = _positive_int(owner, "num_heads", num_heads)
        if dim % num_heads:
            raise ConfigError(f"`dim` of {owner} must be a multiple of num_heads={num_heads}. Received: dim={dim!r}")
        self.qkv_bias = bool(qkv_bias)
        self.attention_dropout = float(attention_dropout)
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.relative_index = relative_position_index(window_size).reshape(-1)
        self.qkv = keras.layers.Dense(3 * dim, use_bias=self.qkv_bias, name="qkv")
        self.proj = keras.layers.Dense(dim, name="proj")
        self.dropout = keras.layers.Dropout(self.attention_dropout, name="attention_dropout")

    def build(self, input_shape):
        self.relative_position_bias_table = self.add_weight(
            shape=((2 * self.window_size - 1) ** 2, self.num_heads),
            initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            name="relative_position_bias_table",
        )
        self.qkv.build(input_shape)
        self.proj.build(tuple(input_shape[:-1]) + (self.dim,))

    def relative_position_bias(self):
        """The (heads, N, N) bias of the current table."""
        n = self.window_size * self.window_size
        bias = ops.take(self.relative_position_bias_table, ops.convert_to_tensor(self.relative_index), axis=0)
        return ops.transpose(ops.reshape(bias, (n, n, self.num_heads)), (2, 0, 1))

    def call(self, inputs, attention_mask=None, training=None):
        n = self.window_size * self.window_size
        qkv = ops.reshape(self.qkv(inputs), (-1, n, 3, self.num_heads, self.head_dim))
        qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))  # (3, B', heads, N, head_dim)
        query, key, value = qkv[0] * self.scale, qkv[1], qkv[2]
        logits = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2))) + self.relative_position_bias()[None]
        if attention_mask is not None:
            mask = ops.cast(ops.convert_to_tensor(attention_mask), logits.dtype)
            windows = mask.shape[0]
            logits = ops.reshape(logits, (-1, windows, self.num_heads, n, n)) + mask[None, :, None]
            logits = ops.reshape(logits, (-1, self.num_heads, n, n))
        weights = self.dropout(ops.softmax(logits, axis=-1), training=training)
        out = ops.transpose(ops.matmul(weights, value), (0, 2, 1, 3))  # (B', N, heads, head_dim)
        return self.proj(ops.reshape(out, (-1, n, self.dim)))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.dim,)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "window_size": self.window_size, "num_heads": self.num_heads,
                "qkv_bias": self.qkv_bias, "attention_dropout": self.attention_dropout}


@keras.saving.register_keras_serializable(package="descriptors")
class SwinBlock(keras.layers.Layer):
    """One Swin block on a (B, H, W, C) map: x + WindowAttention(LN(x)) on (shifted) windows, then x + MLP(LN(x)).

    With `shift_size > 0` the normalised map is rolled by -shift along H and W, attended with the shifted-window
    mask (`shifted_window_mask`), and rolled back.

    Args:
        dim: channels C.
        num_heads: attention heads (a divisor of `dim`).
        window_size: window side w; H and W of the input must be multiples of it.
        shift_size: 0 (regular windows) or the cyclic shift, 0 < shift < w. Defaults to 0.
        mlp_ratio: hidden width of the MLP as a multiple of C. Defaults to 4.
        dropout: dropout after the attention and the MLP (and on the attention weights). Defaults to 0.0.
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, H, W, C). Output (B, H, W, C).
    """

    def __init__(self, dim, num_heads, window_size, shift_size=0, mlp_ratio=4, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.dim = _positive_int(owner, "dim", dim)
        self.num_heads = _positive_int(owner, "num_heads", num_heads)
        self.window_size = _positive_int(owner, "window_size", window_size)
        if isinstance(shift_size, bool) or not isinstance(shift_size, int) or not 0 <= shift_size < window_size:
            raise ConfigError(f"`shift_size` of {owner} must be an integer in [0, window_size={window_size}). "
                              f"Received: shift_size={shift_size!r}")
        self.shift_size = shift_size
        self.mlp_ratio = _positive_int(owner, "mlp_ratio", mlp_ratio)
        self.dropout = float(dropout)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.attention = WindowAttention(dim, window_size, num_heads, attention_dropout=self.dropout,
                                         name="attention")
        self.drop = keras.layers.Dropout(self.dropout, name="dropout")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.mlp_in = keras.layers.Dense(self.mlp_ratio * dim, activation="gelu", name="mlp_in")
        self.mlp_out = keras.layers.Dense(dim, name="mlp_out")
        self.attention_mask = None

    def build(self, input_shape):
        _, height, width, channels = input_shape
        if channels != self.dim or height % self.window_size or width % self.window_size:
            raise ConfigError(f"The input of {type(self).__name__} must be (B, H, W, {self.dim}) with H, W multiples "
                              f"of window_size={self.window_size}. Received: input_shape={tuple(input_shape)}")
        if self.shift_size:
            self.attention_mask = shifted_window_mask(height, width, self.window_size, self.shift_size)
        tokens = (None, self.window_size * self.window_size, self.dim)
        for layer, shape in ((self.norm1, input_shape), (self.attention, tokens), (self.norm2, input_shape),
                             (self.mlp_in, input_shape),
                             (self.mlp_out, tuple(input_shape[:-1]) + (self.mlp_ratio * self.dim,))):
            layer.build(shape)

    def call(self, inputs, training=None):
        _, height, width, _ = inputs.shape
        x = self.norm1(inputs)
        if self.shift_size:
            x = ops.roll(ops.roll(x, -self.shift_size, axis=1), -self.shift_size, axis=2)
        windows = self.attention(window_partition(x, self.window_size), attention_mask=self.attention_mask,
                                 training=training)
        x = window_reverse(windows, self.window_size, height, width)
        if self.shift_size:
            x = ops.roll(ops.roll(x, self.shift_size, axis=1), self.shift_size, axis=2)
        x = inputs + self.drop(x, training=training)
        y = self.drop(self.mlp_out(self.drop(self.mlp_in(self.norm2(x)), training=training)), training=training)
        return x + y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "num_heads": self.num_heads,
                "window_size": self.window_size, "shift_size": self.shift_size, "mlp_ratio": self.mlp_ratio,
                "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="descriptors")
class PatchMerging(keras.layers.Layer):
    """Halves H and W: concatenates each 2x2 neighbourhood (4C channels), LayerNorm, Dense to 2C without bias.

    Args:
        dim: input channels C.
        **kwargs: forwarded to `keras.layers.Layer`.

    Shape:
        Input (B, H, W, C) with even H, W. Output (B, H/2, W/2, 2C).
    """

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = _positive_int(type(self).__name__, "dim", dim)
        self.norm = keras.layers.LayerNormalization(epsilon=1e-5, name="norm")
        self.reduction = keras.layers.Dense(2 * dim, use_bias=False, name="reduction")

    def build(self, input_shape):
        _, height, width, channels = input_shape
        if channels != self.dim or height % 2 or width % 2:
            raise ConfigError(f"The input of {type(self).__name__} must be (B, H, W, {self.dim}) with even H, W. "
                              f"Received: input_shape={tuple(input_shape)}")
        merged = (None, height // 2, width // 2, 4 * self.dim)
        self.norm.build(merged)
        self.reduction.build(merged)

    def call(self, inputs):
        _, height, width, channels = inputs.shape
        x = ops.reshape(inputs, (-1, height // 2, 2, width // 2, 2, channels))
        # (B, H/2, W/2, dx, dy, C): channel blocks in the paper's order x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], ...
        x = ops.reshape(ops.transpose(x, (0, 1, 3, 4, 2, 5)), (-1, height // 2, width // 2, 4 * channels))
        return self.reduction(self.norm(x))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] // 2, input_shape[2] // 2, 2 * self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}
