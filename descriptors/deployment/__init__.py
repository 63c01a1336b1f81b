"""Models in and out: published PyTorch weights converted to our Keras models (`python -m descriptors.convert`),
a pipeline exported to a TensorFlow SavedModel, ONNX or LiteRT (TFLite) file, and the runtime wrapper that
describes patches with such a file (`python -m descriptors.export`)."""
