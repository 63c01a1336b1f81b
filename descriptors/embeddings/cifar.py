"""CIFAR-10 / CIFAR-100 in their *binary* distribution format (``cifar-10-batches-bin``, ``cifar-100-binary``).

No pickle is read: the binary version is fixed-size records. CIFAR-10: ``data_batch_1.bin`` ..
``data_batch_5.bin`` and ``test_batch.bin``, each record 1 label byte then 3,072 pixel bytes (the red, green and
blue 32x32 planes, row-major); class names in ``batches.meta.txt``. CIFAR-100: ``train.bin`` and ``test.bin``,
each record a coarse label byte, a fine label byte, then the 3,072 pixel bytes; names in
``fine_label_names.txt`` and ``coarse_label_names.txt``. `write_cifar_binary` writes the same format, and
`build_cifar_standin` makes an offline stand-in from the bundled default images (for tests and demos).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from descriptors.embeddings.images import LabelledImages
from descriptors.errors import ConfigError, DataFormatError

SIDE = 32
PIXELS = 3 * SIDE * SIDE
CIFAR10_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST = ("test_batch.bin",)
SPLITS = ("train", "test", "all")
LABELS = ("fine", "coarse")
CIFAR_PREFIX = "cifar:"


def cifar_variant(root) -> str:
    """``"cifar10"`` or ``"cifar100"`` from the files in ``root``.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        DataFormatError: neither layout's files are there (the message lists what was expected).
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"CIFAR folder not found: {str(root)!r}")
    if any((root / name).is_file() for name in CIFAR10_TRAIN + CIFAR10_TEST):
        return "cifar10"
    if (root / "train.bin").is_file() or (root / "test.bin").is_file():
        return "cifar100"
    raise DataFormatError(f"{root} holds no CIFAR binary files: expected data_batch_1.bin .. data_batch_5.bin and "
                          "test_batch.bin (CIFAR-10) or train.bin and test.bin (CIFAR-100), the *binary* version")


def _names(path: Path, count: int, prefix: str) -> tuple[str, ...]:
    if path.is_file():
        names = tuple(line.strip() for line in path.read_text().splitlines() if line.strip())
        if len(names) == count:
            return names
        raise DataFormatError(f"{path} must name {count} classes, one per line. Received: {len(names)} names")
    return tuple(f"{prefix}{i}" for i in range(count))


def _records(path: Path, header: int) -> np.ndarray:
    size = path.stat().st_size
    record = header + PIXELS
    if size == 0 or size % record:
        raise DataFormatError(f"{path} must hold whole {record}-byte CIFAR records. Received: {size} bytes "
                              f"({size / record:.2f} records)")
    return np.fromfile(path, dtype=np.uint8).reshape(-1, record)


def read_cifar_binary(root, split: str = "train", label: str = "fine", image_size: int = SIDE,
                      channels: int = 3) -> LabelledImages:
    """Reads CIFAR-10 or CIFAR-100 (binary) into `LabelledImages`.

    Args:
        root: the folder holding the ``.bin`` files (``cifar-10-batches-bin`` or ``cifar-100-binary``).
        split: "train", "test" or "all" (both, train first). Defaults to "train".
        label: CIFAR-100 only: "fine" (100 classes) or "coarse" (20 superclasses). Defaults to "fine".
        image_size: side of the returned images (area-resized from 32). Defaults to 32.
        channels: 3 (RGB, as stored) or 1 (gray, ITU-R 601 weights). Defaults to 3.

    Returns:
        `LabelledImages` uint8 (N, image_size, image_size, channels).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ConfigError: bad ``split``, ``label``, ``image_size`` or ``channels``.
        DataFormatError: missing files of the split, a file that is not whole records, a label out of range.

    Example:
        >>> data = read_cifar_binary("cifar-10-batches-bin", split="test")  # doctest: +SKIP
        >>> data.images.shape, len(data.class_names)  # doctest: +SKIP
        ((10000, 32, 32, 3), 10)
    """
    if split not in SPLITS:
        raise ConfigError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    if label not in LABELS:
        raise ConfigError(f"`label` must be one of {LABELS}. Received: label={label!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ConfigError(f"`image_size` must be a positive integer. Received: image_size={image_size!r}")
    if channels not in (1, 3):
        raise ConfigError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    root = Path(root)
    variant = cifar_variant(root)
    if variant == "cifar10":
        files = {"train": CIFAR10_TRAIN, "test": CIFAR10_TEST}
        header, column, classes = 1, 0, 10
        names = _names(root / "batches.meta.txt", 10, "class_")
    else:
        files = {"train": ("train.bin",), "test": ("test.bin",)}
        header, column = 2, (1 if label == "fine" else 0)
        classes = 100 if label == "fine" else 20
        names = _names(root / f"{label}_label_names.txt", classes, f"{label}_")
    wanted = files["train"] + files["test"] if split == "all" else files[split]
    missing = [name for name in wanted if not (root / name).is_file()]
    if missing:
        raise DataFormatError(f"{root} lacks the {variant} {split} files {missing}")
    records = np.concatenate([_records(root / name, header) for name in wanted])
    labels = records[:, column].astype(np.int64)
    if labels.max(initial=0) >= classes:
        raise DataFormatError(f"{root}: a {variant} label is {int(labels.max())}, above the {classes - 1} allowed")
    images = records[:, header:].reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)  # planes -> (N, 32, 32, RGB)
    images = _converted(images, image_size, channels)
    return LabelledImages(images, labels, names)


