"""Image sequences in the hpatches-sequences-release format: ``<seq>/1..6.ppm`` and ``H_1_2..H_1_6``.

``H_1_k`` is a 3x3 homography in plain text mapping pixel coordinates of image 1 (the reference) to image k:
``x_k ~ H_1_k @ x_1`` (homogeneous coordinates, x right, y down, 0-based pixel centres as OpenCV uses them).

A sequence folder may also hold fewer targets: 2..6 images ``1..n.<ext>`` (the reference and 1..5 targets, numbered
without gaps) with ``H_1_2..H_1_n``. The smallest, ``1.<ext>``, ``2.<ext>``, ``H_1_2``, is the usual layout of
public homography *pair* benchmarks. HPatches itself always has 6 images; the dataset builder (whose patch layout
needs 5 targets) skips shorter sequences with a reason, while the matching evaluation uses every pair there is.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

import cv2
import numpy as np

from descriptors.errors import DataFormatError
from hpatches_eval.output_safety import new_temp_file

IMAGE_EXTENSIONS = (".ppm", ".png", ".jpg", ".jpeg", ".pgm", ".tif", ".tiff", ".bmp")
NUM_IMAGES = 6  # HPatches: a reference and 5 targets
MIN_IMAGES = 2  # a pair: a reference and 1 target


@dataclasses.dataclass
class ImageSequence:
    """One reference image plus 1..5 targets (5 in HPatches) related to it by homographies.

    Attributes:
        name: sequence name (``i_*`` photometric, ``v_*`` viewpoint by HPatches convention).
        images: 2..6 images (6 in HPatches), uint8 ``(H, W)`` or ``(H, W, 3)`` (BGR as read by OpenCV);
            ``images[0]`` is the reference.
        homographies: one 3x3 float64 array per target (``len(images) - 1``); ``homographies[k-1]`` maps image 1 to
            image ``k+1``.
    """

    name: str
    images: list
    homographies: list

    def __post_init__(self):
        if not MIN_IMAGES <= len(self.images) <= NUM_IMAGES:
            raise DataFormatError(
                f"`images` of sequence {self.name!r} must hold {MIN_IMAGES}..{NUM_IMAGES} images (a reference and "
                f"1..{NUM_IMAGES - 1} targets). Received: {len(self.images)}"
            )
        if len(self.homographies) != len(self.images) - 1:
            raise DataFormatError(
                f"`homographies` of sequence {self.name!r} must hold {len(self.images) - 1} 3x3 matrices (one per "
                f"target image). Received: {len(self.homographies)}"
            )
        for i, image in enumerate(self.images):
            image = np.asarray(image)
            if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
                raise DataFormatError(
                    f"Image {i + 1} of sequence {self.name!r} must be uint8 (H, W) or (H, W, 3). "
                    f"Received: dtype={image.dtype}, shape={image.shape}"
                )
        hs = [np.asarray(h, np.float64) for h in self.homographies]
        for k, h in enumerate(hs):
            if h.shape != (3, 3) or not np.all(np.isfinite(h)):
                raise DataFormatError(
                    f"Homography H_1_{k + 2} of sequence {self.name!r} must be a finite 3x3 matrix. "
                    f"Received: shape={h.shape}"
                )
        # H and -H are the same homography; keep the sign that puts image 1's centre in front (w > 0), as the
        # patch geometry expects
        height, width = np.asarray(self.images[0]).shape[:2]
        centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0, 1.0])
        self.homographies = [-h if float(h[2] @ centre) < 0 else h for h in hs]

    @property
    def num_targets(self) -> int:
        """Number of target images (1..5; 5 in HPatches)."""
        return len(self.images) - 1

    def gray(self, index: int) -> np.ndarray:
        """Image ``index`` (0-based) as a uint8 ``(H, W)`` greyscale array."""
        image = self.images[index]
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _find_image(folder: Path, index: int) -> Path:
    for ext in IMAGE_EXTENSIONS:
        path = folder / f"{index}{ext}"
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"Image {index} of sequence folder {folder} not found: expected {index}.ppm (or one of {IMAGE_EXTENSIONS})."
    )


def read_homography(path: str | Path) -> np.ndarray:
    """Reads a 3x3 homography written as three lines of three numbers.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        DataFormatError: if the text is not 9 finite numbers in 3 rows or the matrix is singular.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Homography file not found: {path} (expected a 3x3 text matrix)")
    try:
        rows = [[float(v) for v in line.replace(",", " ").split()] for line in path.read_text().splitlines()
                if line.strip()]
    except ValueError as error:
        raise DataFormatError(f"Homography file {path} must hold a 3x3 matrix of numbers: {error}") from error
    if [len(r) for r in rows] != [3, 3, 3] or not np.all(np.isfinite(rows)):
        raise DataFormatError(
            f"Homography file {path} must hold a 3x3 matrix of finite numbers (3 rows of 3). "
            f"Received: rows of lengths {[len(r) for r in rows]}"
        )
    h = np.array(rows, np.float64)
    det = float(np.linalg.det(h))
    if abs(det) < 1e-12:
        raise DataFormatError(f"Homography file {path} must hold an invertible matrix. Received: det={det:.3g}")
    return h


