"""Local patch descriptors on Keras 3: data layer, denoisers, descriptors, losses and training."""

import os

# TensorFlow's C++ start-up lines (CPU features, oneDNN) are not errors: silence them before any submodule imports
# TensorFlow (warnings and errors still print). Set TF_CPP_MIN_LOG_LEVEL=0 to see them again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# ...and the few it still prints before reading that variable (oneDNN's line on AVX-512 CPUs): `tensorflow_startup`.
from descriptors import tensorflow_startup as _tensorflow_startup  # noqa: E402

_tensorflow_startup.install()

__version__ = "0.1.0"
