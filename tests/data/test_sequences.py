"""hpatches-sequences-release reader on sequences written here."""

import cv2
import numpy as np
import pytest

from descriptors.data import ImageSequence, read_image_sequence
from descriptors.data.sequences import list_sequence_folders, read_homography, write_image_sequence
from descriptors.errors import DataFormatError


def _sequence(name="v_toy", color=True):
    rng = np.random.default_rng(0)
    shape = (40, 50, 3) if color else (40, 50)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(6)]
    hs = [np.array([[1.0, 0.1 * k, 2.0], [0.0, 1.0, -1.5], [1e-4, 0.0, 1.0]]) for k in range(5)]
    return ImageSequence(name, images, hs)


@pytest.mark.parametrize("ext", [".ppm", ".png"])
def test_round_trip(tmp_path, ext):
    sequence = _sequence()
    folder = write_image_sequence(tmp_path, sequence, ext=ext)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{i}{ext}" for i in range(1, 7)] +
                                                              [f"H_1_{k}" for k in range(2, 7)])
    back = read_image_sequence(folder)
    assert back.name == "v_toy" and len(back.images) == 6 and len(back.homographies) == 5
    for a, b in zip(back.images, sequence.images):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(back.homographies, sequence.homographies):
        assert a.dtype == np.float64 and a.shape == (3, 3)
        np.testing.assert_allclose(a, b, rtol=1e-9)
    assert back.gray(0).shape == (40, 50)
    assert list_sequence_folders(tmp_path) == [folder]


def test_grey_ppm_round_trip(tmp_path):
    sequence = _sequence(color=False)
    folder = write_image_sequence(tmp_path, sequence)  # .ppm holds colour only: stored as 3 equal channels
    back = read_image_sequence(folder)
    for i, image in enumerate(sequence.images):
        np.testing.assert_array_equal(back.gray(i), image)
    assert not list(folder.glob("tmp*"))


def test_grey_jpg_images(tmp_path):
    folder = write_image_sequence(tmp_path, _sequence(color=False), ext=".jpg")
    back = read_image_sequence(folder)
    assert back.images[0].shape == (40, 50)


def test_homography_text_format(tmp_path):
    (tmp_path / "H").write_text("2.3594 0.0026252 -116.05\n0.5085 2.302 -550.96\n0.0013826 0.0001837 1.0004\n")
    h = read_homography(tmp_path / "H")
    assert h[0, 2] == -116.05 and h[2, 1] == 0.0001837


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="Sequence folder not found: .*nowhere"):
        read_image_sequence(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="Sequences folder not found"):
        list_sequence_folders(tmp_path / "nowhere")
    with pytest.raises(DataFormatError, match="must hold sequence folders"):
        list_sequence_folders(tmp_path)


def test_missing_image(tmp_path):
    folder = write_image_sequence(tmp_path, _sequence())
    (folder / "4.ppm").unlink()
    with pytest.raises(FileNotFoundError, match=r"Image 4 of sequence folder .*v_toy not found: expected 4.ppm"):
        read_image_sequence(folder)


def test_corrupt_image(tmp_path):
    folder = write_image_sequence(tmp_path, _sequence())
    (folder / "2.ppm").write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match=r"2.ppm must be a readable image"):
        read_image_sequence(folder)


def test_missing_homography(tmp_path):
    folder = write_image_sequence(tmp_path, _sequence())
    (folder / "H_1_5").unlink()
    with pytest.raises(FileNotFoundError, match=r"Homography file not found: .*H_1_5"):
        read_image_sequence(folder)


@pytest.mark.parametrize("text, match", [
    ("1 0 0\n0 1 0\n", r"lengths \[3, 3\]"),
    ("1 0 0\n0 1 x\n0 0 1\n", "could not convert"),
    ("1 0 0 0\n0 1 0\n0 0 1\n", r"lengths \[4, 3, 3\]"),
    ("0 0 0\n0 0 0\n0 0 0\n", "invertible"),
])
def test_malformed_homography(tmp_path, text, match):
    folder = write_image_sequence(tmp_path, _sequence())
    (folder / "H_1_3").write_text(text)
    with pytest.raises(DataFormatError, match=r"Homography file .*H_1_3 must hold .*" + match):
        read_image_sequence(folder)