def _converted(rgb: np.ndarray, image_size: int, channels: int) -> np.ndarray:
    out = np.empty((len(rgb), image_size, image_size, channels), np.uint8)
    for i, image in enumerate(rgb):
        if channels == 1:
            image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        if image_size != SIDE:
            shrink = image_size < SIDE
            image = cv2.resize(image, (image_size, image_size),
                               interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        out[i] = image.reshape(image_size, image_size, channels)
    return out


def write_cifar_binary(out_dir, images: np.ndarray, labels: np.ndarray, file_name: str = "data_batch_1.bin",
                       coarse_labels: np.ndarray | None = None) -> Path:
    """Writes images in the CIFAR binary record format (CIFAR-100's when ``coarse_labels`` is given).

    Args:
        out_dir: the folder (created).
        images: uint8 (N, 32, 32, 3) RGB.
        labels: (N,) labels 0..255 (the fine label for CIFAR-100).
        file_name: the file to write. Defaults to "data_batch_1.bin".
        coarse_labels: (N,) CIFAR-100 coarse labels, or None for CIFAR-10 records.

    Returns:
        The written file (written under a temporary name, then renamed).

    Raises:
        DataFormatError: images not uint8 (N, 32, 32, 3), or labels not (N,) in 0..255.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8 or images.shape[1:] != (SIDE, SIDE, 3):
        raise DataFormatError(f"`images` must be uint8 (N, 32, 32, 3). Received: {images.dtype} {images.shape}")
    columns = [labels] if coarse_labels is None else [np.asarray(coarse_labels), labels]
    for column in columns:
        if column.shape != (len(images),) or column.min(initial=0) < 0 or column.max(initial=0) > 255:
            raise DataFormatError(f"labels must be ({len(images)},) integers in 0..255. Received: {column.shape}")
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), PIXELS)
    records = np.concatenate([np.stack(columns, axis=1).astype(np.uint8), planes], axis=1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / file_name
    partial = out / f".{file_name}.partial-{os.getpid()}"
    try:
        records.tofile(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def build_cifar_standin(out_dir, test_fraction: float = 0.2, seed: int = 0) -> Path:
    """A small CIFAR-10-format folder from the bundled digits (10 classes, 1,797 images, gray copied to RGB): the
    five ``data_batch_*.bin`` (train split in five parts), ``test_batch.bin`` and ``batches.meta.txt``.

    Returns:
        ``out_dir``.
    """
    from descriptors.embeddings.default_data import load_default_images

    digits = load_default_images("digits", SIDE)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.labels))
    cut = int(round(len(order) * test_fraction))
    rgb = np.repeat(digits.images, 3, axis=-1)
    out = Path(out_dir)
    write_cifar_binary(out, rgb[order[:cut]], digits.labels[order[:cut]], "test_batch.bin")
    for part, rows in enumerate(np.array_split(order[cut:], 5), start=1):
        write_cifar_binary(out, rgb[rows], digits.labels[rows], f"data_batch_{part}.bin")
    (out / "batches.meta.txt").write_text("".join(f"{name}\n" for name in digits.class_names))
    return out


def check_cifar_data(data: str) -> Path:
    """The folder of a ``cifar:DIR`` data option, checked (variant files present) before any work.

    Raises:
        ConfigError: the folder is missing or holds no CIFAR binary files.
    """
    folder = Path(data[len(CIFAR_PREFIX):])
    try:
        cifar_variant(folder)
    except (FileNotFoundError, DataFormatError) as error:
        raise ConfigError(f"`data` {data!r} is not a CIFAR binary folder: {error}") from None
    return folder
