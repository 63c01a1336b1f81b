"""Readers and writers of the hpatches-release / N-HPatches patch files, on fixtures written here."""

import cv2
import numpy as np
import pytest

from descriptors.data import HPatchesRelease, read_patch_file, write_patch_file
from descriptors.data.formats import resize_patches
from descriptors.errors import DataFormatError, ShapeError
from hpatches_eval.patch_types import PATCH_TYPES


def _patches(n, p, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, p, p), dtype=np.uint8)


def _write_release(root, seqs=("i_a", "v_b"), n=3, p=65, noise=False):
    data = {}
    for k, seq in enumerate(seqs):
        for j, t in enumerate(PATCH_TYPES):
            patches = _patches(n + k, p, seed=100 * k + j)
            data[seq, t] = patches
            write_patch_file(root / seq / f"{t}.png", patches)
            if noise:
                write_patch_file(root / seq / f"{t}_noise.png", 255 - patches)
    return data


def test_write_then_read_round_trips_and_stacks_vertically(tmp_path):
    patches = _patches(4, 65)
    write_patch_file(tmp_path / "ref.png", patches)
    image = cv2.imread(str(tmp_path / "ref.png"), cv2.IMREAD_GRAYSCALE)
    assert image.shape == (4 * 65, 65)
    np.testing.assert_array_equal(image[65:130], patches[1])  # patch i sits in rows i*65 .. i*65+64
    out = read_patch_file(tmp_path / "ref.png")
    assert out.dtype == np.uint8 and out.shape == (4, 65, 65)
    np.testing.assert_array_equal(out, patches)
    assert [p.name for p in tmp_path.iterdir()] == ["ref.png"]  # no temp file left behind


def test_read_with_explicit_patch_size(tmp_path):
    write_patch_file(tmp_path / "e1.png", _patches(2, 32))
    assert read_patch_file(tmp_path / "e1.png", patch_size=32).shape == (2, 32, 32)


def test_read_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Patch file not found: .*nope.png"):
        read_patch_file(tmp_path / "nope.png")


def test_read_height_not_multiple(tmp_path):
    cv2.imwrite(str(tmp_path / "ref.png"), np.zeros((100, 65), np.uint8))
    with pytest.raises(DataFormatError, match=r"height of patch file .*ref.png must be a positive multiple.*height=100"):
        read_patch_file(tmp_path / "ref.png")


def test_read_width_differs_from_patch_size(tmp_path):
    cv2.imwrite(str(tmp_path / "ref.png"), np.zeros((130, 65), np.uint8))
    with pytest.raises(DataFormatError, match=r"width of patch file .*ref.png must equal the patch size 32.*width=65"):
        read_patch_file(tmp_path / "ref.png", patch_size=32)


def test_read_corrupt_png(tmp_path):
    (tmp_path / "ref.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not a png")
    with pytest.raises(DataFormatError, match=r"ref.png must be a readable PNG"):
        read_patch_file(tmp_path / "ref.png")


def test_write_rejects_bad_shapes_and_dtypes(tmp_path):
    with pytest.raises(ShapeError, match=r"shape \(N, P, P\).*shape=\(2, 65, 64\)"):
        write_patch_file(tmp_path / "x.png", np.zeros((2, 65, 64), np.uint8))
    with pytest.raises(ShapeError, match=r"N >= 1.*shape=\(0, 65, 65\)"):
        write_patch_file(tmp_path / "x.png", np.zeros((0, 65, 65), np.uint8))
    with pytest.raises(TypeError, match="must be uint8.*float32"):
        write_patch_file(tmp_path / "x.png", np.zeros((2, 65, 65), np.float32))


def test_resize_patches_matches_cv2_inter_area_per_patch():
    patches = _patches(3, 65)
    out = resize_patches(patches, 32)
    for i in range(3):
        np.testing.assert_array_equal(out[i], cv2.resize(patches[i], (32, 32), interpolation=cv2.INTER_AREA))
    # a constant patch stays constant (no bleeding from the neighbour in the stack)
    flat = np.stack([np.full((65, 65), 10, np.uint8), np.full((65, 65), 200, np.uint8)])
    out = resize_patches(flat, 32)
    assert (out[0] == 10).all() and (out[1] == 200).all()


