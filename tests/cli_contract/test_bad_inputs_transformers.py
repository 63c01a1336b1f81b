"""Bad image sizes for the transformer backbones of `python -m descriptors.embed`: exit 2 with one line naming the
value and the rule, checked with the other options before the data is read or a model is built.

In-process only: test_bad_inputs_embed.py already runs the real `python -m descriptors.embed` entry point.
"""

import pytest
from bad_input_harness import BadInput

M = "descriptors.embed"
OUT = ["--output-dir", "{tmp}/run", "--epochs", "1"]

CASES = [
    BadInput("embed-swin-stage-map-not-whole-windows", M, ["--backbone", "swin", "--image-size", "20", *OUT], 2,
             r"`input_shape` of SwinTransformer must give stage maps that split into window_size=4 windows "
             r"\(e\.g\. H, W multiples of 16\); stage 1 is 10x10\. Received: input_shape=\(20, 20, 1\)"),
    BadInput("embed-swin-not-a-multiple-of-the-mergings", M, ["--backbone", "swin", "--image-size", "18", *OUT], 2,
             r"`input_shape` of SwinTransformer must have H and W multiples of 4 .*"
             r"Received: input_shape=\(18, 18, 1\)"),
    BadInput("embed-vit-not-a-multiple-of-the-patch", M, ["--backbone", "vit", "--image-size", "30", *OUT], 2,
             r"`input_shape` of VisionTransformer must have H and W multiples of patch_size=4\. "
             r"Received: input_shape=\(30, 30, 1\)"),
    BadInput("embed-vit-option-patch-size", M,
             ["--backbone", "vit", "--image-size", "32", "--backbone-options", '{"patch_size": 5}', *OUT], 2,
             r"multiples of patch_size=5\. Received: input_shape=\(32, 32, 1\)"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
