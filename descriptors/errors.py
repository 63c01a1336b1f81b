"""Error types of the `descriptors` package. All subclass the built-in type a caller would catch."""


class DataFormatError(ValueError):
    """A file or folder does not follow the expected HPatches / N-HPatches / sequences layout."""


class ConfigError(ValueError):
    """A training or model option has an invalid value."""


class ShapeError(ValueError):
    """An array or tensor does not have the expected shape."""
