"""Bad inputs of `python -m descriptors.export`: exit status, one-line message, inputs and outputs untouched.

Every case fails before a model is exported (most before one is loaded).
"""

import json

import pytest
from bad_input_harness import BadInput

M = "descriptors.export"


def _inputs(in_dir):
    pipeline = in_dir / "pipe"
    pipeline.mkdir(parents=True)
    (pipeline / "pipeline.json").write_text(json.dumps({"format_version": 1, "descriptor": "descriptor.keras",
                                                        "denoiser": None}))
    (pipeline / "descriptor.keras").write_bytes(b"not a zip")
    (in_dir / "mine").mkdir()
    (in_dir / "mine" / "thesis.tex").write_text("years of work")
    (in_dir / "old.onnx").write_bytes(b"onnx?")
    saved = in_dir / "saved"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"pb")


CASES = [
    BadInput("unknown-format", M, ["default", "{work}/m.onnx", "--format", "tflite"], 2, r"--format.*invalid choice"),
    BadInput("format-missing", M, ["default", "{work}/m.onnx"], 2, r"--format"),
    BadInput("quantize-onnx", M, ["default", "{work}/m.onnx", "--format", "onnx", "--quantize", "int8"], 2,
             r"quantize.*LiteRT format only.*format='onnx'"),
    BadInput("unknown-quantize", M, ["default", "{work}/m.tflite", "--format", "litert", "--quantize", "int4"], 2,
             r"--quantize.*invalid choice"),
    BadInput("wrong-suffix-onnx", M, ["default", "{work}/m.tflite", "--format", "onnx"], 2,
             r"must be a file ending in '\.onnx'.*m\.tflite"),
    BadInput("wrong-suffix-litert", M, ["default", "{work}/m", "--format", "litert"], 2, r"ending in '\.tflite'"),
    BadInput("negative-check", M, ["default", "{work}/m.onnx", "--format", "onnx", "--check", "-1"], 2,
             r"--check.*>= 0.*-1"),
    BadInput("model-missing", M, ["{in}/nope", "{work}/m.onnx", "--format", "onnx"], 2, r"model.*nope"),
    BadInput("model-sift", M, ["sift", "{work}/m.onnx", "--format", "onnx"], 2, r"model.*'sift'"),
    BadInput("model-is-exported", M, ["{in}/saved", "{work}/m.onnx", "--format", "onnx"], 2, r"model.*saved",
             setup=_inputs),
    BadInput("model-damaged", M, ["{in}/pipe", "{work}/m.onnx", "--format", "onnx"], 2, r"descriptor\.keras",
             setup=_inputs),
    BadInput("out-is-a-folder", M, ["default", "{in}/mine.onnx", "--format", "onnx"], 2, r"existing folder",
             setup=lambda d: (_inputs(d), (d / "mine.onnx").mkdir())[0]),
    BadInput("saved-model-onto-foreign-folder", M, ["default", "{in}/mine", "--format", "saved_model",
                                                    "--overwrite"], 2, r"mine", setup=_inputs),
    BadInput("out-inside-model", M, ["{in}/pipe", "{in}/pipe/m.onnx", "--format", "onnx"], 2, r"input",
             setup=_inputs),
    BadInput("unwritable-out", M, ["default", "{in}/old.onnx/m.onnx", "--format", "onnx"], 2, r"old\.onnx",
             setup=_inputs),
    BadInput("subprocess-quantize-saved-model", M, ["default", "{work}/sm", "--format", "saved_model",
                                                    "--quantize", "float16"], 2, r"LiteRT format only", subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
