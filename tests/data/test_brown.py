"""Brown / UBC PhotoTour layout: writer -> reader round trip, determinism, and an error for every malformed file."""

import cv2
import numpy as np
import pytest

from descriptors.data.brown_reader import BrownSubset
from descriptors.data.brown_writer import make_pairs, write_brown
from descriptors.data.formats import write_patch_file
from descriptors.errors import DataFormatError
from hpatches_eval.cli_contract import UsageError
from hpatches_eval.patch_types import PATCH_TYPES

SEQUENCES = {"i_a": 10, "v_b": 13}  # 23 points x 16 types = 368 patches -> 2 bitmaps, the second partly filled


def _source(root, size=64, seed=1):
    rng = np.random.default_rng(seed)
    patches = {}
    for seq, rows in SEQUENCES.items():
        for patch_type in PATCH_TYPES:
            patches[seq, patch_type] = rng.integers(0, 256, (rows, size, size), dtype=np.uint8)
            write_patch_file(root / "hpatches-release" / seq / f"{patch_type}.png", patches[seq, patch_type])
    return patches


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("brown")
    patches = _source(root / "ds")
    out = write_brown(root / "ds", root / "liberty", pair_counts=(100, 1000), seed=3)
    return root, patches, out


def test_round_trip_patches_ids_and_images(exported):
    root, patches, out = exported
    subset = BrownSubset(out)
    assert len(subset) == 368 and subset.num_images == 2 and subset.num_points == 23
    expected = np.concatenate([np.stack([patches[seq, t] for t in PATCH_TYPES], axis=1).reshape(-1, 64, 64)
                               for seq in SEQUENCES])
    np.testing.assert_array_equal(subset.all_patches(), expected)
    np.testing.assert_array_equal(subset.patches([367, 0, 256]), expected[[367, 0, 256]])
    np.testing.assert_array_equal(subset.point_ids, np.repeat(np.arange(23), 16))
    np.testing.assert_array_equal(subset.info_second[:17], list(range(16)) + [0])
    assert subset.info_second[-1] == 31  # second sequence, last type
    interest = subset.interest()
    assert interest.shape == (368, 5)
    np.testing.assert_array_equal(interest[:, 0], subset.info_second)
    assert (interest[:16, 1] == interest[0, 1]).all() and 0 <= interest[:, 1].min() < interest[:, 1].max() < 640
    with pytest.raises(IndexError, match="0..367"):
        subset.patches([368])


def test_pairs_are_balanced_consistent_and_deterministic(exported, tmp_path):
    root, _, out = exported
    subset = BrownSubset(out)
    assert sorted(subset.pair_files()) == [100, 1000]
    pairs = subset.pairs(1000)
    assert len(pairs) == 1000 and pairs.is_match.sum() == 500
    same_point = subset.point_ids[pairs.first] == subset.point_ids[pairs.second]
    np.testing.assert_array_equal(same_point, pairs.is_match)
    assert not (pairs.first == pairs.second).any()
    again = write_brown(root / "ds", tmp_path / "again", pair_counts=(1000,), seed=3)
    assert (again / "m50_1000_1000_0.txt").read_bytes() == (out / "m50_1000_1000_0.txt").read_bytes()
    assert (again / "patches0001.bmp").read_bytes() == (out / "patches0001.bmp").read_bytes()
    other = make_pairs(subset.point_ids, 1000, np.random.default_rng([4, 1000]))
    assert not np.array_equal(other[:, 0], pairs.first)
    with pytest.raises(DataFormatError, match=r"m50_5000_5000_0.txt is missing.*\[100, 1000\]"):
        subset.pairs(5000)


