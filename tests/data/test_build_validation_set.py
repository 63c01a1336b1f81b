"""`benchmarks/build_validation_set.py`: the held-out photographs that choose a shipped model never overlap a test set."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import build_validation_set  # noqa: E402

from descriptors.data.default import PHOTOS, photo_split  # noqa: E402
from descriptors.data.default_wide import NEW_PHOTOS, wide_sequences  # noqa: E402
from hpatches_eval.cli_contract import UsageError  # noqa: E402


def test_validation_photos_are_held_out_and_default_test_sequences_are_left_out():
    loaders, val = build_validation_set.validation_loaders(["china", "grace_hopper"], seed=0)
    names = [loader.sequence_name for loader in loaders]
    assert val == ["i_china", "v_china", "i_grace_hopper", "v_grace_hopper"]
    assert set(val) <= set(names)
    left_out = {loader.sequence_name for loader in wide_sequences(0)} - set(names)
    # exactly default-v1's 12 test sequences are left out, nothing else
    assert left_out == set(photo_split(list(PHOTOS), 0))
    assert len(left_out) == 12 and len(names) == 30
    # every other new photograph stays in training
    assert {f"{kind}_{stem}" for stem in NEW_PHOTOS if stem not in ("china", "grace_hopper") for kind in "iv"} <= (
        set(names) - set(val))


@pytest.mark.parametrize("photos", [["astronaut"], ["china", "china"], [], ["clock", "nope"]])
def test_bad_validation_photos_are_refused_before_any_work(photos):
    with pytest.raises(UsageError, match="--val-photos"):
        build_validation_set.validation_loaders(photos, seed=0)


def test_cli_refuses_a_non_empty_output_folder_in_one_line(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert build_validation_set.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "new or empty folder" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
