"""`descriptors.tensorflow_startup`: TensorFlow's native info lines are held back, everything else reaches stderr."""

import os
import sys

import pytest

from descriptors import tensorflow_startup

ONEDNN = (b"I0000 00:00:1796216757.698111    9974 port.cc:153] oneDNN custom operations are on. You may see slightly "
          b"different numerical results\n")
PREAMBLE = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"


def test_only_info_lines_and_the_absl_preamble_are_dropped():
    text = (PREAMBLE + ONEDNN + b"W0000 00:00:1.0 1 x.cc:1] a real warning\n" + PREAMBLE
            + b"E0000 00:00:2.0 1 y.cc:2] an error\nI0 not an absl line\nsome Python warning: I0000 inside\n"
            + b"I1202 12:00:00.1 7 z.cc:3] info\nno newline at the end")
    assert tensorflow_startup.without_info_lines(text) == (
        b"W0000 00:00:1.0 1 x.cc:1] a real warning\nE0000 00:00:2.0 1 y.cc:2] an error\nI0 not an absl line\n"
        b"some Python warning: I0000 inside\nno newline at the end")
    assert tensorflow_startup.without_info_lines(b"") == b""
    assert tensorflow_startup.without_info_lines(PREAMBLE.rstrip(b"\n") + b" and more\n") == (
        PREAMBLE.rstrip(b"\n") + b" and more\n")


def test_native_writes_are_held_back_and_written_again_filtered(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    with tensorflow_startup.native_info_lines_filtered():
        os.write(2, PREAMBLE + ONEDNN + b"W0000 kept\n")
        os.write(2, b"a traceback line kept\n")
        assert capfd.readouterr().err == ""  # held back while inside
    assert capfd.readouterr().err == "W0000 kept\na traceback line kept\n"


def test_held_back_output_is_written_even_when_the_block_raises(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    with pytest.raises(ImportError):
        with tensorflow_startup.native_info_lines_filtered():
            os.write(2, ONEDNN + b"E0000 the reason\n")
            raise ImportError("boom")
    assert capfd.readouterr().err == "E0000 the reason\n"


@pytest.mark.parametrize("level", ["0", ""])
def test_nothing_is_filtered_when_the_user_asks_for_info_lines(capfd, monkeypatch, level):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    with tensorflow_startup.native_info_lines_filtered():
        os.write(2, ONEDNN)
    assert capfd.readouterr().err == ONEDNN.decode()


def test_the_hook_wraps_only_tensorflow_and_removes_itself(monkeypatch):
    hook = tensorflow_startup._TensorFlowImportHook()
    monkeypatch.setattr(sys, "meta_path", [hook, *sys.meta_path])
    assert hook.find_spec("numpy") is None and hook in sys.meta_path
    spec = hook.find_spec("tensorflow")
    assert hook not in sys.meta_path
    assert isinstance(spec.loader, tensorflow_startup._FilteredLoader) and spec.name == "tensorflow"
    # install() adds no second hook, and none once TensorFlow is imported (it is, in this suite)
    monkeypatch.setattr(sys, "meta_path", [hook])
    tensorflow_startup.install()
    assert sys.meta_path == [hook]
