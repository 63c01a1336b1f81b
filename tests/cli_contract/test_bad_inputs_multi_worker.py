"""Bad `TF_CONFIG` for `python -m descriptors.train --distribute multi_worker`: exit 2 and one line naming the value,
before TensorFlow starts and before anything is written."""

import json

import keras
import pytest
from bad_input_harness import BadInput

M = "descriptors.train"
ARGV = ["--distribute", "multi_worker", "--output-dir", "{tmp}/run", "--no-evaluate"]
TWO = ["127.0.0.1:1", "127.0.0.1:2"]


def _tf_config(cluster, task_type="worker", index=0):
    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}


CASES = [
    BadInput("multi-worker-no-tf-config", M, ARGV, 2, r"needs the TF_CONFIG environment variable",
             subprocess=True, env={"TF_CONFIG": ""}),
    BadInput("multi-worker-tf-config-not-json", M, ARGV, 2, r"TF_CONFIG must be JSON", env={"TF_CONFIG": "{x"}),
    BadInput("multi-worker-index-out-of-range", M, ARGV, 2, r'"index" must be an integer in \[0, 1\].*index=5',
             env=_tf_config({"worker": TWO}, index=5)),
    BadInput("multi-worker-parameter-server", M, ARGV, 2, r"only hold \('chief', 'worker'\) tasks.*'ps'",
             env=_tf_config({"worker": TWO, "ps": ["127.0.0.1:3"]})),
    BadInput("multi-worker-address-without-port", M, ARGV, 2, r'"host:port" strings.*localhost',
             env=_tf_config({"worker": ["localhost"]})),
]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's multi-worker strategy")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