def test_release_lists_sequences_and_loads_lazily(tmp_path):
    data = _write_release(tmp_path)
    (tmp_path / "not_a_sequence").mkdir()
    release = HPatchesRelease(tmp_path)
    assert release.sequences == ["i_a", "v_b"]
    assert release.patch_size == 65 and release.has_noise is False and release.root == tmp_path
    assert release.num_patches("i_a") == 3 and release.num_patches("v_b") == 4
    np.testing.assert_array_equal(release.load("v_b", "h3"), data["v_b", "h3"])
    sequence = release.load_sequence("i_a")
    assert sequence.shape == (16, 3, 65, 65) and sequence.dtype == np.uint8
    for i, t in enumerate(PATCH_TYPES):
        np.testing.assert_array_equal(sequence[i], data["i_a", t])


def test_release_resizes_with_inter_area(tmp_path):
    data = _write_release(tmp_path, seqs=("v_x",))
    release = HPatchesRelease(tmp_path, size=32)
    assert release.patch_size == 32 and release.native_size == 65
    out = release.load("v_x", "t5")
    assert out.shape == (3, 32, 32)
    np.testing.assert_array_equal(out[1], cv2.resize(data["v_x", "t5"][1], (32, 32), interpolation=cv2.INTER_AREA))
    assert release.load_sequence("v_x").shape == (16, 3, 32, 32)


def test_nhpatches_layout_clean_and_noisy(tmp_path):
    data = _write_release(tmp_path, seqs=("i_n",), p=32, noise=True)
    clean, noisy = HPatchesRelease(tmp_path), HPatchesRelease(tmp_path, noisy=True)
    assert clean.patch_size == 32 and clean.has_noise and noisy.noisy
    np.testing.assert_array_equal(clean.load("i_n", "e2"), data["i_n", "e2"])
    np.testing.assert_array_equal(noisy.load("i_n", "e2"), 255 - data["i_n", "e2"])


def test_noisy_without_noise_files(tmp_path):
    _write_release(tmp_path, seqs=("i_a",))
    with pytest.raises(DataFormatError, match=r"noisy=True.*ref_noise.png"):
        HPatchesRelease(tmp_path, noisy=True)


def test_missing_root_and_empty_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="Patch dataset folder not found: .*missing"):
        HPatchesRelease(tmp_path / "missing")
    (tmp_path / "empty_seq").mkdir()
    with pytest.raises(DataFormatError, match=r"must hold sequence folders with a ref.png"):
        HPatchesRelease(tmp_path)


def test_mismatched_patch_counts(tmp_path):
    _write_release(tmp_path, seqs=("v_m",))
    write_patch_file(tmp_path / "v_m" / "h2.png", _patches(5, 65))
    release = HPatchesRelease(tmp_path)
    with pytest.raises(DataFormatError, match=r"h2.png must hold as many patches as .*ref.png \(3\).*5 patches"):
        release.load("v_m", "h2")
    with pytest.raises(DataFormatError, match="h2.png"):
        release.load_sequence("v_m")


def test_missing_patch_type_file_and_bad_names(tmp_path):
    _write_release(tmp_path, seqs=("v_m",))
    (tmp_path / "v_m" / "t4.png").unlink()
    release = HPatchesRelease(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"Patch file not found: .*t4.png"):
        release.load("v_m", "t4")
    with pytest.raises(ValueError, match=r"`patch_type` must be one of.*patch_type='x1'"):
        release.load("v_m", "x1")
    with pytest.raises(KeyError, match="seq='v_zz'"):
        release.load("v_zz", "ref")


def test_split_unknown_name_and_own_splits(tmp_path):
    _write_release(tmp_path / "hpatches-release", seqs=("v_m",))
    release = HPatchesRelease(tmp_path / "hpatches-release")
    assert len(release.split("a").test) == 40  # no own splits.json: the official ones
    with pytest.raises(ValueError, match="Unknown split 'zzz'"):
        release.split("zzz")
    (tmp_path / "tasks" / "splits").mkdir(parents=True)
    (tmp_path / "tasks" / "splits" / "splits.json").write_text('{"default": {"test": ["v_m"], "train": []}}')
    assert release.split("default").test == ("v_m",)
    with pytest.raises(ValueError, match="Unknown split 'a'"):
        release.split("a")
