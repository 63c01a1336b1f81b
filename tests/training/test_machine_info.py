"""`machine.json`: what a run ran on, one entry per start or resume, with the variables that select kernels."""

import json

import keras

from descriptors.training.machine_info import CPU_FLAGS, FILE_NAME, machine_info, record_machine


def test_entries_are_appended_and_name_the_kernel_variables(tmp_path, monkeypatch):
    for name in ("TF_ENABLE_ONEDNN_OPTS", "OMP_NUM_THREADS", "TF_CONFIG", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX")
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "1")
    first = record_machine(tmp_path, deterministic=True)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    second = record_machine(tmp_path, deterministic=False)
    starts = json.loads((tmp_path / FILE_NAME).read_text())["starts"]
    assert starts == [first, second]
    assert first["environment"] == {"ONEDNN_MAX_CPU_ISA": "AVX", "TF_NUM_INTRAOP_THREADS": "1"}
    assert second["environment"]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert (first["deterministic"], second["deterministic"]) == (True, False)
    assert first["keras_backend"] == keras.config.backend()
    assert set(first["cpu"]["flags"]) <= set(CPU_FLAGS) and first["cpu"]["count"] >= 1
    assert first["packages"]["keras"] == keras.__version__


def test_a_damaged_record_is_replaced(tmp_path):
    (tmp_path / FILE_NAME).write_text("{not json")
    entry = record_machine(tmp_path, deterministic=True)
    assert json.loads((tmp_path / FILE_NAME).read_text()) == {"starts": [entry]}
    assert machine_info(True)["deterministic"] is True
