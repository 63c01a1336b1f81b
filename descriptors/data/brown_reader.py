"""Reader of the Brown / UBC PhotoTour patch datasets (liberty, notredame, yosemite) in their distributed layout.

One subset folder holds:

* ``patchesNNNN.bmp`` (0000, 0001, ...): 1024x1024 greyscale grids of 16x16 patches of 64x64 pixels, read row by
  row, file after file; the last file is only partly filled;
* ``info.txt``: one line per patch, two integers: the 3D point id (the class) and a second value the standard
  protocol does not use (our writer stores the source image index there);
* ``interest.txt``: one line per patch, the interest point it was sampled at (image index, x, y, orientation,
  scale); read only on request;
* ``m50_<n>_<n>_0.txt``: pair lists (see `hpatches_eval.phototour.pairs`).

`BrownSubset` reads ``info.txt`` when opened and decodes a bitmap only when one of its patches is asked for (a
few decoded bitmaps are kept). Every malformed file raises `DataFormatError` naming the file.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from descriptors.errors import DataFormatError
from hpatches_eval.errors import TaskFileError
from hpatches_eval.phototour.pairs import PairList, read_pairs_file

PATCH_SIZE = 64
GRID = 16  # patches per row and per column of one bitmap
PATCHES_PER_IMAGE = GRID * GRID
IMAGE_SIDE = PATCH_SIZE * GRID
SUBSETS = ("liberty", "notredame", "yosemite")
PAIR_COUNTS = (1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000)
INTEREST_COLUMNS = 5
_BITMAP_NAME = re.compile(r"^patches(\d{4})\.bmp$")


def image_name(index: int) -> str:
    """File name of bitmap ``index``: ``patches0000.bmp``, ``patches0001.bmp``, ..."""
    return f"patches{index:04d}.bmp"


def pairs_name(count: int) -> str:
    """File name of the pair list with ``count`` pairs, e.g. ``m50_100000_100000_0.txt``."""
    return f"m50_{count}_{count}_0.txt"


def _read_table(path: Path, columns: int, dtype, what: str) -> np.ndarray:
    """A whitespace table with ``columns`` numbers a line; DataFormatError naming the file and line otherwise."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise DataFormatError(f"{path} is missing; a Brown subset folder needs {what}.") from None
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{path} is not a text file ({error.reason}); expected {what}.") from None
    except OSError as error:
        raise DataFormatError(f"{path} cannot be read: {error.strerror or error}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataFormatError(f"{path} is empty; expected {what}.")
    tokens = text.split()
    try:
        if len(tokens) != columns * len(lines):
            raise ValueError
        return np.array(tokens).astype(dtype).reshape(len(lines), columns)
    except (ValueError, OverflowError):
        pass
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if len(fields) != columns:
            raise DataFormatError(f"{path} line {number} has {len(fields)} fields, expected {columns} ({what}): "
                                  f"{line[:80]!r}") from None
        try:
            np.array(fields).astype(dtype)
        except (ValueError, OverflowError):
            raise DataFormatError(f"{path} line {number} is not {columns} numbers of type "
                                  f"{np.dtype(dtype).name} ({what}): {line[:80]!r}") from None
    raise DataFormatError(f"{path} is not a table of {columns} numbers a line ({what}).")


class BrownSubset:
    """One Brown / UBC PhotoTour subset folder, read lazily.

    Args:
        root: the subset folder (e.g. ``.../liberty``) with ``info.txt`` and ``patchesNNNN.bmp``.
        cached_images: how many decoded bitmaps to keep in memory (1 MiB each).

    Attributes:
        root: the folder.
        point_ids: 3D point id of each patch (column 0 of ``info.txt``), int64 (N,).
        info_second: column 1 of ``info.txt``, int64 (N,) (unused by the standard protocol).

    Raises:
        DataFormatError: the folder, ``info.txt`` or the set of bitmaps is missing or malformed (too few or too
            many bitmaps for the number of patches, a gap in their numbering).
    """

    def __init__(self, root: str | Path, cached_images: int = 8):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataFormatError(f"A Brown subset must be an existing folder. Received: {str(self.root)!r}")
        info = _read_table(self.root / "info.txt", 2, np.int64, "one line per patch: 3D point id, second integer")
        self.point_ids = info[:, 0].copy()
        self.info_second = info[:, 1].copy()
        numbers = sorted(int(m.group(1)) for p in self.root.iterdir() if (m := _BITMAP_NAME.match(p.name)))
        expected = -(-len(self.point_ids) // PATCHES_PER_IMAGE)
        if numbers != list(range(len(numbers))):
            missing = sorted(set(range(max(numbers, default=-1) + 1)) - set(numbers))
            raise DataFormatError(f"The bitmaps of {self.root} must be numbered patches0000.bmp, patches0001.bmp, "
                                  f"... without gaps. Missing: {[image_name(i) for i in missing[:5]]}")
        if len(numbers) != expected:
            raise DataFormatError(f"{self.root} has {len(numbers)} patchesNNNN.bmp files, but its info.txt lists "
                                  f"{len(self.point_ids)} patches, which need {expected} (256 patches per bitmap).")
        self.num_images = expected
        self._cached_images = max(1, int(cached_images))
        self._images: OrderedDict[int, np.ndarray] = OrderedDict()
        self._interest: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.point_ids.size)

    def __repr__(self) -> str:
        return f"BrownSubset(root={str(self.root)!r}, patches={len(self)}, points={self.num_points})"

    @property
    def num_points(self) -> int:
        """Number of distinct 3D points."""
        return int(np.unique(self.point_ids).size)

    def image(self, index: int) -> np.ndarray:
        """Bitmap ``index`` decoded as greyscale. Shape: (1024, 1024) uint8.

        Raises:
            DataFormatError: the file is not a decodable image or not 1024x1024.
        """
        if index in self._images:
            self._images.move_to_end(index)
            return self._images[index]
        path = self.root / image_name(index)
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise DataFormatError(f"{path} is not a decodable image; expected a 1024x1024 greyscale bitmap.")
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
        if image.dtype != np.uint8 or image.shape != (IMAGE_SIDE, IMAGE_SIDE):
            raise DataFormatError(f"{path} must be a {IMAGE_SIDE}x{IMAGE_SIDE} 8-bit image (a 16x16 grid of 64x64 "
                                  f"patches). Received: shape={image.shape}, dtype={image.dtype}")
        self._images[index] = image
        if len(self._images) > self._cached_images:
            self._images.popitem(last=False)
        return image

    def patches(self, indices) -> np.ndarray:
        """The patches with the given indices (the order of ``info.txt``).

        Shape:
            indices: (K,) ints in 0..N-1; output: (K, 64, 64) uint8.

        Raises:
            IndexError: an index is outside 0..N-1.
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        bad = indices[(indices < 0) | (indices >= len(self))]
        if bad.size:
            raise IndexError(f"Patch indices of {self.root} must be in 0..{len(self) - 1}. Received: {int(bad[0])}")
        out = np.empty((indices.size, PATCH_SIZE, PATCH_SIZE), np.uint8)
        order = np.argsort(indices, kind="stable")  # one bitmap after the other
        for position in order:
            image_index, cell = divmod(int(indices[position]), PATCHES_PER_IMAGE)
            row, column = divmod(cell, GRID)
            image = self.image(image_index)
            out[position] = image[row * PATCH_SIZE:(row + 1) * PATCH_SIZE,
                                  column * PATCH_SIZE:(column + 1) * PATCH_SIZE]
        return out

    def all_patches(self) -> np.ndarray:
        """Every patch, in order. Shape: (N, 64, 64) uint8 (450k patches of liberty: about 1.8 GiB)."""
        return self.patches(np.arange(len(self)))

    def interest(self) -> np.ndarray:
        """``interest.txt`` as float64 (N, 5): image index, x, y, orientation, scale (read on first use).

        Raises:
            DataFormatError: the file is missing, malformed, or its line count is not the number of patches.
        """
        if self._interest is None:
            path = self.root / "interest.txt"
            table = _read_table(path, INTEREST_COLUMNS, np.float64,
                                "one line per patch: image index, x, y, orientation, scale")
            if len(table) != len(self):
                raise DataFormatError(f"{path} has {len(table)} lines, but info.txt lists {len(self)} patches.")
            self._interest = table
        return self._interest

    def pair_files(self) -> dict[int, Path]:
        """``{pair count: path}`` of the ``m50_<n>_<n>_0.txt`` files present."""
        found = {}
        for path in self.root.glob("m50_*_*_0.txt"):
            match = re.fullmatch(r"m50_(\d+)_(\d+)_0\.txt", path.name)
            if match:
                found[int(match.group(1))] = path
        return dict(sorted(found.items()))

    def pairs(self, count: int = 100000) -> PairList:
        """The pair list ``m50_<count>_<count>_0.txt`` (100k pairs: the standard test list).

        Raises:
            DataFormatError: the file is missing (the present ones are listed) or malformed, or names patches
                that ``info.txt`` does not have.
        """
        path = self.root / pairs_name(count)
        if not path.is_file():
            raise DataFormatError(f"{path} is missing. Pair lists present: {sorted(self.pair_files())}")
        try:
            return read_pairs_file(path, num_patches=len(self))
        except TaskFileError as error:
            raise DataFormatError(str(error)) from None
