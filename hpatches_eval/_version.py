"""Package version, in its own module so that internal modules can read it without importing the package root."""

__version__ = "0.1.0"
