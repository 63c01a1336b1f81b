"""Bad inputs of `python -m descriptors.train`: exit status, one-line message, nothing written, before any work.

Every case fails before a model is built or a patch is read (the datasets here hold no patches at all): config
types and ranges, splits, output folders, damaged run folders to resume, and a warm start refused by Keras safe
mode. The NaN-loss case needs a real training run and is tested in `tests/training/test_divergence.py`.
"""

import json

import pytest
from bad_input_harness import BadInput

from descriptors.training.config import TrainConfig

M = "descriptors.train"
SPLITS = {"default": {"test": ["v_b"], "train": ["v_a"]}}


def _dataset(in_dir, splits=None):
    """A dataset folder as descriptors.data.build writes it, minus the patches (every case fails before them)."""
    root = in_dir / "ds"
    (root / "nhpatches").mkdir(parents=True)
    (root / "tasks" / "splits").mkdir(parents=True)
    (root / "tasks" / "splits" / "splits.json").write_text(json.dumps(splits or SPLITS))
    return {"ds": root}


def _config_file(text):
    def setup(in_dir):
        (in_dir / "c.json").write_text(text if isinstance(text, str) else json.dumps(text))

    return setup


def _run_folder(state=None, config_text=None, checkpoint=None, **options):
    """A run folder ``{in}/run`` of ``--data {in}/ds`` (plus ``options``) with the given state / checkpoint."""

    def setup(in_dir):
        values = _dataset(in_dir)
        run = in_dir / "run"
        (run / "checkpoints").mkdir(parents=True)
        config = TrainConfig(data=str(values["ds"]), **options).to_dict()
        (run / "config.json").write_text(config_text if config_text is not None else json.dumps(config))
        if state is not None:
            (run / "state.json").write_text(state if isinstance(state, str) else json.dumps(state))
        if checkpoint is not None:
            (run / "checkpoints" / "descriptor-epoch1.keras").write_bytes(checkpoint)
        return values

    return setup


