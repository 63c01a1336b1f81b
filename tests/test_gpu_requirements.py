"""The GPU install path: the pinned GPU set mirrors the CPU set, and bootstrap picks it by `nvidia-smi` or flag.

Whether the GPU set resolves on PyPI is checked by `.ci/check_gpu_requirements.py` (network), which `.ci/run` runs
after the tests.
"""

import importlib.util
import os
import stat
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
from check_gpu_requirements import pins  # noqa: E402

spec = importlib.util.spec_from_file_location("bootstrap_module", ROOT / "bootstrap.py")
bootstrap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bootstrap)


def test_gpu_set_is_the_cpu_set_with_the_cuda_builds():
    cpu, gpu = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-gpu.txt")
    assert cpu.pop("tensorflow-cpu") == gpu.pop("tensorflow") == "2.21.0"
    assert cpu == gpu  # every other pin, jax included, the same version
    text = (ROOT / "requirements-gpu.txt").read_text()
    assert "tensorflow[and-cuda]==2.21.0" in text and "jax[cuda12]==0.10.2" in text
    other = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]
    assert [line for line in text.splitlines() if line and line[0] != "#"] == [
        {"tensorflow-cpu==2.21.0": "tensorflow[and-cuda]==2.21.0", "jax==0.10.2": "jax[cuda12]==0.10.2"}.get(line, line)
        for line in other]


def _fake_nvidia_smi(folder, output, status):
    folder.mkdir(exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(f"#!/bin/sh\necho '{output}'\nexit {status}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for nvidia-smi")
def test_the_set_follows_nvidia_smi_unless_a_flag_says(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "none"))
    assert bootstrap.device_set(None) == "cpu"  # no nvidia-smi at all
    assert bootstrap.device_set("gpu") == "gpu"
    _fake_nvidia_smi(tmp_path / "gpu", "GPU 0: NVIDIA H200 (UUID: GPU-0)", 0)
    monkeypatch.setenv("PATH", str(tmp_path / "gpu"))
    assert bootstrap.device_set(None) == "gpu" and bootstrap.device_set("cpu") == "cpu"
    _fake_nvidia_smi(tmp_path / "nodriver", "NVIDIA-SMI has failed because it couldn't communicate with the "
                     "NVIDIA driver", 9)
    monkeypatch.setenv("PATH", str(tmp_path / "nodriver"))
    assert bootstrap.device_set(None) == "cpu"


def test_stamps_name_the_set_and_its_files():
    cpu, gpu = bootstrap._requirements_hash("cpu"), bootstrap._requirements_hash("gpu")
    assert cpu.startswith("cpu:") and gpu.startswith("gpu:") and cpu[4:] != gpu[4:]
    assert bootstrap.REMOVE_BEFORE["gpu"] == ["tensorflow-cpu"] and "tensorflow" in bootstrap.REMOVE_BEFORE["cpu"]


def test_ci_runs_the_readme_test_command_and_the_gpu_check():
    run = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "python3 bootstrap.py test -q -n 2" in run and "python3 bootstrap.py test -q -n 2" in readme
    assert ".ci/check_gpu_requirements.py" in run and ".ci/check_gpu_requirements.py" in readme
