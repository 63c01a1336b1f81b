"""Deployable models out: a pipeline exported to a TensorFlow SavedModel, ONNX or LiteRT (TFLite) file, and the
runtime wrapper that describes patches with such a file (`python -m descriptors.export`)."""
