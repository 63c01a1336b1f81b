"""The CIFAR-10/100 binary reader: records decoded by hand, the offline stand-in, `--data cifar:DIR` and bad files."""

import numpy as np
import pytest

from descriptors.embeddings.cifar import (build_cifar_standin, cifar_variant, read_cifar_binary,
                                          write_cifar_binary)
from descriptors.embeddings.config import EmbedConfig
from descriptors.errors import ConfigError, DataFormatError


def _images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_cifar10_records_are_label_then_red_green_blue_planes(tmp_path):
    images = _images(3)
    write_cifar_binary(tmp_path, images, np.array([7, 0, 9]), "test_batch.bin")
    raw = np.fromfile(tmp_path / "test_batch.bin", dtype=np.uint8).reshape(3, 3073)
    assert raw[1, 0] == 0 and raw[2, 0] == 9
    assert raw[0, 1] == images[0, 0, 0, 0] and raw[0, 2] == images[0, 0, 1, 0]  # red plane, row-major
    assert raw[0, 1 + 1024] == images[0, 0, 0, 1] and raw[0, 1 + 2048 + 33] == images[0, 1, 1, 2]
    data = read_cifar_binary(tmp_path, split="test")
    assert cifar_variant(tmp_path) == "cifar10" and data.class_names == tuple(f"class_{i}" for i in range(10))
    np.testing.assert_array_equal(data.images, images)
    np.testing.assert_array_equal(data.labels, [7, 0, 9])
    gray = read_cifar_binary(tmp_path, split="test", channels=1, image_size=16)
    assert gray.images.shape == (3, 16, 16, 1)
    expected = np.rint(images[0].astype(float) @ [0.299, 0.587, 0.114])  # ITU-R 601, then area-resized
    assert abs(float(gray.images[0].mean()) - expected.mean()) < 1.0


def test_cifar100_fine_and_coarse_labels(tmp_path):
    images = _images(4, seed=1)
    write_cifar_binary(tmp_path, images, np.array([99, 5, 0, 42]), "train.bin", coarse_labels=np.array([19, 1, 0, 8]))
    (tmp_path / "coarse_label_names.txt").write_text("".join(f"super{i}\n" for i in range(20)))
    fine = read_cifar_binary(tmp_path)
    coarse = read_cifar_binary(tmp_path, label="coarse")
    assert cifar_variant(tmp_path) == "cifar100" and len(fine.class_names) == 100 and coarse.class_names[19] == "super19"
    np.testing.assert_array_equal(fine.labels, [99, 5, 0, 42])
    np.testing.assert_array_equal(coarse.labels, [19, 1, 0, 8])
    np.testing.assert_array_equal(fine.images, images)


def test_standin_and_data_option(tmp_path):
    folder = build_cifar_standin(tmp_path / "cifar")
    train, test = read_cifar_binary(folder), read_cifar_binary(folder, split="test")
    assert len(train.labels) + len(test.labels) == 1797 and len(test.labels) == 359
    assert train.class_names == tuple(str(d) for d in range(10))
    assert np.array_equal(train.images[..., 0], train.images[..., 2])  # gray digits copied to RGB
    assert EmbedConfig(data=f"cifar:{folder}").data == f"cifar:{folder}"
    with pytest.raises(ConfigError, match=r"is not a CIFAR binary folder.*data_batch_1.bin"):
        EmbedConfig(data=f"cifar:{tmp_path}")


def test_damaged_files_are_named(tmp_path):
    write_cifar_binary(tmp_path, _images(2), np.array([1, 2]), "test_batch.bin")
    with pytest.raises(DataFormatError, match=r"lacks the cifar10 train files \['data_batch_1.bin'"):
        read_cifar_binary(tmp_path, split="train")
    with open(tmp_path / "test_batch.bin", "ab") as handle:
        handle.write(b"\0" * 100)
    with pytest.raises(DataFormatError, match=r"test_batch.bin must hold whole 3073-byte CIFAR records"):
        read_cifar_binary(tmp_path, split="test")
    write_cifar_binary(tmp_path, _images(1), np.array([12]), "test_batch.bin")
    with pytest.raises(DataFormatError, match=r"label is 12, above the 9 allowed"):
        read_cifar_binary(tmp_path, split="test")
    (tmp_path / "batches.meta.txt").write_text("a\nb\n")
    with pytest.raises(DataFormatError, match=r"must name 10 classes"):
        read_cifar_binary(tmp_path, split="test")
    with pytest.raises(ConfigError, match="split"):
        read_cifar_binary(tmp_path, split="val")
