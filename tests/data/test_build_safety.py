"""The builder degrades per sequence, never destroys what it did not write, and leaves no staging behind."""

import json
import os
import re
import stat

import numpy as np
import pytest
from tiny_sequences import bad_sequences, good_sequences

import descriptors.data.builder as builder_module
from descriptors.data import HPatchesRelease, build_dataset, build_dataset_from_sequences
from descriptors.data.builder import SkippedSequenceWarning
from descriptors.data.screening import homography_problem, sequence_problem
from descriptors.data.sequences import write_image_sequence
from descriptors.errors import ConfigError, DataFormatError
from hpatches_eval.output_safety import MARKER, read_marker

DEAD_PID = 4194304 + 4242  # above Linux's largest pid_max: never a running process


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_unusable_sequences_are_skipped_with_a_warning_and_recorded(tiny_built):
    out, caught = tiny_built
    bad = bad_sequences()
    info = json.loads((out / "build_info.json").read_text())
    assert [s["name"] for s in info["skipped_sequences"]] == list(bad)  # input order
    for entry in info["skipped_sequences"]:
        assert entry["reason"] and re.search(bad[entry["name"]][1], entry["reason"]), entry
    skipped_warnings = [str(w.message) for w in caught if issubclass(w.category, SkippedSequenceWarning)]
    assert skipped_warnings == [f"Sequence {s['name']!r} skipped: {s['reason']}" for s in info["skipped_sequences"]]
    assert all("\n" not in message for message in skipped_warnings)
    assert info["num_sequences"] == 3 and info["num_sequences_input"] == 10
    assert sorted(info["tracks_per_sequence"]) == ["i_b", "v_a", "v_c"]
    assert info["screening"] == {"min_image_side": 32, "min_image_std": 2.0, "max_area_change": 400.0,
                                 "max_anisotropy": 20.0, "max_condition_number": 1e6, "min_tracks": 2}
    assert info["filter_counts_per_sequence"]["i_ramp"]["kept"] == 0  # measured, then skipped
    assert _names(out / "hpatches-release") == _names(out / "nhpatches") == ["i_b", "v_a", "v_c"]
    split = info["split"]
    assert sorted(split["test"] + split["train"]) == ["i_b", "v_a", "v_c"] and split["test"] and split["train"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()} == {0o666 & ~umask}
    release = HPatchesRelease(out / "hpatches-release")
    for seq in release.sequences:  # no constant patch anywhere: every kept view has texture
        views = release.load_sequence(seq).reshape(16, release.num_patches(seq), -1).astype(float)
        assert views.std(axis=2).min() > 2, seq


def test_screening_accepts_plausible_geometry_and_names_the_bad_matrix():
    shape = (480, 640)
    rotation_zoom = np.array([[1.6, -0.9, 40.0], [0.9, 1.6, -30.0], [0.0, 0.0, 1.0]])
    perspective = np.array([[0.9, 0.1, 20.0], [-0.05, 1.1, 10.0], [2e-4, 1e-4, 1.0]])
    for h in (np.eye(3), rotation_zoom, perspective, -perspective):
        assert homography_problem(h, shape, shape, 0) is None, h
    assert "H_1_4 changes areas by a factor 441" in homography_problem(np.diag([21.0, 21.0, 1.0]), shape, shape, 2)
    assert "H_1_2 is near-singular" in homography_problem(
        np.array([[1.0, 1.0, 0.0], [1.0, 1.0 + 1e-9, 0.0], [0.0, 0.0, 1.0]]), shape, shape, 0)
    assert all(sequence_problem(s) is None for s in good_sequences())
    for name, (sequence, pattern) in bad_sequences().items():
        if name != "i_ramp":  # too few keypoints is only known after detection
            assert re.search(pattern, sequence_problem(sequence)), name


def test_fails_only_when_nothing_usable_is_left(tmp_path):
    bad = {name: seq for name, (seq, _) in bad_sequences().items()}
    with pytest.raises(DataFormatError, match=r"No usable sequence: all 3 sequences were skipped \('i_flat': image 1"):
        with pytest.warns(SkippedSequenceWarning):
            build_dataset([bad["i_flat"], bad["i_tiny"], bad["v_degenerate"]], tmp_path / "ds", progress=False)
    good = good_sequences()
    with pytest.raises(DataFormatError, match=r"No train sequence remains: only 'v_a' is usable .*'i_flat'"):
        with pytest.warns(SkippedSequenceWarning):
            build_dataset([good[0], bad["i_flat"]], tmp_path / "ds", max_tracks_per_sequence=5, progress=False)
    with pytest.raises(DataFormatError, match=r"No train sequence remains: every sequence outside the test set was "
                                              r"skipped \('i_flat': "):
        with pytest.warns(SkippedSequenceWarning):
            build_dataset([good[0], bad["i_flat"]], tmp_path / "ds", test_sequences=["v_a"],
                          max_tracks_per_sequence=5, progress=False)
    with pytest.raises(DataFormatError, match=r"Requested test sequence 'v_degenerate' cannot be used: H_1_2 "):
        build_dataset([bad["v_degenerate"], good[0]], tmp_path / "ds", test_sequences=["v_degenerate"],
                      progress=False)
    with pytest.raises(ConfigError, match=r"`test_sequences` must name sequences of the input. Received unknown: "
                                          r"\['v_zz'\]"):
        build_dataset(good, tmp_path / "ds", test_sequences=["v_zz"], progress=False)
    assert _names(tmp_path) == []  # no output, no staging folder


