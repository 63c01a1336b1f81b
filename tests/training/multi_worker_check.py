"""Run in subprocesses by test_multi_worker.py: a small real HardNet run as one worker of a 2-worker TF_CONFIG cluster
on 127.0.0.1, or as one process with two logical CPU devices (``mirrored``, the same two replicas).

Usage: python multi_worker_check.py OUT_DIR worker INDEX PORT0 PORT1 | python multi_worker_check.py OUT_DIR single
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
out_dir, mode = sys.argv[1], sys.argv[2]
if mode == "worker":
    index, ports = int(sys.argv[3]), sys.argv[4:6]
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                                          "task": {"type": "worker", "index": index}})
else:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from descriptors.training.config import TrainConfig  # noqa: E402
from descriptors.training.trainer import train  # noqa: E402

config = TrainConfig(denoiser="none", descriptor="hardnet", epochs=1, batch_size=32, tuples_per_epoch=96,
                     val_tuples=32, max_train_tracks=200, evaluate=False, verbose=0, seed=5,
                     distribute="multi_worker" if mode == "worker" else "mirrored",
                     output_dir=os.path.join(out_dir, "run" if mode == "worker" else "single"))
result = train(config)
print(json.dumps({"run_dir": str(result.run_dir)}))
