"""Bad inputs of `python -m descriptors.average`: exit status, one-line message, OUT_DIR and inputs untouched.

All but the safe-mode case fail before any model is loaded (the pipelines here are manifests only).
"""

import json

import pytest
from bad_input_harness import BadInput

M = "descriptors.average"


def _manifest(folder):
    folder.mkdir(parents=True)
    (folder / "pipeline.json").write_text(json.dumps({"format_version": 1, "descriptor": "descriptor.keras",
                                                      "denoiser": None}))
    (folder / "descriptor.keras").write_bytes(b"PK\x05\x06" + bytes(18))  # never loaded by these cases


def _pipelines(in_dir):
    for name in ("p1", "p2", "p3"):
        _manifest(in_dir / name)
    (in_dir / "file").write_text("x")
    (in_dir / "mine").mkdir()
    (in_dir / "mine" / "thesis.tex").write_text("years of work")


def _crafted(in_dir):
    """``{in}/crafted``: a pipeline whose descriptor is a Lambda layer (Python code in the model file)."""
    import keras

    from descriptors.models.pipeline import DescriptorPipeline

    _pipelines(in_dir)
    inputs = keras.Input((32, 32, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(keras.layers.Lambda(lambda x: x + 1.0)(inputs)))
    DescriptorPipeline(model).save(in_dir / "crafted")


def _escaping_manifest(in_dir):
    _pipelines(in_dir)
    (in_dir / "p2" / "pipeline.json").write_text(json.dumps({"format_version": 1, "descriptor": "../../x.keras"}))


def _missing_model_file(in_dir):
    _pipelines(in_dir)
    (in_dir / "p2" / "descriptor.keras").unlink()


P = ["{in}/p1", "{in}/p2"]
CASES = [
    BadInput("average-one-pipeline", M, ["{in}/soup", "{in}/p1"], 2, r"needs at least two pipeline folders, got 1",
             setup=_pipelines),
    BadInput("average-missing-input", M, ["{in}/soup", "{in}/p1", "{in}/missing"], 2,
             r"'.*missing' is not a saved pipeline folder \(no pipeline\.json\)", setup=_pipelines),
    BadInput("average-weights-count", M, ["{in}/soup", *P, "--weights", "1"], 2,
             r"--weights needs one value per pipeline \(2\), got 1", setup=_pipelines),
    BadInput("average-weights-nan", M, ["{in}/soup", *P, "--weights", "nan", "1"], 2,
             r"--weights must be finite non-negative numbers, not all zero\. Received: --weights nan 1\.0",
             setup=_pipelines, subprocess=True),
    BadInput("average-weights-negative", M, ["{in}/soup", *P, "--weights", "-1", "2"], 2,
             r"--weights must be finite non-negative numbers", setup=_pipelines),
    BadInput("average-weights-all-zero", M, ["{in}/soup", *P, "--weights", "0", "0"], 2,
             r"--weights must be finite non-negative numbers, not all zero", setup=_pipelines),
    BadInput("average-out-is-an-input", M, ["{in}/p1", *P], 2, r"`OUT_DIR` is the input '.*p1'", setup=_pipelines),
    BadInput("average-out-inside-an-input", M, ["{in}/p1/soup", *P], 2, r"`OUT_DIR` lies inside the input '.*p1'",
             setup=_pipelines),
    BadInput("average-out-foreign-folder", M, ["{in}/mine", *P, "--overwrite"], 2,
             r"`OUT_DIR` '.*mine' already exists and was not written by this tool", setup=_pipelines),
    BadInput("average-out-existing-pipeline", M, ["{in}/p3", *P], 2,
             r"`OUT_DIR` '.*p3' already holds a pipeline: pass --overwrite", setup=_pipelines),
    BadInput("average-out-is-a-file", M, ["{in}/file", *P], 2,
             r"`OUT_DIR` must be a folder, but .*file' is an existing",
             setup=_pipelines),
    BadInput("average-out-under-a-file", M, ["{in}/file/soup", *P], 2,
             r"`OUT_DIR` cannot be created: .*file' is a file",
             setup=_pipelines),
    BadInput("average-manifest-points-outside-its-folder", M, ["{in}/soup", *P], 2,
             r"`descriptor` in .*p2/pipeline.json' must be the name of a .keras file in that folder",
             setup=_escaping_manifest),
    BadInput("average-manifest-names-a-missing-model", M, ["{in}/soup", *P], 2,
             r"p2'.*names 'descriptor.keras', which is missing", setup=_missing_model_file),
    BadInput("average-input-refused-by-safe-mode", M, ["{in}/soup", "{in}/crafted", "{in}/p1"], 1,
             r"crafted/descriptor\.keras' was refused by Keras safe mode: Requested the deserialization of a "
             r"`Lambda` layer", setup=_crafted),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
