"""`SwinTransformer`: a compact Swin Transformer (Liu et al., "Swin Transformer: Hierarchical Vision Transformer
using Shifted Windows", ICCV 2021) as an image backbone, sized for small images; layers in `swin_layers`."""

import keras

from descriptors.embeddings.base import (
    EmbeddingBackbone,
    check_input_shape,
    check_weights,
    image_input,
    load_local_weights,
)
from descriptors.embeddings.heads import check_head_options, embedding_head
from descriptors.embeddings.swin_layers import PatchMerging, SwinBlock
from descriptors.errors import ConfigError

DEFAULTS = {"patch_size": 2, "window_size": 4, "embed_dim": 32, "depths": (2, 2), "num_heads": (2, 4)}


def _positive_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"`{name}` of {owner} must be a positive integer. Received: {name}={value!r}")
    return value


def _positive_ints(owner, name, values):
    if isinstance(values, (list, tuple)) and values and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values):
        return tuple(values)
    raise ConfigError(f"`{name}` of {owner} must be a non-empty list of positive integers. Received: {name}={values!r}")


def stage_windows(height, width, window_size, stages):
    """The (H, W, window, shift) of each stage's map (H, W = the patch grid of stage 1).

    A stage whose map has a side <= `window_size` is one window of min(H, W) with no shift, as in the paper's code.
    """
    plan = []
    for stage in range(stages):
        h, w = height >> stage, width >> stage
        window = window_size if min(h, w) > window_size else min(h, w)
        plan.append((h, w, window, 0 if min(h, w) <= window_size else window_size // 2))
    return plan


def check_swin_input(input_shape, patch_size=2, window_size=4, depths=(2, 2), owner="SwinTransformer"):
    """Checks that a Swin Transformer can take `input_shape` and returns it as a tuple of ints.

    H and W must be multiples of `patch_size * 2**(len(depths) - 1)` (each stage halves the patch grid), and every
    stage's map must split into whole windows (or be one window).

    Raises:
        ConfigError: invalid options, or an input shape that does not fit, naming the value and the needed multiple.
    """
    patch_size = _positive_int(owner, "patch_size", patch_size)
    window_size = _positive_int(owner, "window_size", window_size)
    depths = _positive_ints(owner, "depths", depths)
    multiple = patch_size * 2 ** (len(depths) - 1)
    input_shape = check_input_shape(owner, input_shape, min_side=multiple)
    height, width = input_shape[:2]
    if height % multiple or width % multiple:
        raise ConfigError(f"`input_shape` of {owner} must have H and W multiples of {multiple} (patch_size="
                          f"{patch_size} x 2**{len(depths) - 1} patch mergings). Received: input_shape={input_shape!r}")
    for stage, (h, w, window, _) in enumerate(stage_windows(height // patch_size, width // patch_size, window_size,
                                                            len(depths)), start=1):
        if h % window or w % window:
            raise ConfigError(
                f"`input_shape` of {owner} must give stage maps that split into window_size={window_size} windows "
                f"(e.g. H, W multiples of {multiple * window_size}); stage {stage} is {h}x{w}. "
                f"Received: input_shape={input_shape!r}")
    return input_shape


@keras.saving.register_keras_serializable(package="descriptors")
class SwinTransformer(EmbeddingBackbone):
    """Compact Swin Transformer: pixels scaled to -1..1, patch embedding (patch x patch conv, stride patch) +
    LayerNorm, stages of `SwinBlock`s alternating regular and shifted windows (shift = window // 2) with a
    `PatchMerging` (2x2 -> 2C) between stages, final LayerNorm, global average pooling, dense to E, L2 norm.

    Args:
        input_shape: (H, W, C), C in (1, 3); H, W multiples of `patch_size * 2**(len(depths) - 1)` whose stage maps
            split into windows (see `check_swin_input`; 4 is the smallest side with the defaults, any multiple of 32
            fits). Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        patch_size: side of the patches. Defaults to 2.
        window_size: side of the attention windows. Defaults to 4.
        embed_dim: channels of stage 1 (doubled by every patch merging). Defaults to 32.
        depths: blocks per stage. Defaults to (2, 2).
        num_heads: attention heads per stage (each a divisor of the stage's channels). Defaults to (2, 4).
        mlp_ratio: MLP width as a multiple of the channels. Defaults to 4.
        dropout: dropout in the blocks. Defaults to 0.0.
        normalize: L2-normalise the output. Defaults to True.
        weights: None (random init) or a local `.keras` / `.weights.h5` file of the same graph. Defaults to None.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Raises:
        ConfigError: bad shape or options. FileNotFoundError: missing `weights` file.

    Shape:
        Input (B, H, W, C) float32 pixels 0..255. Output (B, E) float32, unit L2 norm when `normalize`.
    """

    def __init__(self, input_shape=(32, 32, 1), embedding_dim=128, patch_size=2, window_size=4, embed_dim=32,
                 depths=(2, 2), num_heads=(2, 4), mlp_ratio=4, dropout=0.0, normalize=True, weights=None, **kwargs):
        owner = type(self).__name__
        input_shape = check_swin_input(input_shape, patch_size, window_size, depths, owner)
        depths = tuple(depths)
        embed_dim = _positive_int(owner, "embed_dim", embed_dim)
        num_heads = _positive_ints(owner, "num_heads", num_heads)
        mlp_ratio = _positive_int(owner, "mlp_ratio", mlp_ratio)
        if len(num_heads) != len(depths):
            raise ConfigError(f"`num_heads` of {owner} must have one entry per stage ({len(depths)}). "
                              f"Received: num_heads={num_heads!r}")
        for stage, heads in enumerate(num_heads):
            if (embed_dim << stage) % heads:
                raise ConfigError(f"`num_heads` of {owner} must divide each stage's channels "
                                  f"{[embed_dim << s for s in range(len(depths))]}. Received: num_heads={num_heads!r}")
        check_head_options(owner, embedding_dim, "avg", dropout, normalize)
        weights = check_weights(owner, weights)
        inputs = image_input(input_shape)
        x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescaling")(inputs)
        x = keras.layers.Conv2D(embed_dim, patch_size, strides=patch_size, name="patch_embedding")(x)
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="patch_norm")(x)
        plan = stage_windows(input_shape[0] // patch_size, input_shape[1] // patch_size, window_size, len(depths))
        for stage, (depth, heads, (_, _, window, shift)) in enumerate(zip(depths, num_heads, plan)):
            dim = embed_dim << stage
            for block in range(depth):
                x = SwinBlock(dim, heads, window, shift if block % 2 else 0, mlp_ratio, float(dropout),
                              name=f"stage{stage + 1}_block{block + 1}")(x)
            if stage < len(depths) - 1:
                x = PatchMerging(dim, name=f"stage{stage + 1}_merging")(x)
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
        outputs = embedding_head(x, embedding_dim, pooling="avg", normalize=normalize)
        arguments = {"input_shape": input_shape, "embedding_dim": embedding_dim, "patch_size": patch_size,
                     "window_size": window_size, "embed_dim": embed_dim, "depths": list(depths),
                     "num_heads": list(num_heads), "mlp_ratio": mlp_ratio, "dropout": float(dropout),
                     "normalize": normalize, "weights": weights}
        kwargs.setdefault("name", "swin")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.patch_size, self.window_size, self.embed_dim = patch_size, window_size, embed_dim
        self.depths, self.num_heads = depths, num_heads
        self.weights_path = weights
        if weights is not None:
            load_local_weights(self, weights)

    @classmethod
    def check_input(cls, input_shape, options):
        """Checks `input_shape` against the size options in `options` (defaults for those absent), building nothing.

        Raises:
            ConfigError: see `check_swin_input`.
        """
        sizes = {key: options.get(key, DEFAULTS[key]) for key in ("patch_size", "window_size", "depths")}
        return check_swin_input(input_shape, owner=cls.__name__, **sizes)
