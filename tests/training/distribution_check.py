"""Run in a subprocess by test_distribution_cpu.py: one-device vs two-device data-parallel training on CPU.

Usage: python distribution_check.py tensorflow|jax. Prints JSON {"single": [...], "parallel": [...], "devices": n}.
"""

import json
import os
import sys

backend = sys.argv[1]
os.environ["KERAS_BACKEND"] = backend
if backend == "jax":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
else:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from descriptors.losses import TripletMarginLoss  # noqa: E402
from descriptors.training.distribution import distribution_scope  # noqa: E402
from descriptors.training.tuple_encoder import TupleEncoder  # noqa: E402


def build():
    keras.utils.set_random_seed(0)
    encoder = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(16),
                                keras.layers.UnitNormalization()])
    model = TupleEncoder(encoder)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=TripletMarginLoss(margin=1.0))
    return model


rng = np.random.default_rng(0)
x = rng.normal(size=(64, 3, 8, 8, 1)).astype(np.float32)
y = np.zeros(64, np.float32)
losses = {}
mode = {"tensorflow": "mirrored", "jax": "data_parallel"}[backend]
for name, scope_mode in (("single", "none"), ("parallel", mode)):
    with distribution_scope(scope_mode) as strategy:
        model = build()
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    losses[name] = [float(v) for v in history.history["loss"]]
    if strategy is not None:
        losses["devices"] = int(getattr(strategy, "num_replicas_in_sync", 0) or len(strategy.device_mesh.devices.ravel()))
print(json.dumps(losses))
