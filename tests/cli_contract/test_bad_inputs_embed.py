"""Bad inputs of `python -m descriptors.embed`: exit status, one-line message, nothing written, before any work.

Every case fails before the images are read or a model is built.
"""

import json

import pytest
from bad_input_harness import BadInput

from descriptors.embeddings.config import EmbedConfig

M = "descriptors.embed"


def _config_file(values):
    def setup(in_dir):
        (in_dir / "c.json").write_text(json.dumps(values))

    return setup


def _files(in_dir):
    (in_dir / "file").write_text("x")
    (in_dir / "mine").mkdir()
    (in_dir / "mine" / "notes.txt").write_text("not a run")


def _run_folder(state):
    def setup(in_dir):
        run = in_dir / "run"
        run.mkdir()
        (run / "config.json").write_text(json.dumps(EmbedConfig().to_dict()))
        (run / "state.json").write_text(state)

    return setup


CASES = [
    BadInput("embed-unknown-flag", M, ["--bogus"], 2, r"unrecognized arguments: --bogus"),
    BadInput("embed-image-size-below-the-backbone-minimum", M, ["--image-size", "3", "--max-images", "60"], 2,
             r"input_shape.*H, W >= 32"),
    BadInput("embed-epochs-zero", M, ["--epochs", "0"], 2, r"`epochs` must be an integer >= 1\. Received: epochs=0"),
    BadInput("embed-learning-rate-nan", M, ["--learning-rate", "nan"], 2,
             r"`learning_rate` must be a finite number > 0\. Received: learning_rate=nan", subprocess=True),
    BadInput("embed-magnitude-too-large", M, ["--magnitude", "2"], 2,
             r"`magnitude` must be a finite number in \(0, 1\]\. Received: magnitude=2\.0"),
    BadInput("embed-channels", M, ["--channels", "2"], 2, r"argument --channels: invalid choice: 2"),
    BadInput("embed-max-images-below-2p", M, ["--max-images", "5"], 2, r"`max_images` must be at least 2 \* p"),
    BadInput("embed-ntxent-needs-two-views", M, ["--loss", "ntxent", "--k", "4"], 2,
             r"`k` must be 2 with loss='ntxent'.*Received: k=4"),
    BadInput("embed-backbone-options-not-object", M, ["--backbone-options", "[1]"], 2,
             r"argument --backbone-options: must be a JSON object"),
    BadInput("embed-config-augment-bool", M, ["--config", "{in}/c.json"], 2,
             r"`augment` must be a string\. Received: augment=True \(bool\)", setup=_config_file({"augment": True})),
    BadInput("embed-config-p-string", M, ["--config", "{in}/c.json"], 2,
             r"`p` must be an integer >= 2\. Received: p='3' \(str\)", setup=_config_file({"p": "3"})),
    BadInput("embed-config-tsne-int", M, ["--config", "{in}/c.json"], 2,
             r"`tsne` must be true or false .*Received: tsne=1 \(int\)", setup=_config_file({"tsne": 1})),
    BadInput("embed-config-epochs-float", M, ["--config", "{in}/c.json"], 2,
             r"`epochs` must be an integer >= 1\. Received: epochs=2\.0 \(float\)",
             setup=_config_file({"epochs": 2.0})),
    BadInput("embed-data-missing", M, ["--data", "{in}/nope"], 2, r"`data` must be one of .* an image folder or cifar:DIR"),
    BadInput("embed-weights-missing", M, ["--weights", "{in}/none.keras"], 2, r"`weights` must be a local file"),
    BadInput("embed-output-dir-is-a-file", M, ["--output-dir", "{in}/file"], 2,
             r"`--output-dir` must be a folder, but .*file' is an existing file", setup=_files),
    BadInput("embed-output-dir-foreign-folder", M, ["--output-dir", "{in}/mine"], 2,
             r"`--output-dir` .*mine' already exists and is not a run folder of this tool", setup=_files),
    BadInput("embed-resume-truncated-state", M, ["--resume", "--output-dir", "{in}/run"], 2,
             r"Cannot resume the run in .*run': .*state\.json' is not valid JSON",
             setup=_run_folder('{"embedder": {"epo')),
    BadInput("embed-run-exists-without-resume", M, ["--output-dir", "{in}/run"], 2,
             r"already holds a run: pass --resume", setup=_run_folder("{}")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