def test_65px_patches_are_area_resized(tmp_path):
    patches = _source(tmp_path / "ds", size=65)
    out = write_brown(tmp_path / "ds", tmp_path / "b", sequences=["v_b"], patch_types=("ref", "h1"),
                      pair_counts=(10,))
    subset = BrownSubset(out)
    assert len(subset) == 26
    expected = cv2.resize(patches["v_b", "h1"][2], (64, 64), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(subset.patches([5])[0], expected)


def test_writer_refuses_a_folder_it_did_not_write(exported, tmp_path):
    root, _, _ = exported
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not written by this tool"):
        write_brown(root / "ds", tmp_path / "mine")
    with pytest.raises(DataFormatError, match="unknown"):
        write_brown(root / "ds", tmp_path / "x", sequences=["nope"])
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me" and not (tmp_path / "x").exists()


def _copy(out, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(out, target)
    return target


@pytest.mark.parametrize("damage, message, where", [
    (lambda d: (d / "info.txt").unlink(), r"info.txt is missing", "open"),
    (lambda d: (d / "info.txt").write_text("0 0\n0 1 2\n"), r"info.txt line 2 has 3 fields", "open"),
    (lambda d: (d / "info.txt").write_text("0 0\nx 1\n"), r"info.txt line 2 is not 2 numbers", "open"),
    (lambda d: (d / "info.txt").write_bytes(b"\xff\xfe\x00"), r"info.txt is not a text file", "open"),
    (lambda d: (d / "patches0001.bmp").unlink(), r"has 1 patchesNNNN.bmp files.*368 patches, which need 2", "open"),
    (lambda d: (d / "patches0000.bmp").rename(d / "patches0002.bmp"), r"Missing: \['patches0000.bmp'\]", "open"),
    (lambda d: (d / "patches0001.bmp").write_bytes(b"BM not really"), r"patches0001.bmp is not a decodable",
     "patch"),
    (lambda d: cv2.imwrite(str(d / "patches0001.bmp"), np.zeros((512, 1024), np.uint8)),
     r"patches0001.bmp must be a 1024x1024", "patch"),
    (lambda d: (d / "interest.txt").write_text("0 1 2 3 4\n"), r"interest.txt has 1 lines.*368", "interest"),
    (lambda d: (d / "interest.txt").unlink(), r"interest.txt is missing", "interest"),
    (lambda d: (d / "m50_100_100_0.txt").write_text("0 0 0 400 1 0 0\n" * 100), r"m50_100_100_0.txt.*0 \.\. 367",
     "pairs"),
    (lambda d: (d / "m50_100_100_0.txt").write_text("0 0 0 1 1 0 0\n" * 99), r"must have 100 lines", "pairs"),
])
def test_every_malformed_file_raises_naming_it(exported, tmp_path, damage, message, where):
    folder = _copy(exported[2], tmp_path)
    damage(folder)
    with pytest.raises(DataFormatError, match=message) as error:
        subset = BrownSubset(folder)
        {"patch": lambda: subset.patches([300]), "interest": subset.interest,
         "pairs": lambda: subset.pairs(100)}.get(where, lambda: None)()
    assert str(folder) in str(error.value)


def test_not_a_folder(tmp_path):
    with pytest.raises(DataFormatError, match="existing folder"):
        BrownSubset(tmp_path / "missing")


# Training from a Brown folder: `--data brown:PATH` (positives = patches sharing a 3D point id).


def test_track_source_groups_patches_of_one_point(exported, tmp_path):
    from descriptors.data.brown_tracks import BrownTrackSource

    source = BrownTrackSource(exported[2], size=32, points_per_sequence=10, seed=0)
    subset = source.subset
    assert source.sequences == ["brown-0000", "brown-0001", "brown-0002"] and source.views.shape == (23, 16)
    assert (subset.point_ids[source.views] == np.arange(23)[:, None]).all()
    assert all(len(set(row)) == 16 for row in source.views.tolist())  # 16 patches per point: no repeats
    views = source.load_sequence("brown-0002")
    assert views.shape == (16, 3, 32, 32)
    patch = subset.patches([source.views[21, 4]])[0]
    np.testing.assert_array_equal(views[4, 1], cv2.resize(patch, (32, 32), interpolation=cv2.INTER_AREA))
    few = write_brown(exported[0] / "ds", tmp_path / "few", patch_types=("ref", "h1", "t1"), pair_counts=(10,))
    cyclic = BrownTrackSource(few, seed=0).views
    assert (cyclic[:, 3:] == np.tile(cyclic[:, :3], 5)[:, :13]).all() and len(set(cyclic[0].tolist())) == 3


def test_brown_training_config_is_checked_before_work(exported):
    from descriptors.errors import ConfigError
    from descriptors.training.config import TrainConfig

    folder = exported[2]
    with pytest.raises(ConfigError, match="--inputs clean --eval-inputs clean --denoiser none --no-evaluate"):
        TrainConfig(data=f"brown:{folder}")
    ok = dict(inputs="clean", eval_inputs="clean", denoiser="none", evaluate=False)
    with pytest.raises(ConfigError, match="existing Brown subset folder"):
        TrainConfig(data=f"brown:{folder}/missing", **ok)
    with pytest.raises(ConfigError, match="`split` must be 'all'"):
        TrainConfig(data=f"brown:{folder}", split="a", **ok)
    assert TrainConfig(data=f"brown:{folder}", **ok).data == f"brown:{folder}"


def test_training_runs_on_a_brown_folder(exported, tmp_path):
    from descriptors.training.trainer import train

    result = train(data=f"brown:{exported[2]}", inputs="clean", eval_inputs="clean", denoiser="none",
                   evaluate=False, epochs=1, batch_size=8, tuples_per_epoch=16, val_tuples=8, verbose=0,
                   output_dir=str(tmp_path / "run"))
    assert (result.run_dir / "pipeline" / "pipeline.json").is_file()
    assert result.descriptor.output_shape[-1] == 128


def test_export_describe_and_fpr95_commands_agree_with_the_api(exported, tmp_path, capsys):
    import json

    from descriptors.baselines import SiftPatchDescriptor
    from descriptors.data.brown import main as brown_main
    from descriptors.data.brown_evaluate import evaluate_brown
    from hpatches_eval.phototour.cli import main as fpr_main

    root = exported[0]
    out = tmp_path / "b"
    assert brown_main(["export", str(root / "ds"), "--out", str(out), "--sequences", "v_b", "--pairs", "200"]) == 0
    assert len(BrownSubset(out)) == 13 * 16
    assert brown_main(["describe", str(out), "--model", "sift", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (208, 128)
    assert fpr_main(["--descriptors", str(tmp_path / "s.npy"), "--pairs", str(out / "m50_200_200_0.txt"),
                     "--out", str(tmp_path / "r.json")]) == 0
    stored = json.loads((tmp_path / "r.json").read_text())
    expected = evaluate_brown(SiftPatchDescriptor(), out, count=200)
    assert stored["fpr"] == pytest.approx(expected.fpr) and stored["false_positives"] == expected.false_positives
    assert stored["positives"] == stored["negatives"] == 100 and expected.fpr > 0.5  # random views: no signal
    # identical views of every point: positives at distance 0, so nothing negative is accepted
    same = tmp_path / "same"
    for seq in SEQUENCES:
        for patch_type in PATCH_TYPES:
            write_patch_file(same / "hpatches-release" / seq / f"{patch_type}.png", exported[1][seq, "ref"])
    easy = write_brown(same, tmp_path / "easy", pair_counts=(200,))
    assert evaluate_brown(SiftPatchDescriptor(), easy, count=200).fpr == 0.0
    capsys.readouterr()
