"""The loss and model tests on a second Keras backend (JAX), in a subprocess: the backend is fixed at import.

All of them run there, the gradient checks included (they differentiate through the `value_and_gradient` fixture
of tests/conftest.py, which uses the active backend's autodiff).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_losses_and_models_pass_on_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "pytest", "tests/losses", "tests/models", "-q", "-p", "no:cacheprovider", "-x"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.strip().splitlines()[-1]
