"""The offline default dataset (reduced sizes here; the full build is opt-in, see test_full_default_build)."""

import json
import os

import pytest

import descriptors.data.default as default_module
from descriptors.data import HPatchesRelease, default_dataset
from descriptors.errors import ConfigError


def test_small_default_dataset_builds_and_is_cached(tmp_path, monkeypatch):
    root = default_dataset(tmp_path / "dd", photos=["camera", "coins"], tracks_per_sequence=30, progress=False)
    release = HPatchesRelease(root / "hpatches-release")
    assert release.sequences == ["i_camera", "i_coins", "v_camera", "v_coins"]
    assert all(release.num_patches(s) == 30 for s in release.sequences)
    info = json.loads((root / "build_info.json").read_text())
    assert info["default_dataset"]["photos"] == ["camera", "coins"] and info["num_tracks"] == 120
    split = info["split"]
    assert {s[:2] for s in split["test"]} == {"i_", "v_"} and {s[:2] for s in split["train"]} == {"i_", "v_"}
    assert not {s[2:] for s in split["test"]} & {s[2:] for s in split["train"]}  # no scene on both sides
    stamp = (root / "build_info.json").stat().st_mtime_ns
    monkeypatch.setattr(default_module, "build_dataset", lambda *a, **k: pytest.fail("rebuilt a cached dataset"))
    assert default_dataset(tmp_path / "dd", photos=["coins", "camera"], tracks_per_sequence=30) == root
    assert (root / "build_info.json").stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="was built with .*pass rebuild=True"):
        default_dataset(tmp_path / "dd", photos=["camera"], tracks_per_sequence=30)


def test_rebuild_and_env_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DESCRIPTORS_DATA_DIR", str(tmp_path / "cache"))
    assert default_module.default_root() == tmp_path / "cache" / "default-v1"
    root = default_dataset(photos=["coins"], tracks_per_sequence=10, progress=False)
    assert root == tmp_path / "cache" / "default-v1"
    root = default_dataset(photos=["coins"], tracks_per_sequence=12, rebuild=True, progress=False)
    assert HPatchesRelease(root / "hpatches-release").num_patches("v_coins") == 12
    assert sorted(p.name for p in root.parent.iterdir()) == ["default-v1"]  # no temp or old folders left


def test_concurrent_builder_wins(tmp_path, monkeypatch):
    """If another process renamed its build into place first, ours is dropped and theirs is used."""
    real = default_module.build_dataset

    def racing_build(sequences, out, **kwargs):
        real(sequences, out, **kwargs)  # "the other process" finishes first...
        return real(sequences, out, **kwargs)  # ...so ours finds the target there

    monkeypatch.setattr(default_module, "build_dataset", racing_build)
    root = default_dataset(tmp_path / "dd", photos=["coins"], tracks_per_sequence=10, progress=False)
    assert (root / "build_info.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dd"]


def test_photo_split_keeps_scenes_together():
    test = default_module.photo_split(sorted(default_module.PHOTOS))
    stems = {s[2:] for s in test}
    assert len(stems) == 6 and test == sorted(f"{k}_{s}" for s in stems for k in "iv")
    assert default_module.photo_split(["coins"]) is None


def test_unknown_photo():
    with pytest.raises(ConfigError, match=r"`photos` must be a non-empty subset.*\['nope'\]"):
        default_module.default_sequences(["nope"])


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("DESCRIPTORS_SLOW_TESTS"), reason="~1 min; set DESCRIPTORS_SLOW_TESTS=1")
def test_full_default_build(tmp_path):
    root = default_dataset(tmp_path / "full", progress=False)
    info = json.loads((root / "build_info.json").read_text())
    assert info["num_sequences"] == 34 and 7000 <= info["num_tracks"] <= 8000 and len(info["split"]["test"]) == 12
    assert info["measured_overlap"]["e"]["median"] > info["measured_overlap"]["h"]["median"] > 0.65