def test_test_only_dataset_when_every_sequence_is_requested_as_test(tmp_path):
    out = build_dataset(good_sequences()[:2], tmp_path / "ds", test_sequences=["v_a", "i_b"],
                        max_tracks_per_sequence=5, progress=False)
    assert json.loads((out / "tasks/splits/splits.json").read_text()) == {
        "default": {"test": ["i_b", "v_a"], "train": [], "name": "default"}}


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": -1}, r"`seed` must be an integer >= 0. Received: seed=-1"),
    ({"seed": 1.5}, r"`seed` must be an integer >= 0. Received: seed=1.5"),
    ({"test_fraction": float("nan")}, r"`test_fraction` must be in \(0, 1\). Received: test_fraction=nan"),
    ({"split_name": "a/b"}, r"`split_name` must be letters, digits.*Received: split_name='a/b'"),
    ({"test_sequences": "v_a"}, r"`test_sequences` must be a non-empty list .*Received: test_sequences='v_a'"),
    ({"max_tracks_per_sequence": 1}, r"`max_tracks_per_sequence` must be an integer >= 2 or None"),
    ({"n_pairs": 0}, r"`n_pairs` must be an integer >= 1 or None. Received: n_pairs=0"),
])
def test_bad_options_fail_before_any_work(tmp_path, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        build_dataset(good_sequences(40), tmp_path / "ds", progress=False, **kwargs)
    assert _names(tmp_path) == []


def test_output_rules_of_the_python_api(tmp_path):
    seqs = good_sequences()[:2]
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"precious")
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match=r"not written by this tool .*refusing to replace it"):
            build_dataset(seqs, foreign, overwrite=overwrite, progress=False)
    assert _names(foreign) == ["holiday.jpg"] and (foreign / "holiday.jpg").read_bytes() == b"precious"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=r"must be a folder, but .*afile' is an existing file"):
        build_dataset(seqs, tmp_path / "afile", progress=False)
    with pytest.raises(ConfigError, match=r"cannot be created: .*afile' is a file, not a folder"):
        build_dataset(seqs, tmp_path / "afile" / "ds", progress=False)
    # an empty folder is fine; our own dataset is replaced only with overwrite=True
    (tmp_path / "empty").mkdir()
    out = build_dataset(seqs, tmp_path / "empty", max_tracks_per_sequence=4, progress=False)
    assert read_marker(out)["kind"] == "dataset"
    with pytest.raises(FileExistsError, match=r"already holds a dataset: pass --overwrite"):
        build_dataset(seqs, out, progress=False)
    (out / MARKER).unlink()  # a dataset written before markers existed: recognised by its build_info.json
    build_dataset(seqs, out, max_tracks_per_sequence=6, overwrite=True, progress=False)
    assert HPatchesRelease(out / "hpatches-release").num_patches("v_a") == 6 and read_marker(out)["kind"] == "dataset"
    # the output may not overlap the input folders
    for seq in seqs:
        write_image_sequence(tmp_path / "seqs", seq, ext=".png")
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "seqs").rglob("*"))
    for target, relation in ((tmp_path / "seqs", "is the input"), (tmp_path / "seqs" / "ds", "lies inside the input"),
                             (tmp_path / "seqs" / "v_a", "lies inside the input")):
        with pytest.raises((ConfigError, FileExistsError), match=relation):
            build_dataset_from_sequences(tmp_path / "seqs", target, progress=False)
    with pytest.raises((ConfigError, FileExistsError), match="contains the input"):
        build_dataset_from_sequences([tmp_path / "seqs" / "v_a"], tmp_path, progress=False)
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "seqs").rglob("*")) == before


def test_stale_staging_of_a_dead_build_is_removed_and_a_live_one_kept(tmp_path):
    dead = tmp_path / f".ds.tmp-{DEAD_PID}-0123abcd"
    live = tmp_path / f".ds.tmp-{os.getpid()}-4567beef"
    other = tmp_path / f".other.tmp-{DEAD_PID}-89abcdef"  # another output's staging: not ours to judge
    for folder in (dead, live, other):
        (folder / "hpatches-release").mkdir(parents=True)
        (folder / "hpatches-release" / "ref.png").write_bytes(b"x" * 100)
    build_dataset(good_sequences()[:2], tmp_path / "ds", max_tracks_per_sequence=4, progress=False)
    assert _names(tmp_path) == sorted([live.name, other.name, "ds"])


def test_interrupted_build_leaves_nothing(tmp_path, monkeypatch):
    real = builder_module.extract_tracks
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(builder_module, "extract_tracks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(good_sequences(), tmp_path / "ds", max_tracks_per_sequence=4, progress=False)
    assert len(calls) == 2 and _names(tmp_path) == []
