"""Fixtures of the model tests: seeded Keras, a numpy generator, and the shared `checks` helper."""

import keras
import numpy as np
import pytest
from model_checks import ModelChecks


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def checks(tmp_path, rng):
    return ModelChecks(tmp_path, rng)
