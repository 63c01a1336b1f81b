"""Factories from a model name (as used in configs and CLI flags) to a freshly built Keras model."""

from descriptors.errors import ConfigError
from descriptors.models.coursework_baseline import CourseworkBaseline
from descriptors.models.full_unet import FullUNet
from descriptors.models.hardnet import HardNet
from descriptors.models.hynet import HyNet
from descriptors.models.l2net import L2Net
from descriptors.models.shallow_unet import ShallowUNet
from descriptors.models.sosnet import SOSNet
from descriptors.models.tfeat import TFeatDescriptor

# name -> (class, preset keyword arguments; caller keyword arguments override them).
DESCRIPTORS = {
    "l2net": (L2Net, {}),
    "hardnet": (HardNet, {}),
    "coursework_baseline": (CourseworkBaseline, {}),
    "sosnet": (SOSNet, {}),
    "tfeat": (TFeatDescriptor, {}),
    "hynet": (HyNet, {}),
}
DENOISERS = {
    # The coursework layout with the two fixes: 0..1 internal scale and noise (residual) prediction.
    "shallow_unet": (ShallowUNet, {"residual": True, "input_scale": 1.0 / 255.0}),
    # Exactly the 2019 coursework denoiser: raw 0..255 pixels, direct prediction (the class defaults).
    "coursework_shallow_unet": (ShallowUNet, {"residual": False, "input_scale": 1.0}),
    "full_unet": (FullUNet, {}),
}


def _build(kind, table, name, kwargs):
    if name not in table:
        raise ConfigError(f"`name` must be one of the {kind} names {sorted(table)}. Received: name={name!r}")
    cls, preset = table[name]
    try:
        return cls(**{**preset, **kwargs})
    except TypeError as error:  # an unknown keyword argument
        raise ConfigError(f"Invalid arguments for {kind} {name!r} ({cls.__name__}): {error}") from error


def build_descriptor(name, **kwargs):
    """Builds a descriptor model by name.

    Args:
        name: one of "l2net", "hardnet", "coursework_baseline", "sosnet", "tfeat".
        **kwargs: constructor arguments of the class (e.g. `descriptor_dim=64`).

    Returns:
        The model: (B, 32, 32, 1) float32 pixels 0..255 -> (B, D) float32.

    Raises:
        ConfigError: unknown name or invalid arguments.
    """
    return _build("descriptor", DESCRIPTORS, name, kwargs)


def build_denoiser(name, **kwargs):
    """Builds a denoiser model by name.

    Args:
        name: "shallow_unet" (coursework layout, residual, 1/255 internal scale), "coursework_shallow_unet"
            (exactly the 2019 model) or "full_unet" (`FullUNet` defaults).
        **kwargs: constructor arguments; they override the preset (e.g. `residual=False`).

    Returns:
        The model: (B, 32, 32, 1) float32 pixels 0..255 -> (B, 32, 32, 1) float32, unclipped.

    Raises:
        ConfigError: unknown name or invalid arguments.
    """
    return _build("denoiser", DENOISERS, name, kwargs)
