"""`--deterministic`: TensorFlow op determinism inside a run only, and its conflict with `--jit-compile on`."""

import keras
import pytest

from descriptors.errors import ConfigError
from descriptors.training.config import TrainConfig
from descriptors.training.determinism import op_determinism


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's op determinism")
def test_op_determinism_is_on_inside_and_restored_after():
    from tensorflow.python.framework import config as tf_config

    assert not tf_config.is_op_determinism_enabled()
    with op_determinism(True):
        assert tf_config.is_op_determinism_enabled()
    assert not tf_config.is_op_determinism_enabled()
    with op_determinism(False):
        assert not tf_config.is_op_determinism_enabled()
    with pytest.raises(RuntimeError), op_determinism(True):
        raise RuntimeError("an interrupted run")
    assert not tf_config.is_op_determinism_enabled()


def test_deterministic_is_the_default_and_refuses_forced_xla():
    assert TrainConfig().deterministic is True
    with pytest.raises(ConfigError, match=r"`jit_compile='on'` needs deterministic=False .*--no-deterministic"):
        TrainConfig(jit_compile="on")
    assert TrainConfig(jit_compile="on", deterministic=False).jit_compile == "on"
    with pytest.raises(ConfigError, match=r"deterministic"):
        TrainConfig.from_dict({"deterministic": "yes"})
