"""`FullUNet`: a standard multi-level U-Net denoiser for 32x32 patches (Ronneberger et al. 2015, scaled down)."""

import keras

from descriptors.errors import ConfigError
from descriptors.models.base import PATCH_SIZE, ConfigModel, patch_input
from descriptors.models.shallow_unet import check_denoiser_options, wrap_denoiser_body

UPSAMPLING_MODES = ("transpose", "bilinear", "nearest")


def _double_conv(x, filters, batch_norm, prefix):
    for k in (1, 2):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, kernel_initializer="he_normal",
                                name=f"{prefix}_conv{k}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{prefix}_bn{k}")(x)
        x = keras.layers.ReLU(name=f"{prefix}_relu{k}")(x)
    return x


@keras.saving.register_keras_serializable(package="descriptors")
class FullUNet(ConfigModel):
    """A `depth`-level U-Net: two 3x3 conv (+BN) + ReLU blocks per level, max-pool down, skip concatenations.

    Level `i` (0-based) has `base_filters * 2**i` filters; the deepest level is the bottleneck, so with the
    defaults the widths are 32-64-128-256 and the bottleneck works at 4x4. The decoder upsamples (transposed
    2x2 conv with stride 2, or bilinear/nearest upsampling followed by a 2x2 conv), concatenates the encoder
    features of the same level and applies a double conv. A final 1x1 linear conv gives one channel.

    Args:
        base_filters: filters of the first level. Defaults to 32.
        depth: number of levels (pooling steps = depth - 1); 32 must be divisible by 2**(depth - 1), so 1..6.
            Defaults to 4.
        batch_norm: BatchNormalization after each 3x3 conv (then the conv has no bias). Defaults to True.
        upsampling: one of "transpose", "bilinear", "nearest". Defaults to "transpose".
        dropout: dropout rate applied at the bottleneck (0 disables it). Defaults to 0.0.
        residual: predict the noise, output = input - f(input). Defaults to True.
        input_scale: internal input scaling, the output is rescaled back to 0..255. Defaults to 1/255.
        **kwargs: forwarded to `keras.Model` (`name`, `trainable`).

    Shape:
        Input (B, 32, 32, 1) float32 pixels 0..255. Output (B, 32, 32, 1) float32 on the same scale, unclipped.
    """

    def __init__(self, base_filters=32, depth=4, batch_norm=True, upsampling="transpose", dropout=0.0,
                 residual=True, input_scale=1.0 / 255.0, **kwargs):
        check_denoiser_options("FullUNet", residual, input_scale)
        if isinstance(base_filters, bool) or not isinstance(base_filters, int) or base_filters < 1:
            raise ConfigError(
                f"`base_filters` of FullUNet must be a positive integer. Received: base_filters={base_filters!r}"
            )
        max_depth = PATCH_SIZE.bit_length()  # 32 -> 6 levels (1x1 bottleneck)
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= max_depth:
            raise ConfigError(f"`depth` of FullUNet must be an integer in 1..{max_depth}. Received: depth={depth!r}")
        if upsampling not in UPSAMPLING_MODES:
            raise ConfigError(f"`upsampling` of FullUNet must be one of {list(UPSAMPLING_MODES)}. "
                              f"Received: upsampling={upsampling!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ConfigError(f"`dropout` of FullUNet must be a number in [0, 1). Received: dropout={dropout!r}")
        if not isinstance(batch_norm, bool):
            raise ConfigError(f"`batch_norm` of FullUNet must be a bool. Received: batch_norm={batch_norm!r}")
        input_scale, dropout = float(input_scale), float(dropout)

        def body(x):
            skips = []
            for level in range(depth - 1):
                x = _double_conv(x, base_filters * 2**level, batch_norm, f"down{level}")
                skips.append(x)
                x = keras.layers.MaxPooling2D(2, name=f"pool{level}")(x)
            x = _double_conv(x, base_filters * 2 ** (depth - 1), batch_norm, "bottleneck")
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
            for level in reversed(range(depth - 1)):
                filters = base_filters * 2**level
                if upsampling == "transpose":
                    x = keras.layers.Conv2DTranspose(filters, 2, strides=2, name=f"up{level}")(x)
                else:
                    x = keras.layers.UpSampling2D(2, interpolation=upsampling, name=f"up{level}_resize")(x)
                    x = keras.layers.Conv2D(filters, 2, padding="same", activation="relu",
                                            kernel_initializer="he_normal", name=f"up{level}")(x)
                x = keras.layers.Concatenate(axis=-1, name=f"skip{level}")([skips[level], x])
                x = _double_conv(x, filters, batch_norm, f"dec{level}")
            return keras.layers.Conv2D(1, 1, name="head")(x)

        inputs = patch_input()
        outputs = wrap_denoiser_body(inputs, body, residual, input_scale)
        arguments = {"base_filters": base_filters, "depth": depth, "batch_norm": batch_norm,
                     "upsampling": upsampling, "dropout": dropout, "residual": residual, "input_scale": input_scale}
        kwargs.setdefault("name", "full_unet")
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.base_filters = base_filters
        self.depth = depth
        self.batch_norm = batch_norm
        self.upsampling = upsampling
        self.dropout = dropout
        self.residual = residual
        self.input_scale = input_scale
