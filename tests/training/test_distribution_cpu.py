"""Data-parallel training on two logical CPU devices matches one device (each backend in its own subprocess)."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from descriptors.errors import ConfigError
from descriptors.training.distribution import check_distribute

SCRIPT = Path(__file__).with_name("distribution_check.py")


def _run(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, str(SCRIPT), backend], capture_output=True, text=True, env=env,
                          timeout=240)
    if done.returncode:
        raise AssertionError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_mirrored_two_cpus_matches_single_device():
    out = _run("tensorflow")
    assert out["devices"] == 2
    assert out["parallel"] == pytest.approx(out["single"], rel=1e-4, abs=1e-5)
    assert out["single"][-1] < out["single"][0]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_data_parallel_two_cpus_matches_single_device():
    out = _run("jax")
    assert out["devices"] == 2
    assert out["parallel"] == pytest.approx(out["single"], rel=1e-4, abs=1e-5)


def test_distribute_mode_checks():
    assert check_distribute("none") == "none"
    with pytest.raises(ConfigError, match="`distribute` must be one of"):
        check_distribute("ring")
    with pytest.raises(ConfigError, match=r"`distribute='data_parallel'` needs KERAS_BACKEND=jax"):
        check_distribute("data_parallel")
