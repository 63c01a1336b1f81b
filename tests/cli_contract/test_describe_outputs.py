"""`descriptors.describe` outputs: replaced only when ours, never NaN, no staging left behind by killed runs."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from descriptors.describe import check_finite, describe_dataset, main
from hpatches_eval.cli_contract import UsageError
from hpatches_eval.output_safety import MARKER, read_marker
from hpatches_eval.patch_types import PATCH_TYPES


@pytest.fixture
def dataset(tmp_path):
    rng = np.random.default_rng(0)
    seq = tmp_path / "ds" / "v_seq"
    seq.mkdir(parents=True)
    for patch_type in PATCH_TYPES:
        cv2.imwrite(str(seq / f"{patch_type}.png"), rng.integers(0, 255, size=(3 * 65, 65)).astype(np.uint8))
    return tmp_path / "ds"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_overwrite_replaces_only_our_own_descriptor_set(dataset, tmp_path):
    out = tmp_path / "descr"
    assert main([str(dataset), "--out", str(out), "--model", "sift", "--quiet"]) == 0
    assert read_marker(out)["kind"] == "descriptor-set"
    first = np.loadtxt(out / "v_seq" / "e1.csv", delimiter=",")
    assert main([str(dataset), "--out", str(out), "--model", "sift", "--quiet"]) == 2  # exists, no --overwrite
    (out / "v_seq" / "e1.csv").write_text("stale")
    assert main([str(dataset), "--out", str(out), "--model", "sift", "--quiet", "--overwrite"]) == 0
    np.testing.assert_array_equal(np.loadtxt(out / "v_seq" / "e1.csv", delimiter=","), first)


def test_each_patch_type_gets_its_own_descriptors(tmp_path):
    seq = tmp_path / "ds" / "v_seq"
    seq.mkdir(parents=True)
    for index, patch_type in enumerate(PATCH_TYPES):  # patch type i: constant patches of value 10 * i
        cv2.imwrite(str(seq / f"{patch_type}.png"), np.full((2 * 65, 65), 10 * index, np.uint8))

    def mean_and_type(patches):
        return np.stack([patches.mean(axis=(1, 2)), np.ones(len(patches))], axis=1)

    describe_dataset(mean_and_type, tmp_path / "ds", tmp_path / "descr", noisy=False, delimiter=",", verbose=False)
    for index, patch_type in enumerate(PATCH_TYPES):
        values = np.loadtxt(tmp_path / "descr" / "v_seq" / f"{patch_type}.csv", delimiter=",")
        np.testing.assert_allclose(values[:, 0], 10 * index)


def test_nan_descriptors_are_refused_and_nothing_is_written(dataset, tmp_path, capsys):
    def diverged(patches):
        codes = np.ones((len(patches), 4), np.float32)
        codes[-1, 2] = np.nan
        return codes

    with pytest.raises(ValueError, match=r"NaN or infinite descriptors for 1 of"):
        describe_dataset(diverged, dataset, tmp_path / "descr", noisy=False, delimiter=",", verbose=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
    with pytest.raises(ValueError, match="v_seq/ref"):
        check_finite(np.array([[1.0, np.inf]], np.float32), "v_seq/ref")


def test_api_refuses_an_unrelated_folder(dataset, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("x")
    with pytest.raises(UsageError, match="not written by this tool"):
        describe_dataset(np.zeros_like, dataset, mine, noisy=False, delimiter=",", verbose=False, overwrite=True)
    assert (mine / "keep.txt").read_text() == "x"


def test_staging_left_by_a_killed_run_is_removed_and_a_live_one_kept(dataset, tmp_path):
    dead = tmp_path / f".descr.tmp-{_dead_pid()}-abcd"
    live = tmp_path / f".descr.tmp-{os.getpid()}-beef"
    for folder in (dead, live):
        (folder / "v_seq").mkdir(parents=True)
    assert main([str(dataset), "--out", str(tmp_path / "descr"), "--model", "sift", "--quiet"]) == 0
    assert not dead.exists() and live.is_dir()
    assert json.loads((tmp_path / "descr" / MARKER).read_text())["sequences"] == 1
