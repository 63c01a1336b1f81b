"""`--distribute multi_worker`: two worker processes on 127.0.0.1 train the real HardNet stage in lockstep, exactly
as one process with two devices (`mirrored`) does; `TF_CONFIG` is checked before any work."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.models.pipeline import load_model_file
from descriptors.training.distribution import WorkerTask, read_tf_config, worker_run_dir

SCRIPT = Path(__file__).with_name("multi_worker_check.py")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's multi-worker strategy")


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_two_workers_hold_identical_weights_equal_to_one_process_with_two_devices(tmp_path, default_dataset_root):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    ports = [str(p) for p in _free_ports(2)]
    commands = [[sys.executable, str(SCRIPT), str(tmp_path), "worker", str(i), *ports] for i in (0, 1)]
    commands.append([sys.executable, str(SCRIPT), str(tmp_path), "single"])
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for c in commands]
    try:
        outputs = [p.communicate(timeout=420) for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, (_, err) in zip(processes, outputs):
        assert p.returncode == 0, err[-3000:]
    run_dirs = [Path(json.loads(out.strip().splitlines()[-1])["run_dir"]) for out, _ in outputs]
    assert run_dirs == [tmp_path / "run", tmp_path / "run.worker-1", tmp_path / "single"]

    models = [load_model_file(d / "descriptor.keras", compile=False) for d in run_dirs]
    chief, worker, single = ([np.asarray(w) for w in m.weights] for m in models)
    trainable = [w.trainable for w in models[0].weights]
    assert sum(trainable) == 7 and len(chief) == len(single) == 21  # 7 convs; 7 BatchNorms x (mean, variance)
    for a, b, train_it in zip(chief, worker, trainable):
        if train_it:  # lockstep: every worker applies the same all-reduced update
            np.testing.assert_array_equal(a, b)
        else:  # BatchNorm running statistics are each replica's own, as with `mirrored` on one machine
            assert a.shape == b.shape and not np.array_equal(a, b)
    for a, b in zip(chief, single):  # the chief holds replica 0, like the saved model of the one-process run
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    logs = [(d / "descriptor_log.csv").read_text() for d in run_dirs]
    assert logs[0] == logs[1] and len(logs[0].splitlines()) == 2
    chief_log, single_log = (np.loadtxt(d / "descriptor_log.csv", delimiter=",", skiprows=1) for d in run_dirs[::2])
    np.testing.assert_allclose(chief_log, single_log, rtol=1e-6)
    assert (run_dirs[1] / "pipeline").is_dir()  # every worker saves its pipeline, in its own folder


def _tf_config(cluster, task_type="worker", index=0):
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}


TWO = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}


def test_tf_config_roles_and_worker_folders():
    assert read_tf_config(_tf_config(TWO, index=0)) == WorkerTask("worker", 0, 2, True)
    assert read_tf_config(_tf_config(TWO, index=1)) == WorkerTask("worker", 1, 2, False)
    with_chief = {"chief": ["h:9"], **TWO}
    assert read_tf_config(_tf_config(with_chief, "chief")) == WorkerTask("chief", 0, 3, True)
    assert read_tf_config(_tf_config(with_chief, index=0)) == WorkerTask("worker", 0, 3, False)
    assert worker_run_dir("runs/a", WorkerTask("worker", 0, 2, True)) == Path("runs/a")
    assert worker_run_dir("runs/a", WorkerTask("worker", 1, 2, False)) == Path("runs/a.worker-1")


@pytest.mark.parametrize("environ, message", [
    ({}, r"needs the TF_CONFIG environment variable"),
    ({"TF_CONFIG": "{cluster"}, r"TF_CONFIG must be JSON"),
    ({"TF_CONFIG": "[1]"}, r'"cluster" and "task" objects'),
    (_tf_config({"ps": ["h:1"], **TWO}), r"may only hold \('chief', 'worker'\) tasks.*\['ps'\]"),
    (_tf_config({"worker": ["nohost"]}), r'cluster\["worker"\] must be a non-empty list of "host:port"'),
    (_tf_config({"worker": []}), r"non-empty list"),
    (_tf_config({"chief": ["a:1", "b:2"], **TWO}, "chief"), r"one chief"),
    (_tf_config(TWO, "evaluator"), r'"type" must be one of .*evaluator'),
    (_tf_config(TWO, index=2), r'"index" must be an integer in \[0, 1\].*index=2'),
    (_tf_config(TWO, index=True), r"index=True"),
])
def test_bad_tf_config_is_named(environ, message):
    with pytest.raises(ConfigError, match=message):
        read_tf_config(environ)