def _truncated_keras():
    """The first half of a real .keras archive (as left by a full disk or a killed copy)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", json.dumps({"class_name": "x"}) * 50)
        archive.writestr("model.weights.h5", bytes(range(256)) * 40)
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


def _foreign_folder(in_dir):
    values = _dataset(in_dir)
    (in_dir / "mine").mkdir()
    (in_dir / "mine" / "notes.txt").write_text("not a run")
    return values


def _file(in_dir):
    values = _dataset(in_dir)
    (in_dir / "file").write_text("x")
    return values


def _crafted_pipeline(in_dir):
    """``{in}/crafted``: a pipeline whose descriptor is a Lambda layer (Python code in the model file)."""
    import keras

    from descriptors.models.pipeline import DescriptorPipeline

    values = _dataset(in_dir)
    inputs = keras.Input((32, 32, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2.0)(inputs)))
    DescriptorPipeline(model).save(in_dir / "crafted")
    return values


def _empty_folder(in_dir):
    (in_dir / "empty").mkdir()
    return _dataset(in_dir)


DATA = ["--data", "{in}/ds"]
STATE_1 = {"descriptor": {"epochs_done": 1, "checkpoint": "checkpoints/descriptor-epoch1.keras", "best_val": 0.5}}

CASES = [
    BadInput("train-unknown-flag", M, ["--bogus"], 2, r"unrecognized arguments: --bogus"),
    BadInput("train-epochs-zero", M, ["--epochs", "0"], 2,
             r"`epochs` must be an integer >= 1\. Received: epochs=0 \(int\)"),
    BadInput("train-epochs-not-int", M, ["--epochs", "three"], 2, r"argument --epochs: invalid int value: 'three'"),
    BadInput("train-learning-rate-inf", M, ["--learning-rate", "inf"], 2,
             r"`learning_rate` must be a finite number > 0\. Received: learning_rate=inf \(float\)"),
    BadInput("train-learning-rate-nan", M, ["--learning-rate", "nan"], 2,
             r"`learning_rate` must be a finite number > 0\. Received: learning_rate=nan", subprocess=True),
    BadInput("train-max-train-tracks-zero", M, ["--max-train-tracks", "0"], 2,
             r"`max_train_tracks` must be an integer >= 3 or null"),
    BadInput("train-config-augment-no", M, ["--config", "{in}/c.json"], 2,
             r"`augment` must be true or false \(not 0/1 or a string\)\. Received: augment='no' \(str\)",
             setup=_config_file({"augment": "no"})),
    BadInput("train-config-epochs-string", M, ["--config", "{in}/c.json"], 2,
             r"`epochs` must be an integer >= 1\. Received: epochs='3' \(str\)", setup=_config_file({"epochs": "3"})),
    BadInput("train-config-batch-size-float", M, ["--config", "{in}/c.json"], 2,
             r"`batch_size` must be an integer >= 2\. Received: batch_size=3\.5 \(float\)",
             setup=_config_file({"batch_size": 3.5})),
    BadInput("train-config-seed-string", M, ["--config", "{in}/c.json"], 2,
             r"`seed` must be an integer in \[0, 4294967295\]\. Received: seed='abc'",
             setup=_config_file({"seed": "abc"})),
    BadInput("train-config-bool-as-int", M, ["--config", "{in}/c.json"], 2,
             r"`evaluate` must be true or false .*Received: evaluate=1 \(int\)", setup=_config_file({"evaluate": 1})),
    BadInput("train-config-null-epochs", M, ["--config", "{in}/c.json"], 2,
             r"`epochs` must be an integer >= 1\. Received: epochs=None", setup=_config_file({"epochs": None})),
    BadInput("train-config-list-for-scalar", M, ["--config", "{in}/c.json"], 2,
             r"`margin` must be a finite number > 0\. Received: margin=\[1\] \(list\)",
             setup=_config_file({"margin": [1]})),
    BadInput("train-config-nan-literal", M, ["--config", "{in}/c.json"], 2, r"c\.json is not valid JSON: NaN",
             setup=_config_file('{"learning_rate": NaN}')),
    BadInput("train-config-not-json", M, ["--config", "{in}/c.json"], 2, r"c\.json is not valid JSON",
             setup=_config_file("{not json")),
    BadInput("train-config-missing", M, ["--config", "{in}/none.json"], 2, r"Config file not found: .*none\.json"),
    BadInput("train-config-unknown-key", M, ["--config", "{in}/c.json"], 2, r"Unknown config keys \['bogus'\]",
             setup=_config_file({"bogus": 1})),
    BadInput("train-split-unknown-default-data", M, ["--split", "zzz"], 2,
             r"`split` must be one of the splits of the data 'default': \['default'\]\. Received: split='zzz'"),
    BadInput("train-split-unknown", M, [*DATA, "--split", "zzz"], 2,
             r"`split` must be one of the splits of the data '.*ds': \['default'\]\. Received: split='zzz'",
             setup=_dataset),
    BadInput("train-split-unknown-official", M, ["--data", "nhpatches", "--data-dir", "{in}", "--split", "zzz"], 2,
             r"`split` must be one of the splits of the data 'nhpatches': \['a', 'b', 'c', .*Received: split='zzz'"),
    BadInput("train-split-without-train-sequences", M, DATA, 2,
             r"The split 'default' of the data '.*ds' has no training sequences",
             setup=lambda d: _dataset(d, {"default": {"test": ["v_a"], "train": []}})),
    BadInput("train-split-without-test-sequences", M, DATA, 2,
             r"The split 'default' .* has no test sequences to evaluate on: pass --no-evaluate",
             setup=lambda d: _dataset(d, {"default": {"test": [], "train": ["v_a"]}})),
    BadInput("train-data-not-a-dataset", M, ["--data", "{in}/empty"], 2,
             r"empty is not a dataset built by descriptors\.data\.build", setup=_empty_folder),
    BadInput("train-output-dir-is-a-file", M, [*DATA, "--output-dir", "{in}/file"], 2,
             r"`--output-dir` must be a folder, but .*file' is an existing file", setup=_file),
    BadInput("train-output-dir-under-a-file", M, [*DATA, "--output-dir", "{in}/file/run"], 2,
             r"`--output-dir` cannot be created: .*file' is a file, not a folder", setup=_file),
    BadInput("train-output-dir-foreign-folder", M, [*DATA, "--output-dir", "{in}/mine"], 2,
             r"`--output-dir` .*mine' already exists and is not a run folder of this tool", setup=_foreign_folder),
    BadInput("train-output-dir-is-the-dataset", M, [*DATA, "--output-dir", "{in}/ds"], 2,
             r"`--output-dir` is the input .*ds", setup=_dataset),
    BadInput("train-run-exists-without-resume", M, [*DATA, "--output-dir", "{in}/run"], 2,
             r"already holds a run: pass --resume", setup=_run_folder(state=STATE_1)),
    BadInput("train-resume-with-other-options", M, [*DATA, "--epochs", "3", "--resume", "--output-dir", "{in}/run"], 2,
             r"Cannot resume .*run with different options \['epochs'\]: the run was started with epochs=10",
             setup=_run_folder(state=STATE_1)),
    BadInput("train-resume-truncated-state", M, [*DATA, "--resume", "--output-dir", "{in}/run"], 2,
             r"Cannot resume the run in .*run': .*state\.json' is not valid JSON",
             setup=_run_folder(state='{"descriptor": {"epochs_do')),
    BadInput("train-resume-state-not-an-object", M, [*DATA, "--resume", "--output-dir", "{in}/run"], 2,
             r"state\.json' has an invalid entry for the stage 'descriptor'",
             setup=_run_folder(state={"descriptor": {"epochs_done": "1"}})),
    BadInput("train-resume-truncated-checkpoint", M, [*DATA, "--resume", "--output-dir", "{in}/run"], 2,
             r"Cannot resume the run in .*checkpoints/descriptor-epoch1\.keras' is not a complete \.keras archive",
             setup=_run_folder(state=STATE_1, checkpoint=_truncated_keras())),
    BadInput("train-resume-missing-checkpoint", M, [*DATA, "--resume", "--output-dir", "{in}/run"], 2,
             r"descriptor-epoch1\.keras' is missing", setup=_run_folder(state=STATE_1)),
    BadInput("train-resume-garbage-config", M, [*DATA, "--resume", "--output-dir", "{in}/run"], 2,
             r"Cannot resume the run in .*config\.json' is not valid JSON",
             setup=_run_folder(state=STATE_1, config_text="\x00\x01garbage")),
    BadInput("train-init-from-not-a-pipeline", M, [*DATA, "--init-from", "{in}/empty"], 2,
             r"`init_from` must be a saved pipeline folder \(with pipeline\.json\)", setup=_empty_folder),
    BadInput("train-init-from-refused-by-safe-mode", M, [*DATA, "--denoiser", "none", "--init-from", "{in}/crafted"],
             1, r"crafted/descriptor\.keras' was refused by Keras safe mode: Requested the deserialization of a "
                r"`Lambda` layer", setup=_crafted_pipeline),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
