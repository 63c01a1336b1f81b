"""Dataset builder on small synthetic sequences made from a scikit-image photograph with known homographies."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from descriptors.data import HPatchesRelease, build_dataset, build_dataset_from_sequences
from descriptors.data.build import main as build_main
from descriptors.data.jitter import JitterLevel
from descriptors.data.sequences import ImageSequence, write_image_sequence
from descriptors.data.tracks import extract_tracks
from descriptors.errors import ConfigError
from hpatches_eval.patch_types import PATCH_TYPES
from hpatches_eval.splits import get_split


def ncc(a, b):
    a = a.reshape(len(a), -1).astype(float)
    b = b.reshape(len(b), -1).astype(float)
    a -= a.mean(1, keepdims=True)
    b -= b.mean(1, keepdims=True)
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1) + 1e-9)


@pytest.fixture(scope="module")
def built(tmp_path_factory, small_sequences):
    out = tmp_path_factory.mktemp("b") / "ds"
    build_dataset(small_sequences, out, seed=3, max_tracks_per_sequence=120, progress=False)
    return out


def test_layout_and_consistent_counts(built):
    info = json.loads((built / "build_info.json").read_text())
    clean = HPatchesRelease(built / "hpatches-release")
    small = HPatchesRelease(built / "nhpatches")
    noisy = HPatchesRelease(built / "nhpatches", noisy=True)
    assert clean.sequences == ["i_cam", "v_cam", "v_cam2"] == small.sequences
    assert clean.patch_size == 65 and small.patch_size == 32 and small.has_noise
    assert [p.name for p in built.iterdir() if not p.name.startswith(".")] and not [
        p for p in built.parent.iterdir() if p.name.startswith(".ds.tmp")]
    total = 0
    for seq in clean.sequences:
        n = clean.num_patches(seq)
        assert 50 <= n <= 120 and info["tracks_per_sequence"][seq] == n
        patches = clean.load_sequence(seq)  # raises if any file has another count
        assert patches.shape == (16, n, 65, 65)
        twins = small.load_sequence(seq)
        expected = np.stack([cv2.resize(p, (32, 32), interpolation=cv2.INTER_AREA) for p in patches[5]])
        np.testing.assert_array_equal(twins[5], expected)
        mae = np.abs(noisy.load_sequence(seq).astype(int) - twins).mean(axis=(1, 2, 3))
        assert 2 < mae[0] < mae[1] and mae[1] < mae[6] < mae[11] < 15  # ref < e < h < t
        assert patches[0].reshape(n, -1).std(axis=1).min() >= 5  # low-contrast filter (5/255 of 0..1 floats)
        total += n
    assert info["num_tracks"] == total
    assert info["measured_noise_mae"]["e"] < info["measured_noise_mae"]["h"] < info["measured_noise_mae"]["t"]


def test_target_patches_correspond_to_reference(built):
    clean = HPatchesRelease(built / "hpatches-release")
    for seq in clean.sequences:
        p = clean.load_sequence(seq)
        for level, lo in (("e", 0.8), ("h", 0.6), ("t", 0.45)):
            scores = [np.median(ncc(p[0], p[PATCH_TYPES.index(f"{level}{k}")])) for k in range(1, 6)]
            control = np.median(ncc(p[0], np.roll(p[PATCH_TYPES.index(f"{level}1")], 7, axis=0)))
            assert min(scores) > lo and control < 0.35, (seq, level, scores, control)


def test_zero_jitter_reprojects_exactly(small_sequences, small_photo):
    zero = {lv: JitterLevel(0.0, 0.0, 0.0, 0.0) for lv in "eht"}
    same = ImageSequence("i_same", [small_photo] * 6, [np.eye(3)] * 5)
    tracks = extract_tracks(same, np.random.default_rng(0), jitter=zero, max_tracks=50)
    for i in range(1, 16):
        np.testing.assert_array_equal(tracks.patches[i], tracks.patches[0])
    assert all(np.allclose(v, 1.0, atol=2e-3) for v in tracks.overlaps.values())
    # through a real homography (image k = warp(photo, H_1_k)) the zero-jitter target patch is the same patch
    tracks = extract_tracks(small_sequences[0], np.random.default_rng(0), jitter=zero, max_tracks=80)
    assert np.median(ncc(tracks.patches[0], tracks.patches[1])) > 0.93
    assert np.median(ncc(tracks.patches[0], tracks.patches[15])) > 0.9


def test_measured_overlaps_are_ordered_and_near_targets(built):
    overlap = json.loads((built / "build_info.json").read_text())["measured_overlap"]
    assert overlap["e"]["median"] > overlap["h"]["median"] > overlap["t"]["median"]
    assert abs(overlap["e"]["median"] - 0.85) < 0.03
    assert abs(overlap["h"]["median"] - 0.72) < 0.03
    assert abs(overlap["t"]["median"] - 0.60) < 0.03


def test_task_files_follow_the_official_rules(built):
    tasks = built / "tasks"
    split = get_split("default", tasks / "splits" / "splits.json")
    counts = json.loads((built / "build_info.json").read_text())["tracks_per_sequence"]
    assert set(split.test) | set(split.train) == set(counts) and not set(split.test) & set(split.train)
    assert len(split.test) >= 1 and len(split.train) >= 1
    frames = {}
    for kind in ("pos", "neg_intra", "neg_inter"):
        path = tasks / f"verif_{kind}_split-default.csv"
        assert path.read_text().splitlines()[0] == "s1,t1,idx1,s2,t2,idx2"
        df = pd.read_csv(path)
        frames[kind] = df
        assert set(df.s1) <= set(split.test) and set(df.s2) <= set(split.test)
        assert df.t1.between(0, 4).all() and df.t2.between(0, 4).all() and (df.t1 != df.t2).all()
        for col_s, col_i in (("s1", "idx1"), ("s2", "idx2")):
            assert (df[col_i] < df[col_s].map(counts)).all() and (df[col_i] >= 0).all()
    pos, intra, inter = frames["pos"], frames["neg_intra"], frames["neg_inter"]
    assert (pos.s1 == pos.s2).all() and (pos.idx1 == pos.idx2).all()
    assert (intra.s1 == intra.s2).all() and (intra.idx1 != intra.idx2).all()
    assert (intra[["s1", "t1", "idx1", "t2"]].values == pos[["s1", "t1", "idx1", "t2"]].values).all()
    assert (inter[["s1", "t1", "idx1", "t2"]].values == pos[["s1", "t1", "idx1", "t2"]].values).all()
    assert len(pos) == min(100_000, 20 * sum(counts[s] for s in split.test))
    q = pd.read_csv(tasks / "retr_queries_split-default.csv")
    d = pd.read_csv(tasks / "retr_distractors_split-default.csv")
    assert list(q.columns) == ["s", "idx"] and list(d.columns) == ["s", "idx"]
    assert not q.duplicated().any() and not d.duplicated().any() and len(q) > 0 and len(d) > 0
    assert not set(map(tuple, q.values)) & set(map(tuple, d.values))
    release = HPatchesRelease(built / "hpatches-release")
    for s, idx in pd.concat([q, d]).values:
        assert release.load(s, "ref")[idx].std() > 10


def test_deterministic_given_seed(tmp_path, small_sequences, built):
    out = build_dataset(small_sequences, tmp_path / "again", seed=3, max_tracks_per_sequence=120, progress=False)
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    for f in files:
        if f.name != "build_info.json":
            assert (built / f).read_bytes() == (out / f).read_bytes(), f
    other = build_dataset(small_sequences[:2], tmp_path / "other", seed=4, max_tracks_per_sequence=60,
                          progress=False)
    assert (other / "hpatches-release/v_cam/e1.png").read_bytes() != (built / "hpatches-release/v_cam/e1.png").read_bytes()


def test_refuses_existing_output_and_bad_options(tmp_path, small_sequences):
    (tmp_path / "exists").mkdir()
    (tmp_path / "exists" / "notes.txt").write_text("mine")
    for overwrite in (False, True):  # a folder we did not write is never replaced, even with overwrite=True
        with pytest.raises(FileExistsError, match="already exists and was not written by this tool"):
            build_dataset(small_sequences, tmp_path / "exists", overwrite=overwrite)
    assert (tmp_path / "exists" / "notes.txt").read_text() == "mine"
    with pytest.raises(ConfigError, match="test_fraction` must be in"):
        build_dataset(small_sequences[:2], tmp_path / "bad", test_fraction=1.5, max_tracks_per_sequence=5,
                      progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["exists"]  # nothing half-written left behind
    with pytest.raises(ConfigError, match="must be unique.*v_cam"):
        build_dataset([small_sequences[0]] * 2, tmp_path / "dup", max_tracks_per_sequence=5, progress=False)


def test_from_folder_and_cli(tmp_path, small_sequences, capsys):
    for s in small_sequences[:2]:
        write_image_sequence(tmp_path / "seqs", s, ext=".png")
    out = build_dataset_from_sequences(tmp_path / "seqs", tmp_path / "ds", max_tracks_per_sequence=20,
                                       test_sequences=["v_cam"], progress=False)
    assert get_split("default", out / "tasks/splits/splits.json").test == ("v_cam",)
    assert build_main([str(tmp_path / "seqs"), str(tmp_path / "cli"), "--max-tracks-per-sequence", "10",
                       "--seed", "1", "--quiet", "--split-name", "mine"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cli")
    assert (tmp_path / "cli" / "tasks" / "verif_pos_split-mine.csv").is_file()
    stamp = (tmp_path / "cli" / "build_info.json").stat().st_mtime_ns
    prog = "python -m descriptors.data.build: error: "
    seqs = str(tmp_path / "seqs")
    for argv, message in (([str(tmp_path / "nope"), str(tmp_path / "x")], "SEQUENCES_DIR must be an existing"),
                          ([seqs, str(tmp_path / "cli")], "already holds a dataset: pass --overwrite"),
                          ([seqs, str(tmp_path / "y"), "--test-fraction", "2"], "must be a number in"),
                          ([seqs + "/v_cam", str(tmp_path / "z")], "must hold sequence folders"),
                          ([str(tmp_path), str(tmp_path / "z")], "`OUT_DIR` lies inside the input")):
        assert build_main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(prog) and message in err and err.count("\n") == 1, err
    assert (tmp_path / "cli" / "build_info.json").stat().st_mtime_ns == stamp
