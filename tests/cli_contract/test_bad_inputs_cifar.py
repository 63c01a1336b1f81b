"""Bad `--data cifar:DIR` of `python -m descriptors.embed`: one line naming the folder or file, nothing written."""

import numpy as np
import pytest
from bad_input_harness import BadInput

from descriptors.embeddings.cifar import write_cifar_binary

M = "descriptors.embed"
OUT = ["--output-dir", "{tmp}/run", "--epochs", "1"]


def _truncated(in_dir):
    images = np.zeros((2, 32, 32, 3), np.uint8)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        write_cifar_binary(in_dir / "cifar", images, np.array([0, 1]), name)
    with open(in_dir / "cifar" / "data_batch_3.bin", "ab") as handle:
        handle.write(b"\0" * 10)


CASES = [
    BadInput("cifar-folder-missing", M, ["--data", "cifar:{in}/nowhere", *OUT], 2,
             r"`data` 'cifar:.*nowhere' is not a CIFAR binary folder: CIFAR folder not found"),
    BadInput("cifar-folder-without-bin-files", M, ["--data", "cifar:{in}", *OUT], 2,
             r"is not a CIFAR binary folder: .* holds no CIFAR binary files"),
    BadInput("cifar-truncated-batch", M, ["--data", "cifar:{in}/cifar", *OUT], 1,
             r"data_batch_3.bin must hold whole 3073-byte CIFAR records", setup=_truncated),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)


def test_missing_batches_are_listed(check_bad_input):
    def setup(in_dir):
        write_cifar_binary(in_dir / "cifar", np.zeros((2, 32, 32, 3), np.uint8), np.array([0, 1]), "test_batch.bin")

    check_bad_input(BadInput("cifar-missing-batches", M, ["--data", "cifar:{in}/cifar", *OUT], 1,
                             r"lacks the cifar10 all files \['data_batch_1.bin'", setup=setup))