def test_image_sequence_validation():
    images = _sequence().images
    with pytest.raises(DataFormatError, match=r"must hold 4 3x3 matrices \(one per target image\). Received: 5"):
        ImageSequence("x", images[:5], [np.eye(3)] * 5)
    with pytest.raises(DataFormatError, match="must hold 5 3x3 matrices .*Received: 4"):
        ImageSequence("x", images, [np.eye(3)] * 4)
    with pytest.raises(DataFormatError, match=r"H_1_2 .* finite 3x3 matrix. Received: shape=\(2, 2\)"):
        ImageSequence("x", images, [np.eye(2)] + [np.eye(3)] * 4)
    with pytest.raises(DataFormatError, match="Image 1 of sequence 'x' must be uint8"):
        ImageSequence("x", [images[0].astype(float)] + images[1:], [np.eye(3)] * 5)


# --- sequences of 2..6 images (a reference and 1..5 targets; 2 images = the pairs layout) ---

@pytest.mark.parametrize("count", [2, 4])
def test_short_sequence_round_trip(tmp_path, count):
    full = _sequence("v_short", color=False)
    sequence = ImageSequence("v_short", full.images[:count], full.homographies[:count - 1])
    assert sequence.num_targets == count - 1
    folder = write_image_sequence(tmp_path, sequence, ext=".png")
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{i}.png" for i in range(1, count + 1)] +
                                                              [f"H_1_{k}" for k in range(2, count + 1)])
    back = read_image_sequence(folder)
    assert len(back.images) == count and len(back.homographies) == count - 1 and back.num_targets == count - 1
    for a, b in zip(back.images, sequence.images):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(back.homographies, sequence.homographies):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    assert list_sequence_folders(tmp_path) == [folder]


def test_short_sequence_errors(tmp_path):
    full = _sequence("v_pair")
    folder = write_image_sequence(tmp_path, ImageSequence("v_pair", full.images[:3], full.homographies[:2]))
    (folder / "2.ppm").unlink()  # 1 and 3 present: a gap, not a 1-target sequence
    with pytest.raises(FileNotFoundError, match=r"Image 2 of sequence folder .*v_pair not found"):
        read_image_sequence(folder)
    lone = tmp_path / "v_lone"
    lone.mkdir()
    cv2.imwrite(str(lone / "1.png"), full.images[0])
    with pytest.raises(FileNotFoundError, match=r"Image 2 of sequence folder .*v_lone not found: a sequence needs "
                                                r"a reference 1.ppm and at least one target"):
        read_image_sequence(lone)
    pair = write_image_sequence(tmp_path, ImageSequence("v_two", full.images[:2], full.homographies[:1]))
    (pair / "H_1_2").unlink()
    with pytest.raises(FileNotFoundError, match=r"Homography file not found: .*v_two/H_1_2"):
        read_image_sequence(pair)
    with pytest.raises(DataFormatError, match=r"must hold 2..6 images \(a reference and 1..5 targets\). "
                                              r"Received: 1"):
        ImageSequence("x", full.images[:1], [])
    with pytest.raises(DataFormatError, match="must hold 2..6 images .*Received: 7"):
        ImageSequence("x", full.images + full.images[:1], [np.eye(3)] * 6)


def test_builder_skips_short_sequences_with_a_reason(tmp_path):
    from descriptors.data.builder import SkippedSequenceWarning, build_dataset

    full = _sequence("v_pair", color=False)
    short = ImageSequence("v_pair", full.images[:2], full.homographies[:1])
    with pytest.warns(SkippedSequenceWarning, match=r"'v_pair' skipped: holds 2 images; the HPatches patch layout "
                                                    r"\(e1..e5, h1..h5, t1..t5\) needs 6"):
        with pytest.raises(DataFormatError, match="No usable sequence"):
            build_dataset([short], tmp_path / "ds", progress=False)
    assert not (tmp_path / "ds").exists()
