"""Each of the 16 patch types gets the descriptors of its own patches, from the patch files to the scores.

A tiny HPatches-format folder is written where every patch says who it is: its top half holds a "track" grey
level (sequence, row and, for the hard and tough levels, a row shift) and its bottom half a grey level unique to
the patch type. The describer returns ``[mean of top half, mean of bottom half]``, so every descriptor can be
checked exactly. A describer path that hands every patch type the ``ref`` descriptors (or swaps two types,
sequences or rows) turns these tests red.
"""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from descriptors.data.formats import HPatchesRelease
from descriptors.evaluation import describe_sequences, evaluate_descriptor
from hpatches_eval import from_callable
from hpatches_eval.patch_types import PATCH_TYPES
from hpatches_eval.splits import Split

SEQUENCES = ("i_alpha", "v_beta")
ROWS = 4
SIDE = 8
# Row shift per level: the target patch of row r shows the track of row (r + shift) % ROWS.
SHIFT = {"r": 0, "e": 0, "h": 1, "t": 2}


def type_level(patch_type: str) -> int:
    """Grey level of the bottom half of every patch of ``patch_type`` (unique per type)."""
    return 10 + 15 * PATCH_TYPES.index(patch_type)


def track_levels(seq_index: int, patch_type: str) -> np.ndarray:
    """Grey levels of the top halves of the ROWS patches of one file (unique per sequence and row)."""
    rows = (np.arange(ROWS) + SHIFT[patch_type[0]]) % ROWS
    return (40 + 60 * seq_index + 10 * rows).astype(np.float32)


@pytest.fixture
def release(tmp_path) -> HPatchesRelease:
    """The folder ``<tmp>/hpatches-release/<seq>/<type>.png`` (ROWS patches of SIDE px stacked vertically)."""
    root = tmp_path / "hpatches-release"
    for s, seq in enumerate(SEQUENCES):
        (root / seq).mkdir(parents=True)
        for patch_type in PATCH_TYPES:
            patches = np.empty((ROWS, SIDE, SIDE), np.uint8)
            patches[:, : SIDE // 2] = track_levels(s, patch_type).astype(np.uint8)[:, None, None]
            patches[:, SIDE // 2 :] = type_level(patch_type)
            assert cv2.imwrite(str(Path(root / seq / f"{patch_type}.png")), patches.reshape(-1, SIDE))
    return HPatchesRelease(root)


def halves(patches) -> np.ndarray:
    """(N, P, P) or (N, P, P, 1) patches -> (N, 2) float32: mean grey level of the top and bottom halves."""
    patches = np.asarray(patches, dtype=np.float64).reshape(len(patches), SIDE, SIDE)
    return np.stack([patches[:, : SIDE // 2].mean(axis=(1, 2)), patches[:, SIDE // 2 :].mean(axis=(1, 2))], axis=1)


def expected(seq_index: int, patch_type: str) -> np.ndarray:
    return np.stack([track_levels(seq_index, patch_type), np.full(ROWS, type_level(patch_type), np.float32)], axis=1)


def test_describe_sequences_gives_each_patch_type_its_own_descriptors(release):
    calls = []

    def describe(patches):
        calls.append(patches.shape)
        return halves(patches)

    out = describe_sequences(describe, release, list(SEQUENCES), verbose=False)
    assert calls == [(16 * ROWS, SIDE, SIDE)] * 2  # one call per sequence, all 16 files at once
    assert sorted(out) == sorted(SEQUENCES)
    for s, seq in enumerate(SEQUENCES):
        assert tuple(out[seq]) == PATCH_TYPES
        for patch_type in PATCH_TYPES:
            got = out[seq][patch_type]
            assert got.dtype == np.float32 and got.shape == (ROWS, 2)
            np.testing.assert_array_equal(got, expected(s, patch_type), err_msg=f"{seq}/{patch_type}")


@pytest.mark.parametrize("batch_size", [None, 3])
def test_from_callable_gives_each_patch_type_its_own_descriptors(release, batch_size):
    descriptors = from_callable(halves, release, batch_size=batch_size)
    for s, seq in enumerate(SEQUENCES):
        for patch_type in PATCH_TYPES:
            np.testing.assert_array_equal(descriptors.get(seq, patch_type), expected(s, patch_type),
                                          err_msg=f"{seq}/{patch_type}")


def test_evaluate_descriptor_scores_each_level_from_its_own_patches(release, tmp_path):
    """Easy patches show their own track (every match right: mAP 1); hard and tough ones show another row's
    track (every nearest neighbour wrong: mAP 0). Handing every type the ``ref`` descriptors would give 1, 1, 1."""
    split = Split(name="tiny", test=SEQUENCES, train=())
    splits_file = tmp_path / "tasks" / "splits" / "splits.json"
    splits_file.parent.mkdir(parents=True)
    splits_file.write_text(json.dumps({"tiny": {"name": "tiny", "test": list(SEQUENCES), "train": []}}))
    results = evaluate_descriptor(halves, release, split, tasks_dir=tmp_path / "tasks", name="halves",
                                  verbose=False, tasks=("matching",))
    by_level = results.matching_by_level
    assert by_level.loc["e", "map"] == pytest.approx(1.0) and by_level.loc["e", "msr"] == pytest.approx(1.0)
    assert by_level.loc["h", "map"] == pytest.approx(0.0) and by_level.loc["h", "msr"] == pytest.approx(0.0)
    assert by_level.loc["t", "map"] == pytest.approx(0.0) and by_level.loc["t", "msr"] == pytest.approx(0.0)
    assert len(results.matching) == len(SEQUENCES) * 3 * 5
