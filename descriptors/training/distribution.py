"""Data-parallel training through the backends' own engines: `tf.distribute.MirroredStrategy` (TensorFlow, the
devices of one machine), `tf.distribute.MultiWorkerMirroredStrategy` (TensorFlow, several processes or machines
configured by the standard ``TF_CONFIG`` environment variable, see docs/scale.md) and
`keras.distribution.DataParallel` (JAX).

Models and optimizers must be created under the scope; `distribution_scope` also covers loading a checkpoint on
resume and `fit`. Each replica computes the loss on its slice of the global batch under ``mirrored`` (so batch
losses mine within the slice and BatchNorm uses per-replica statistics); ``multi_worker`` does the same with one
replica per worker process, so it trains exactly like ``mirrored`` on as many devices. JAX ``data_parallel`` shards
the batch but computes the loss on the global batch. The batch size should be a multiple of the number of devices.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from pathlib import Path

import keras

from descriptors.errors import ConfigError

DISTRIBUTE_MODES = ("none", "mirrored", "data_parallel", "multi_worker")
BACKEND_OF_MODE = {"mirrored": "tensorflow", "data_parallel": "jax", "multi_worker": "tensorflow"}
TASK_TYPES = ("chief", "worker")
_multi_worker_strategy = None  # one per process: TensorFlow's collectives are configured once, at startup


@dataclasses.dataclass(frozen=True)
class WorkerTask:
    """This process's place in a ``TF_CONFIG`` cluster.

    Attributes:
        task_type: ``"chief"`` or ``"worker"``.
        index: the task's index among the tasks of its type.
        num_workers: all training processes (chief included).
        is_chief: whether this process writes the run folder (the chief, else worker 0 when there is no chief).
    """

    task_type: str
    index: int
    num_workers: int
    is_chief: bool


def read_tf_config(environ=None) -> WorkerTask:
    """Parses and checks the ``TF_CONFIG`` environment variable of a multi-worker run.

    Example: ``TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
    "task": {"type": "worker", "index": 0}}'``.

    Raises:
        ConfigError: ``TF_CONFIG`` is missing, not JSON, or not a chief/worker cluster holding this task (the
            message names the value and what was expected).
    """
    raw = (os.environ if environ is None else environ).get("TF_CONFIG")
    if not raw:
        raise ConfigError("`distribute='multi_worker'` needs the TF_CONFIG environment variable: a JSON object "
                          '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": i}} '
                          "(see docs/scale.md)")
    try:
        spec = json.loads(raw)
    except ValueError as error:
        raise ConfigError(f"TF_CONFIG must be JSON ({error}). Received: TF_CONFIG={raw[:200]!r}") from None
    cluster = spec.get("cluster") if isinstance(spec, dict) else None
    task = spec.get("task") if isinstance(spec, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ConfigError(f'TF_CONFIG must be an object with "cluster" and "task" objects. Received: {raw[:200]!r}')
    extra = sorted(set(cluster) - set(TASK_TYPES))
    if extra:
        raise ConfigError(f"TF_CONFIG's cluster may only hold {TASK_TYPES} tasks (synchronous data-parallel "
                          f"training). Received: {extra}")
    for kind, addresses in cluster.items():
        if (not isinstance(addresses, list) or not addresses
                or not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses)):
            raise ConfigError(f'TF_CONFIG cluster["{kind}"] must be a non-empty list of "host:port" strings. '
                              f"Received: {addresses!r}")
    if len(cluster.get("chief", [])) > 1:
        raise ConfigError(f'TF_CONFIG may name one chief. Received: chief={cluster["chief"]!r}')
    task_type, index = task.get("type"), task.get("index")
    if task_type not in cluster:
        raise ConfigError(f'TF_CONFIG task "type" must be one of the cluster\'s {sorted(cluster)}. '
                          f"Received: type={task_type!r}")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(cluster[task_type]):
        raise ConfigError(f'TF_CONFIG task "index" must be an integer in [0, {len(cluster[task_type]) - 1}] for '
                          f"type {task_type!r}. Received: index={index!r}")
    is_chief = task_type == "chief" or ("chief" not in cluster and index == 0)
    return WorkerTask(task_type, index, sum(len(a) for a in cluster.values()), is_chief)


def worker_run_dir(run_dir, task: WorkerTask) -> Path:
    """The run folder of ``task``: the chief's is ``run_dir``; every other worker keeps its own copy (checkpoints,
    logs: each worker resumes from its own files) beside it, in ``<run_dir>.<type>-<index>``."""
    run_dir = Path(run_dir)
    return run_dir if task.is_chief else run_dir.with_name(f"{run_dir.name}.{task.task_type}-{task.index}")


def multi_worker_strategy():
    """This process's `tf.distribute.MultiWorkerMirroredStrategy` (made on first call, from ``TF_CONFIG``).

    It must be made before TensorFlow runs any op in the process (TensorFlow configures its collectives at
    startup): the trainer calls it first thing.

    Raises:
        ConfigError: bad ``TF_CONFIG`` (see `read_tf_config`), or TensorFlow already started in this process.
    """
    global _multi_worker_strategy
    if _multi_worker_strategy is None:
        read_tf_config()
        import tensorflow as tf

        try:
            _multi_worker_strategy = tf.distribute.MultiWorkerMirroredStrategy()
        except (RuntimeError, ValueError) as error:
            raise ConfigError("`distribute='multi_worker'` must set up TensorFlow's collectives before TensorFlow "
                              f"runs anything: start each worker in a fresh process ({error})") from None
    return _multi_worker_strategy


def check_distribute(mode: str) -> str:
    """Raises ConfigError unless ``mode`` is known and matches the running Keras backend; returns it."""
    if mode not in DISTRIBUTE_MODES:
        raise ConfigError(f"`distribute` must be one of {DISTRIBUTE_MODES}. Received: distribute={mode!r}")
    needed = BACKEND_OF_MODE.get(mode)
    if needed and keras.config.backend() != needed:
        raise ConfigError(f"`distribute={mode!r}` needs KERAS_BACKEND={needed}. "
                          f"Received: backend={keras.config.backend()!r}")
    return mode


def tensorflow_devices() -> list[str]:
    """The GPUs if any, else every logical CPU device (e.g. two made by `set_logical_device_configuration`)."""
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


@contextlib.contextmanager
def distribution_scope(mode: str = "none"):
    """Context in which models are built, loaded and fit data-parallel; yields the strategy (or None).

    Raises:
        ConfigError: unknown mode or wrong backend.
    """
    check_distribute(mode)
    if mode == "none":
        yield None
    elif mode in ("mirrored", "multi_worker"):
        import tensorflow as tf

        if mode == "mirrored":
            strategy = tf.distribute.MirroredStrategy(devices=tensorflow_devices())
        else:
            strategy = multi_worker_strategy()
        with strategy.scope():
            yield strategy
    else:
        distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
        with distribution.scope():
            yield distribution


def distributed_stage(stage, mode: str = "none"):
    """A copy of a `Stage` whose ``build_model`` builds and compiles under `distribution_scope(mode)`."""
    if check_distribute(mode) == "none":
        return stage
    build = stage.build_model

    def build_model():
        with distribution_scope(mode):
            return build()

    return dataclasses.replace(stage, build_model=build_model)
