"""`ConfigModel`: the base of every model here, a functional `keras.Model` whose config is its constructor arguments.

Each subclass builds its graph in `__init__` and hands `inputs`, `outputs` and its own constructor arguments to
`ConfigModel.__init__`. `get_config` then returns exactly those arguments (plus `name` and `trainable`) and
`from_config` calls the subclass constructor, so a `.keras` file rebuilds the same class (the keras-hub
`Backbone` pattern) instead of a plain `Functional`.
"""

import copy

import keras

from descriptors.errors import ConfigError

PATCH_SIZE = 32
MODEL_KWARGS = frozenset({"name", "trainable"})


@keras.saving.register_keras_serializable(package="descriptors")
class ConfigModel(keras.Model):
    """A functional model that serialises as its constructor arguments.

    Args:
        inputs: the `keras.Input` of the graph.
        outputs: the output tensor of the graph.
        arguments: dict of the subclass constructor arguments (JSON-serialisable), returned by `get_config`.
        **kwargs: `name` and `trainable`, forwarded to `keras.Model`.

    Raises:
        TypeError: any other keyword argument (Keras would silently ignore it).
    """

    def __init__(self, inputs, outputs, arguments, **kwargs):
        # keras.Model silently drops unknown keywords; a misspelt option must not vanish.
        unknown = sorted(set(kwargs) - MODEL_KWARGS)
        if unknown:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected keyword arguments {unknown}")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self._arguments = dict(arguments)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._arguments}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def patch_input(name="patches"):
    """The input of every model: float32 pixels on the 0..255 scale, shape (B, 32, 32, 1)."""
    return keras.Input(shape=(PATCH_SIZE, PATCH_SIZE, 1), dtype="float32", name=name)


def check_descriptor_dim(owner: str, descriptor_dim) -> int:
    """Raises ConfigError unless ``descriptor_dim`` is a positive integer; returns it."""
    if isinstance(descriptor_dim, bool) or not isinstance(descriptor_dim, int) or descriptor_dim < 1:
        raise ConfigError(f"`descriptor_dim` of {owner} must be a positive integer. "
                          f"Received: descriptor_dim={descriptor_dim!r}")
    return descriptor_dim


def initializer_factory(owner: str, kernel_initializer):
    """A function returning a fresh Keras initializer from ``kernel_initializer`` (a name or config dict) at each
    call, so that layers never share one initializer object; raises ConfigError for an unknown initializer."""
    try:
        keras.initializers.get(copy.deepcopy(kernel_initializer))
    except (ValueError, TypeError) as error:
        raise ConfigError(f"`kernel_initializer` of {owner} must be a Keras initializer name or config dict. "
                          f"Received: kernel_initializer={kernel_initializer!r}") from error
    return lambda: keras.initializers.get(copy.deepcopy(kernel_initializer))
