"""The backbone zoo: one factory from a name (configs, CLI flags) to an image embedding model.

Every backbone maps float32 pixels (B, H, W, C) on 0..255 to (B, E) embeddings, builds with random weights
(nothing downloads), and round-trips through `.keras` files.
"""

from descriptors.embeddings.applications import APPLICATION_MIN_SIDE, APPLICATIONS, ApplicationEmbedder
from descriptors.embeddings.patch_nets import PATCH_NETS, PatchNetEmbedder
from descriptors.embeddings.simnet import SimNet
from descriptors.embeddings.swin import SwinTransformer
from descriptors.embeddings.tfeat import TFeat
from descriptors.embeddings.vit import VisionTransformer
from descriptors.errors import ConfigError

# name -> (class, preset keyword arguments, smallest input side). Caller keyword arguments override the preset.
BACKBONES = {
    # The patch descriptors, images resized to 32x32; "tfeat" is the resizable TFeat below (the same layers).
    **{net: (PatchNetEmbedder, {"net": net}, 8) for net in PATCH_NETS if net != "tfeat"},
    "tfeat": (TFeat, {}, 18),
    "simnet": (SimNet, {}, 32),
    **{app: (ApplicationEmbedder, {"application": app}, APPLICATION_MIN_SIDE) for app in APPLICATIONS},
    # Our own compact transformers (keras-hub is not installed); the min sides are those of the default sizes.
    "vit": (VisionTransformer, {}, 4),  # H, W multiples of patch_size (4)
    "swin": (SwinTransformer, {}, 4),  # H, W multiples of 4 whose stage maps split into 4x4 windows (e.g. 32)
}


def build_backbone(name, input_shape=(32, 32, 1), embedding_dim=128, weights=None, **options):
    """Builds an image embedding backbone by name.

    Args:
        name: one of `sorted(BACKBONES)`: "l2net", "hardnet", "sosnet", "hynet" (patch nets of
            `descriptors.models`, images resized to 32x32), "tfeat", "simnet", "resnet50", "efficientnetv2_b0",
            "mobilenetv3_small", "densenet121", "vit" (`VisionTransformer`), "swin" (`SwinTransformer`).
        input_shape: (H, W, C) of the images. Defaults to (32, 32, 1).
        embedding_dim: embedding dimension E. Defaults to 128.
        weights: None (random init, the default) or a local weights file path; never a download.
        **options: further constructor arguments of the backbone class (e.g. `filters=(16, 32)` for TFeat,
            `application_options={"alpha": 0.75}` for MobileNetV3).

    Returns:
        the `EmbeddingBackbone` (B, H, W, C) -> (B, E).

    Raises:
        ConfigError: unknown name or invalid arguments. FileNotFoundError: missing `weights` file.

    Example:
        >>> model = build_backbone("tfeat", input_shape=(32, 32, 1), embedding_dim=16)
        >>> model.embedding_dim
        16
    """
    if name not in BACKBONES:
        raise ConfigError(f"`name` must be one of the backbone names {sorted(BACKBONES)}. Received: name={name!r}")
    cls, preset, _ = BACKBONES[name]
    try:
        return cls(**{**preset, **options}, input_shape=tuple(input_shape), embedding_dim=embedding_dim,
                   weights=weights)
    except TypeError as error:  # an unknown keyword argument
        raise ConfigError(f"Invalid arguments for backbone {name!r} ({cls.__name__}): {error}") from error


def check_backbone_input(name, input_shape, options=None):
    """Checks, building nothing, that backbone `name` with `options` can take images of `input_shape`.

    Only the backbones whose class has a `check_input(input_shape, options)` classmethod (the transformers, whose
    input sides must be multiples of their patch / window sizes) are checked here; the others check their input
    shape when built.

    Args:
        name: a key of `BACKBONES`.
        input_shape: (H, W, C) of the images.
        options: the extra constructor arguments (e.g. {"patch_size": 8}). Defaults to None (none).

    Raises:
        ConfigError: unknown name, or an input shape the backbone cannot take (naming the value and the rule).
    """
    if name not in BACKBONES:
        raise ConfigError(f"`name` must be one of the backbone names {sorted(BACKBONES)}. Received: name={name!r}")
    cls, preset, _ = BACKBONES[name]
    check = getattr(cls, "check_input", None)
    if check is not None:
        check(tuple(input_shape), {**preset, **dict(options or {})})
