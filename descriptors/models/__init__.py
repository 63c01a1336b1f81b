"""Keras 3 models: denoisers (32x32x1 -> 32x32x1), descriptors (32x32x1 -> D) and the describe pipeline.

Importing this package registers every custom class, so `keras.saving.load_model` can read the `.keras` files.
"""

from descriptors.models.base import PATCH_SIZE, ConfigModel
from descriptors.models.coursework_baseline import CourseworkBaseline
from descriptors.models.frn import FilterResponseNormalization, ThresholdedLinearUnit
from descriptors.models.full_unet import FullUNet
from descriptors.models.hardnet import HardNet
from descriptors.models.hynet import HyNet
from descriptors.models.l2net import L2Net
from descriptors.models.layers import L2Normalization, PatchStandardization, PixelClip
from descriptors.models.pipeline import DescriptorPipeline, prepare_patches
from descriptors.models.registry import DENOISERS, DESCRIPTORS, build_denoiser, build_descriptor
from descriptors.models.shallow_unet import ShallowUNet
from descriptors.models.sosnet import SOSNet
from descriptors.models.tfeat import TFeatDescriptor

__all__ = [
    "PATCH_SIZE",
    "ConfigModel",
    "CourseworkBaseline",
    "DENOISERS",
    "DESCRIPTORS",
    "DescriptorPipeline",
    "FilterResponseNormalization",
    "FullUNet",
    "HardNet",
    "HyNet",
    "L2Net",
    "L2Normalization",
    "PatchStandardization",
    "PixelClip",
    "SOSNet",
    "ShallowUNet",
    "TFeatDescriptor",
    "ThresholdedLinearUnit",
    "build_denoiser",
    "build_descriptor",
    "prepare_patches",
]
