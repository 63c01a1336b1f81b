"""Reading a labelled image folder `root/<class>/<image>` into `LabelledImages`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from descriptors.embeddings.images import LabelledImages
from descriptors.errors import ConfigError, DataFormatError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm", ".webp")


def load_image_folder(root, image_size: int = 32, channels: int = 1, progress: bool = False) -> LabelledImages:
    """Reads every image of `root/<class>/<image>`; the class of an image is the name of its sub-folder.

    Classes are the sorted sub-folder names (hidden folders and other files are skipped). Each image is read as
    gray (`channels=1`) or RGB (`channels=3`) and resized to `image_size` x `image_size` (area when shrinking,
    bilinear when growing).

    Args:
        root: the folder.
        image_size: side of the output images. Defaults to 32.
        channels: 1 or 3. Defaults to 1.
        progress: show a tqdm bar. Defaults to False.

    Returns:
        `LabelledImages` with images uint8 (N, image_size, image_size, channels).

    Raises:
        FileNotFoundError: `root` is not a folder.
        ConfigError: bad `image_size` or `channels`.
        DataFormatError: no class folder, a class without images, or an unreadable image.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"`root` must be an image folder root/<class>/<image>. Received: root={str(root)!r}")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise ConfigError(f"`image_size` must be a positive integer. Received: image_size={image_size!r}")
    if channels not in (1, 3):
        raise ConfigError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    classes, files, labels = image_folder_files(root)
    images = read_images(files, image_size, channels, progress)
    return LabelledImages(images, np.asarray(labels), tuple(classes))


def image_folder_files(root) -> tuple[list[str], list[Path], list[int]]:
    """(sorted class names, image files class by class, their class indices) of `root/<class>/<image>`.

    Raises:
        DataFormatError: no class folder, or a class without images.
    """
    root = Path(root)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataFormatError(f"{root} has no class sub-folders; expected root/<class>/<image>.")
    files, labels = [], []
    for label, name in enumerate(classes):
        members = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not members:
            raise DataFormatError(f"Class folder {root / name} holds no image ({', '.join(IMAGE_EXTENSIONS)}).")
        files += members
        labels += [label] * len(members)
    return classes, files, labels


def read_images(files, image_size: int = 32, channels: int = 1, progress: bool = False) -> np.ndarray:
    """Reads image files as gray (`channels=1`) or RGB (`channels=3`), resized to `image_size` x `image_size` (area
    when shrinking, bilinear when growing); returns uint8 (N, image_size, image_size, channels).

    Raises:
        DataFormatError: an unreadable image (named).
    """
    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    images = np.empty((len(files), image_size, image_size, channels), dtype=np.uint8)
    for index, path in enumerate(tqdm(files, desc="images", disable=not progress)):
        image = cv2.imread(str(path), flag)
        if image is None:
            raise DataFormatError(f"Cannot read image {path}.")
        if channels == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        shrink = min(image.shape[:2]) > image_size
        image = cv2.resize(image, (image_size, image_size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        images[index] = image.reshape(image_size, image_size, channels)
    return images


def image_files(root) -> list[Path]:
    """The image files directly in `root` (sorted; hidden files skipped), for an unlabelled folder of images."""
    return sorted(p for p in Path(root).iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS)
