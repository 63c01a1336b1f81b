"""Shared fixtures. The offline default dataset is built once per machine (about a minute) and cached."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def default_dataset_root():
    """The default dataset folder (built on first use into the user cache, see descriptors.data.default)."""
    from descriptors.data.default import default_dataset

    return default_dataset(progress=False)
