"""Local patch descriptors on Keras 3: data layer, denoisers, descriptors, losses and training."""

__version__ = "0.1.0"
