"""Data layer: readers/writers of the HPatches layouts, the dataset builder and the offline default dataset.

Never imports Keras or TensorFlow.
"""

from descriptors.data.builder import build_dataset, build_dataset_from_sequences
from descriptors.data.default import default_dataset
from descriptors.data.formats import HPatchesRelease, read_patch_file, write_patch_file
from descriptors.data.sequences import ImageSequence, read_image_sequence

__all__ = [
    "HPatchesRelease",
    "ImageSequence",
    "build_dataset",
    "build_dataset_from_sequences",
    "default_dataset",
    "read_image_sequence",
    "read_patch_file",
    "write_patch_file",
]
