"""`python -m descriptors.describe`: the shipped model on a patch file and on a dataset, and its errors."""

import cv2
import numpy as np
import pytest

from descriptors.describe import main
from descriptors.pretrained import load_default_pipeline
from hpatches_eval.patch_types import PATCH_TYPES


@pytest.fixture
def patch_png(tmp_path):
    rng = np.random.default_rng(0)
    patches = rng.integers(0, 255, size=(6, 65, 65)).astype(np.uint8)
    path = tmp_path / "ref.png"
    cv2.imwrite(str(path), patches.reshape(6 * 65, 65))
    return path, patches


def test_describe_a_patch_file_matches_the_pipeline(patch_png, tmp_path):
    path, patches = patch_png
    assert main([str(path), "--out", str(tmp_path / "d.csv"), "--quiet"]) == 0
    written = np.loadtxt(tmp_path / "d.csv", delimiter=",")
    expected = load_default_pipeline()(patches)
    assert written.shape == (6, 128)
    np.testing.assert_allclose(written, expected, atol=2e-6)
    np.testing.assert_allclose(np.linalg.norm(written, axis=1), 1.0, atol=1e-4)


def test_describe_a_dataset_writes_the_official_csv_layout(patch_png, tmp_path):
    path, patches = patch_png
    seq = tmp_path / "data" / "v_test"
    seq.mkdir(parents=True)
    for patch_type in PATCH_TYPES:
        cv2.imwrite(str(seq / f"{patch_type}.png"), patches.reshape(-1, 65))
    out = tmp_path / "descr" / "ours"
    assert main([str(tmp_path / "data"), "--out", str(out), "--model", "sift", "--delimiter", ";", "--quiet"]) == 0
    assert sorted(p.name for p in (out / "v_test").iterdir()) == sorted(f"{t}.csv" for t in PATCH_TYPES)
    assert np.loadtxt(out / "v_test" / "t5.csv", delimiter=";").shape == (6, 128)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_describe_errors_exit_non_zero_with_a_message(tmp_path, capsys):
    assert main([str(tmp_path / "missing.png"), "--out", str(tmp_path / "x.csv")]) == 2
    assert "input not found" in capsys.readouterr().err
    bad = tmp_path / "bad.png"
    cv2.imwrite(str(bad), np.zeros((100, 65), np.uint8))  # 100 is not a multiple of 65
    assert main([str(bad), "--out", str(tmp_path / "x.csv")]) == 2  # found before loading the model
    assert "bad.png" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
    assert main([str(bad), "--out", str(tmp_path / "x.csv"), "--model", str(tmp_path / "nope")]) == 2
