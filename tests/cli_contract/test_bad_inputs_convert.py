"""Bad inputs of `python -m descriptors.convert`: exit status, one-line message, inputs and outputs untouched."""

import json

import numpy as np
import pytest
from bad_input_harness import BadInput

M = "descriptors.convert"


def _inputs(in_dir):
    torch = pytest.importorskip("torch")
    in_dir.mkdir(parents=True, exist_ok=True)
    (in_dir / "text.pth").write_text("not torch")
    torch.save({"features.0.weight": torch.zeros(32, 3, 3, 3)}, in_dir / "wrong.pth")
    torch.save({"w": torch.zeros(2)}, in_dir / "small.pth")
    (in_dir / "mine").mkdir()
    (in_dir / "mine" / "thesis.tex").write_text("years of work")
    pipeline = in_dir / "pipe"
    pipeline.mkdir()
    (pipeline / "pipeline.json").write_text(json.dumps({"format_version": 1, "descriptor": "descriptor.keras",
                                                        "denoiser": None}))
    np.save(in_dir / "array.npy", np.zeros(3))


CASES = [
    BadInput("convert-arch-missing", M, ["{in}/small.pth", "{work}/out"], 2, r"--arch", setup=_inputs),
    BadInput("convert-unknown-arch", M, ["{in}/small.pth", "{work}/out", "--arch", "hardnet8"], 2,
             r"--arch.*invalid choice.*hardnet8", setup=_inputs),
    BadInput("convert-source-missing", M, ["{in}/nope.pth", "{work}/out", "--arch", "hardnet"], 2,
             r"source.*nope\.pth.*no such file"),
    BadInput("convert-source-folder", M, ["{in}/mine", "{work}/out", "--arch", "hardnet"], 2,
             r"source.*mine.*a folder", setup=_inputs),
    BadInput("convert-bad-epsilon", M, ["{in}/small.pth", "{work}/out", "--arch", "l2net", "--bn-epsilon", "0"], 2,
             r"--bn-epsilon.*positive.*0\.0", setup=_inputs),
    BadInput("convert-nan-epsilon", M, ["{in}/small.pth", "{work}/out", "--arch", "l2net", "--bn-epsilon", "nan"],
             2, r"--bn-epsilon", setup=_inputs),
    BadInput("convert-not-torch", M, ["{in}/text.pth", "{work}/out", "--arch", "hardnet"], 2,
             r"text\.pth.*not a PyTorch state dict", setup=_inputs),
    BadInput("convert-numpy-file", M, ["{in}/array.npy", "{work}/out", "--arch", "hardnet"], 2,
             r"array\.npy.*not a PyTorch state dict", setup=_inputs),
    BadInput("convert-wrong-shapes", M, ["{in}/wrong.pth", "{work}/out", "--arch", "hardnet"], 2,
             r"wrong\.pth.*'features\.0' must be the conv 1->32 3x3 of hardnet.*\(32, 3, 3, 3\)", setup=_inputs),
    BadInput("convert-too-small", M, ["{in}/small.pth", "{work}/out", "--arch", "tfeat"], 2,
             r"small\.pth.*must be the conv 1->N 7x7 of tfeat", setup=_inputs),
    BadInput("convert-onto-foreign-folder", M, ["{in}/small.pth", "{in}/mine", "--arch", "hardnet", "--overwrite"],
             2, r"mine", setup=_inputs),
    BadInput("convert-onto-pipeline-without-overwrite", M, ["{in}/small.pth", "{in}/pipe", "--arch", "hardnet"], 2,
             r"pipe.*--overwrite", setup=_inputs),
    BadInput("convert-out-is-source", M, ["{in}/small.pth", "{in}/small.pth", "--arch", "hardnet"], 2,
             r"small\.pth", setup=_inputs),
    BadInput("convert-unwritable-out", M, ["{in}/small.pth", "{in}/text.pth/out", "--arch", "hardnet"], 2,
             r"text\.pth", setup=_inputs),
    BadInput("subprocess-convert-bad-epsilon", M, ["{in}/small.pth", "{work}/out", "--arch", "sosnet",
                                                   "--bn-epsilon", "-1"], 2, r"--bn-epsilon.*-1\.0",
             setup=_inputs, subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
