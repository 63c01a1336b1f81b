"""`EmbeddingBackbone`: the common interface of the image backbones (input size, channels, embedding dim).

Every backbone is a `ConfigModel` (serialises as its constructor arguments) taking float32 pixels on the 0..255
scale, shape (B, H, W, C), and returning (B, E) embeddings. Weights are randomly initialised unless `weights`
names a local file; nothing is ever downloaded.
"""

from pathlib import Path

import keras

from descriptors.errors import ConfigError
from descriptors.models.base import ConfigModel


def check_input_shape(owner, input_shape, min_side=8):
    """Validates `input_shape` = (H, W, C) and returns it as a tuple of ints.

    Raises:
        ConfigError: not three positive integers, a side below `min_side`, or C not in (1, 3).
    """
    valid = (
        isinstance(input_shape, (tuple, list))
        and len(input_shape) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in input_shape)
    )
    if not valid or min(input_shape[:2]) < min_side or input_shape[2] not in (1, 3):
        raise ConfigError(
            f"`input_shape` of {owner} must be (H, W, C) with H, W >= {min_side} and C in (1, 3). "
            f"Received: input_shape={input_shape!r}"
        )
    return tuple(int(v) for v in input_shape)


def check_weights(owner, weights):
    """Accepts None (random init) or the path of an existing local weights file; never a download name.

    Raises:
        ConfigError: `weights` is not None or a string path (e.g. "imagenet", which would download).
        FileNotFoundError: the path does not exist.
    """
    if weights is None:
        return None
    if not isinstance(weights, (str, Path)) or str(weights) == "imagenet":
        raise ConfigError(
            f"`weights` of {owner} must be None (random init) or a local weights file path; nothing is "
            f"downloaded. Received: weights={weights!r}"
        )
    if not Path(weights).is_file():
        raise FileNotFoundError(f"`weights` of {owner} must be an existing file. Received: weights={str(weights)!r}")
    return str(weights)


def load_local_weights(target, weights):
    """Loads a local file into `target`: `.keras` (a saved model with the same weights) or `.weights.h5`."""
    if weights.endswith(".keras"):
        from descriptors.models.pipeline import load_model_file  # safe mode, a clear error naming the file

        target.set_weights(load_model_file(weights, compile=False).get_weights())
    else:
        target.load_weights(weights)


def image_input(input_shape, name="images"):
    """The input of every backbone: float32 pixels on the 0..255 scale, shape (B, H, W, C)."""
    return keras.Input(shape=input_shape, dtype="float32", name=name)


@keras.saving.register_keras_serializable(package="descriptors")
class EmbeddingBackbone(ConfigModel):
    """A `ConfigModel` with `input_shape`/`embedding_dim` attributes whose reload never re-reads `weights`.

    The `weights` argument is kept in the config for provenance, but a `.keras` file already holds the trained
    weights, so `from_config` rebuilds with random init (the file may be gone on another machine).
    """

    def __init__(self, inputs, outputs, arguments, **kwargs):
        super().__init__(inputs, outputs, arguments, **kwargs)
        self.image_shape = tuple(arguments["input_shape"])
        self.embedding_dim = int(outputs.shape[-1])

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "weights" in config:
            config["weights"] = None
        config["input_shape"] = tuple(config["input_shape"])
        return cls(**config)
