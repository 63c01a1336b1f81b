"""The offline default dataset (reduced sizes here; the full build is opt-in, see test_full_default_build)."""

import json
import os
import shutil

import pytest

import descriptors.data.default as default_module
from descriptors.data import HPatchesRelease, default_dataset
from descriptors.errors import ConfigError, DataFormatError
from hpatches_eval.output_safety import MARKER

DEAD_PID = 4194304 + 4242  # above Linux's largest pid_max: never a running process
SMALL = {"photos": ["coins"], "tracks_per_sequence": 10, "progress": False}


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


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A small default dataset, built once; tests copy it."""
    return default_dataset(tmp_path_factory.mktemp("pristine") / "default-v1", **SMALL)


def _copy(pristine, tmp_path):
    root = tmp_path / "default-v1"
    shutil.copytree(pristine, root)
    return root


def _fail_if_built(monkeypatch):
    monkeypatch.setattr(default_module, "build_dataset", lambda *a, **k: pytest.fail("built or replaced the folder"))


def test_damaged_cache_is_recognised(pristine, tmp_path):
    params = json.loads((pristine / "build_info.json").read_text())["default_dataset"]
    assert default_module.inspect_cache(pristine, params)[0] == "ok"
    root = _copy(pristine, tmp_path)
    (root / "nhpatches" / "v_coins" / "t3_noise.png").unlink()  # half-deleted
    assert default_module.inspect_cache(root, params) == (
        "damaged", "1 files are missing, e.g. nhpatches/v_coins/t3_noise.png")
    (root / "build_info.json").unlink()  # our marker still says "dataset"
    assert default_module.inspect_cache(root, params) == ("damaged", "build_info.json is missing")
    (root / "build_info.json").write_text('{"split": 3}')
    assert default_module.inspect_cache(root, params)[0] == "damaged"
    (root / MARKER).unlink()
    (root / "build_info.json").unlink()
    assert default_module.inspect_cache(root, params) == (
        "foreign", f"it holds neither {MARKER} nor build_info.json")
    assert default_module.inspect_cache(tmp_path / "absent", params) == ("absent", None)


def test_cache_with_unreadable_build_info_is_rebuilt_with_a_warning(pristine, tmp_path):
    root = _copy(pristine, tmp_path)
    (root / MARKER).unlink()  # a cache written before markers existed: its build_info.json identifies it
    (root / "build_info.json").write_text("{not json")
    with pytest.warns(UserWarning, match=r"default dataset cache .*default-v1 is damaged \(build_info.json is not "
                                         r"readable JSON"):
        assert default_dataset(root, **SMALL) == root
    assert json.loads((root / "build_info.json").read_text())["default_dataset"]["photos"] == ["coins"]
    for f in ("hpatches-release/v_coins/ref.png", "nhpatches/i_coins/t5_noise.png",
              "tasks/verif_pos_split-default.csv"):
        assert (root / f).read_bytes() == (pristine / f).read_bytes()  # the same seed rebuilt the same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default-v1"]


@pytest.mark.parametrize("rebuild", [False, True])
def test_folder_we_did_not_write_is_never_replaced(tmp_path, monkeypatch, rebuild):
    _fail_if_built(monkeypatch)
    root = tmp_path / "default-v1"
    root.mkdir()
    (root / "thesis.tex").write_text("precious")
    with pytest.raises(DataFormatError, match=r"default dataset folder .*default-v1 was not written by this tool "
                                              r"\(it holds neither .* nor build_info.json\); refusing to replace it: "
                                              r"remove it yourself, or set DESCRIPTORS_DATA_DIR"):
        default_dataset(root, rebuild=rebuild, **SMALL)
    assert [p.name for p in root.iterdir()] == ["thesis.tex"]
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DataFormatError, match=r"afile was not written by this tool \(it is a file, not a folder\)"):
        default_dataset(tmp_path / "afile", rebuild=rebuild, **SMALL)
    assert (tmp_path / "afile").read_text() == "x"


def test_stale_staging_of_a_killed_build_is_removed_on_next_use(pristine, tmp_path, monkeypatch):
    root = _copy(pristine, tmp_path)
    dead = tmp_path / f".default-v1.tmp-{DEAD_PID}-0a1b2c3d"
    live = tmp_path / f".default-v1.tmp-{os.getpid()}-4e5f6a7b"
    for folder in (dead, live):
        (folder / "nhpatches").mkdir(parents=True)
    _fail_if_built(monkeypatch)
    assert default_dataset(root, **SMALL) == root  # the cache is fine: used as it is, the dead build's leftover goes
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["default-v1", live.name])


def test_photo_split_keeps_scenes_together():
    test = default_module.photo_split(sorted(default_module.PHOTOS))
    stems = {s[2:] for s in test}
    assert len(stems) == 6 and test == sorted(f"{k}_{s}" for s in stems for k in "iv")
    assert default_module.photo_split(["coins"]) is None


def test_unknown_photo():
    with pytest.raises(ConfigError, match=r"`photos` must be a non-empty subset.*\['nope'\]"):
        default_module.default_sequences(["nope"])


def test_full_default_build(default_dataset_root):
    """The full default dataset (all photos, default parameters), as the suite's session fixture builds it.

    It is the same build the trainer, notebook and loss tests use, so this check costs nothing once the cache
    exists (the first use on a machine builds it, about 1-4 min on 2 cores, whichever test comes first). To check
    a fresh build instead of the cache: ``DESCRIPTORS_DATA_DIR=$(mktemp -d) pytest tests/data/test_default.py``.
    """
    root = default_dataset_root
    info = json.loads((root / "build_info.json").read_text())
    assert info["default_dataset"]["photos"] == sorted(default_module.PHOTOS)
    assert info["default_dataset"]["tracks_per_sequence"] == default_module.DEFAULT_TRACKS_PER_SEQUENCE
    assert info["num_sequences"] == 34 and 7000 <= info["num_tracks"] <= 8000 and len(info["split"]["test"]) == 12
    assert info["measured_overlap"]["e"]["median"] > info["measured_overlap"]["h"]["median"] > 0.65
