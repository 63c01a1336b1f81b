"""`benchmarks/weights_digest.py`: the check that a rerun of the README's default command trained the same weights."""

import hashlib
import json
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import weights_digest  # noqa: E402


def _tiny_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Dense(5)(inputs)))


def _run_dir(tmp_path: Path, model: keras.Model, name: str = "run") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    model.save(folder / "descriptor.keras")
    return folder


def test_digest_is_sha256_of_the_concatenated_weight_bytes():
    weights = [np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1.5, -2.0], dtype=np.float32)]
    by_hand = hashlib.sha256(weights[0].tobytes() + weights[1].tobytes()).hexdigest()
    assert weights_digest.weights_sha256(weights) == by_hand
    # C order whatever the memory layout: a transposed view hashes as its contiguous copy
    transposed = np.arange(6, dtype=np.float32).reshape(3, 2).T
    assert weights_digest.weights_sha256([transposed]) == hashlib.sha256(transposed.copy().tobytes()).hexdigest()


def test_one_ulp_in_one_weight_changes_the_digest(tmp_path):
    model = _tiny_model(0)
    before = weights_digest.run_digests(_run_dir(tmp_path, model, "a"))["descriptor.keras"]
    kernel = model.weights[0].numpy()
    kernel[1, 2] = np.nextafter(kernel[1, 2], np.float32(np.inf))
    model.weights[0].assign(kernel)
    after = weights_digest.run_digests(_run_dir(tmp_path, model, "b"))["descriptor.keras"]
    assert before != after


@pytest.mark.parametrize("case, expected_rc", [("same", 0), ("other_weights", 1), ("missing_file", 1)])
def test_expect_exit_codes(tmp_path, capsys, case, expected_rc):
    run = _run_dir(tmp_path, _tiny_model(0))
    reference = weights_digest.run_digests(run)
    if case == "other_weights":
        reference = weights_digest.run_digests(_run_dir(tmp_path, _tiny_model(1), "other"))
    if case == "missing_file":
        reference["denoiser.keras"] = "0" * 64
    expect = tmp_path / "expected.json"
    expect.write_text(json.dumps({"weights_sha256": reference}))
    assert weights_digest.main([str(run), "--expect", str(expect)]) == expected_rc
    out = capsys.readouterr().out
    assert ("identical to" in out) == (expected_rc == 0)
    if case == "missing_file":
        assert "denoiser.keras missing in RUN" in out


@pytest.mark.parametrize("case", ["no_run_folder", "run_without_models", "expect_not_json", "expect_without_digests"])
def test_bad_inputs_are_one_line_errors(tmp_path, capsys, case):
    run = _run_dir(tmp_path, _tiny_model(0))
    expect = tmp_path / "expected.json"
    expect.write_text("not json" if case == "expect_not_json" else json.dumps({"weights_sha256": {}}))
    argv = {"no_run_folder": [str(tmp_path / "absent")], "run_without_models": [str(tmp_path)],
            "expect_not_json": [str(run), "--expect", str(expect)],
            "expect_without_digests": [str(run), "--expect", str(expect)]}[case]
    assert weights_digest.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python benchmarks/weights_digest.py: error:")
    assert ("--expect" in err[0]) == case.startswith("expect")