@contextlib.contextmanager
def _quiet_opencv():
    """Silences OpenCV's own log lines (e.g. "[ERROR] ... readHeader") while decoding; we raise our own error."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:  # an OpenCV build without the logging module
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def read_image(file: str | Path) -> np.ndarray:
    """Reads one sequence image as uint8 ``(H, W)`` or ``(H, W, 3)`` BGR (alpha dropped, 16-bit scaled down).

    Raises:
        DataFormatError: if the file cannot be decoded.
    """
    with _quiet_opencv():
        image = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DataFormatError(f"Image file {file} must be a readable image; cv2.imread could not decode it.")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    return image


class SequenceLoader:
    """A zero-argument callable that reads one sequence folder when called (so builds hold one at a time).

    Attributes:
        folder: the sequence folder.
        sequence_name: the sequence's name (the folder's name), known before reading.
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.sequence_name = self.folder.name

    def __call__(self) -> "ImageSequence":
        return read_image_sequence(self.folder)

    def __repr__(self) -> str:
        return f"SequenceLoader({str(self.folder)!r})"


def _has_image(folder: Path, index: int) -> bool:
    return any((folder / f"{index}{ext}").is_file() for ext in IMAGE_EXTENSIONS)


def sequence_length(folder: str | Path) -> int:
    """How many images the sequence folder holds: the highest ``n`` in 1..6 with an ``n.<ext>`` image.

    Images ``1..n`` must all exist (checked when the folder is read), so a missing middle image is an error, not a
    shorter sequence. Returns 0 or 1 for folders that are not sequences (reading them raises).
    """
    folder = Path(folder)
    return max((i for i in range(1, NUM_IMAGES + 1) if _has_image(folder, i)), default=0)


def read_image_sequence(path: str | Path) -> ImageSequence:
    """Reads one hpatches-sequences-release folder (``1..n.ppm`` or .png/.jpg, ``H_1_2..H_1_n``, n = 2..6).

    ``n`` is the highest image number present (6 in HPatches, 2 for an image pair); images ``1..n`` and the
    homographies ``H_1_2..H_1_n`` must all exist.

    Raises:
        FileNotFoundError: if the folder, an image below ``n`` or a homography file is missing, or the folder holds
            fewer than 2 images.
        DataFormatError: if an image cannot be decoded or a homography is malformed.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"Sequence folder not found: {folder}")
    count = sequence_length(folder)
    if count < MIN_IMAGES:
        raise FileNotFoundError(
            f"Image {count + 1} of sequence folder {folder} not found: a sequence needs a reference 1.ppm and at "
            f"least one target 2.ppm (or one of {IMAGE_EXTENSIONS}), with H_1_2."
        )
    images = []
    for index in range(1, count + 1):
        images.append(read_image(_find_image(folder, index)))
    homographies = [read_homography(folder / f"H_1_{k}") for k in range(2, count + 1)]
    try:
        return ImageSequence(folder.name, images, homographies)
    except DataFormatError as error:
        raise DataFormatError(f"Sequence folder {folder}: {error}") from error


def list_sequence_folders(root: str | Path) -> list[Path]:
    """Sorted sub-folders of ``root`` that look like sequences (hold a ``1.<ext>`` image).

    Raises:
        FileNotFoundError: if ``root`` is not a folder.
        DataFormatError: if ``root`` holds no sequence folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Sequences folder not found: {root}")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any((p / f"1{e}").is_file()
                                                                      for e in IMAGE_EXTENSIONS))
    if not folders:
        raise DataFormatError(
            f"Folder {root} must hold sequence folders in the hpatches-sequences-release format "
            f"(<seq>/1.ppm..6.ppm and H_1_2..H_1_6, or fewer targets down to a pair <seq>/1.ppm, 2.ppm, H_1_2)."
        )
    return folders


def write_image_sequence(folder: str | Path, sequence: ImageSequence, ext: str = ".ppm") -> Path:
    """Writes ``sequence`` as ``<folder>/<name>/1..n<ext>`` plus ``H_1_2..H_1_n``; returns the sequence folder.

    Grey images written as ``.ppm`` (a colour format: the official sequences' extension) are stored with three
    equal channels, so reading them back and converting to grey gives the same pixels.
    """
    out = Path(folder) / sequence.name
    out.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(sequence.images, start=1):
        if ext.lower() == ".ppm" and image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        tmp = str(new_temp_file(out / f"{index}{ext}", suffix=ext))
        if not cv2.imwrite(tmp, image):
            os.unlink(tmp)
            raise OSError(f"cv2.imwrite could not write image {index} of {sequence.name!r} as {ext} "
                          f"(shape {image.shape}, dtype {image.dtype})")
        os.replace(tmp, out / f"{index}{ext}")
    for k, h in enumerate(sequence.homographies, start=2):
        tmp = new_temp_file(out / f"H_1_{k}")
        with open(tmp, "w") as f:
            np.savetxt(f, h, fmt="%.10g")
        os.replace(tmp, out / f"H_1_{k}")
    return out
