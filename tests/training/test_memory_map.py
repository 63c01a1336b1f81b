"""Training patches kept memory-mapped (`--memory-map`): the same arrays and the same batches as in memory. A run
with the patches memory-mapped (interrupted, then resumed) trains the same weights as one in memory, and leaves no
patch file behind: `tests/training/test_trainer.py::test_resume_after_an_interruption_gives_the_same_weights`."""

import json

import numpy as np
import pytest

from descriptors.data.formats import HPatchesRelease
from descriptors.data.patch_tracks import load_tracks
from descriptors.data.sampling import pair_batches
from descriptors.training import trainer as trainer_module
from descriptors.training.batches import TupleBatches
from descriptors.training.config import TrainConfig
from descriptors.training.data_sources import resolve_training_data
from descriptors.training.trainer import PATCH_STORE, denoise_tracks, patch_store


@pytest.fixture(scope="module")
def source_and_sequences(default_dataset_root):
    splits = json.loads((default_dataset_root / "tasks" / "splits" / "splits.json").read_text())
    return HPatchesRelease(default_dataset_root / "nhpatches", noisy=True), splits["default"]["train"][:3]


def test_stored_tracks_equal_the_in_memory_ones(tmp_path, source_and_sequences):
    source, sequences = source_and_sequences
    in_memory = load_tracks(source, sequences, verbose=False)
    stored = load_tracks(source, sequences, verbose=False, store=tmp_path / "c" / "noisy.npy")
    assert isinstance(stored.patches, np.memmap) and not stored.patches.flags.writeable
    np.testing.assert_array_equal(stored.patches, in_memory.patches)
    np.testing.assert_array_equal(stored.sequence_index, in_memory.sequence_index)
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["noisy.npy"]  # no partial file left


def test_track_ids_select_without_copying(source_and_sequences):
    source, sequences = source_and_sequences
    patches = load_tracks(source, sequences[:1], verbose=False).patches
    ids = np.sort(np.random.default_rng(0).choice(len(patches), 40, replace=False))
    plan = pair_batches(len(ids), 64, 16, np.random.default_rng(1))
    copied = TupleBatches(patches[ids], plan, 16, augment_seed=3)
    mapped = TupleBatches(patches, plan, 16, augment_seed=3, track_ids=ids)
    for i in range(len(copied)):
        (x1, y1), (x2, y2) = copied[i], mapped[i]
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)  # labels stay the subset's indices (ArcFace classes)


def test_auto_maps_only_large_training_sets(tmp_path, monkeypatch):
    config = TrainConfig()
    data = resolve_training_data(config)
    assert patch_store(config, data, tmp_path) is None  # the default data: ~0.1 GB per copy
    assert patch_store(config.replace(memory_map="on"), data, tmp_path) == tmp_path / PATCH_STORE
    monkeypatch.setattr(trainer_module, "MEMORY_MAP_BYTES", 1 << 20)
    assert patch_store(config, data, tmp_path) == tmp_path / PATCH_STORE
    assert patch_store(config.replace(memory_map="off"), data, tmp_path) is None


def test_denoised_store_equals_the_in_memory_output(tmp_path, source_and_sequences):
    import keras

    from descriptors.models.registry import build_denoiser

    source, sequences = source_and_sequences
    tracks = load_tracks(source, sequences[:1], verbose=False).subset(np.arange(20))
    keras.utils.set_random_seed(0)
    denoiser = build_denoiser("shallow_unet")
    in_memory = denoise_tracks(denoiser, tracks, batch_size=128, verbose=0)
    stored = denoise_tracks(denoiser, tracks, batch_size=128, verbose=0, store=tmp_path / "denoised.npy")
    assert isinstance(stored.patches, np.memmap) and stored.patches.shape == (20, 16, 32, 32)
    np.testing.assert_array_equal(stored.patches, in_memory.patches)
    assert in_memory.patches.std() > 0


def test_npy_writer_checks_rows_and_leaves_nothing_half_written(tmp_path):
    from descriptors.data.patch_tracks import npy_writer

    data = np.arange(5 * 16 * 2 * 2, dtype=np.uint8).reshape(5, 16, 2, 2)
    with npy_writer(tmp_path / "a.npy", data.shape) as write:
        write(data[:2])
        write(data[2:])
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), data)
    with pytest.raises(ValueError, match=r"4 rows were written, 5 expected"):
        with npy_writer(tmp_path / "b.npy", data.shape) as write:
            write(data[:4])
    with pytest.raises(ValueError, match=r"does not fit"):
        with npy_writer(tmp_path / "c.npy", data.shape) as write:
            write(data[:, :8])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]


def test_recent_in_memory_loads_are_shared_read_only_and_dropped_when_files_change(tmp_path, monkeypatch,
                                                                                   default_dataset_root):
    import os
    import shutil

    from descriptors.data import patch_tracks

    root = tmp_path / "nhpatches"
    for seq in ("i_a", "v_b"):
        shutil.copytree(default_dataset_root / "nhpatches" / sorted(os.listdir(default_dataset_root / "nhpatches"))[0],
                        root / seq)
    first = load_tracks(HPatchesRelease(root, noisy=True), ["i_a", "v_b"], verbose=False)
    again = load_tracks(HPatchesRelease(root, noisy=True), ["i_a", "v_b"], verbose=False)
    assert again is first and not first.patches.flags.writeable
    clean = load_tracks(HPatchesRelease(root), ["i_a", "v_b"], verbose=False)
    assert clean is not first and not np.array_equal(clean.patches, first.patches)  # noisy and clean differ
    (root / "v_b" / "ref.png").replace(root / "v_b" / "ref.tmp")  # files rewritten: the folder changes
    (root / "v_b" / "ref.tmp").replace(root / "v_b" / "ref.png")
    fresh = load_tracks(HPatchesRelease(root, noisy=True), ["i_a", "v_b"], verbose=False)
    assert fresh is not first
    np.testing.assert_array_equal(fresh.patches, first.patches)
    monkeypatch.setattr(patch_tracks, "CACHE_MAX_BYTES", 0)
    monkeypatch.setattr(patch_tracks, "_RECENT", {})
    big = load_tracks(HPatchesRelease(root, noisy=True), ["i_a"], verbose=False)
    assert load_tracks(HPatchesRelease(root, noisy=True), ["i_a"], verbose=False) is not big
    assert big.patches.flags.writeable
