"""Readers and writers of the HPatches patch layouts: hpatches-release (65 px) and N-HPatches (32 px).

A patch file is a greyscale PNG ``P`` pixels wide and ``N * P`` tall: ``N`` square patches stacked vertically.
Row ``i`` of the 16 files of a sequence (``ref``, ``e1..e5``, ``h1..h5``, ``t1..t5``) is the same physical patch.
N-HPatches adds a ``<type>_noise.png`` twin of every file.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from descriptors.errors import DataFormatError, ShapeError
from hpatches_eval.output_safety import new_temp_file
from hpatches_eval.patch_types import PATCH_TYPES
from hpatches_eval.splits import Split, get_split

def _read_gray(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FileNotFoundError(f"Patch file not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DataFormatError(f"Patch file {path} must be a readable PNG image; cv2.imread could not decode it.")
    return image


def read_patch_file(path: str | Path, patch_size: int | None = None) -> np.ndarray:
    """Reads one patch file (patches stacked vertically in a single column).

    Args:
        path: a ``<type>.png`` file of hpatches-release or N-HPatches.
        patch_size: expected patch side; ``None`` takes it from the image width.

    Returns:
        The patches, uint8.

    Shape:
        Output: ``(N, P, P)`` with ``P`` the image width and ``N = height / P``.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        DataFormatError: if the file is not a decodable image, its width is not ``patch_size`` or its height is
            not a multiple of the width.
    """
    path = Path(path)
    image = _read_gray(path)
    height, width = image.shape
    size = width if patch_size is None else int(patch_size)
    if width != size:
        raise DataFormatError(
            f"The width of patch file {path} must equal the patch size {size}. Received: width={width}"
        )
    if height == 0 or height % size:
        raise DataFormatError(
            f"The height of patch file {path} must be a positive multiple of the patch size {size}. "
            f"Received: height={height}"
        )
    return image.reshape(height // size, size, size)


def encode_patch_png(patches: np.ndarray, compression: int = 1) -> bytes:
    """The PNG bytes of patches stacked vertically (greyscale), as `write_patch_file` writes them.

    Args:
        patches: the patches.
        compression: zlib level 0..9 (1 is fast; 6 with the "filtered" strategy suits small noisy patches).

    Shape:
        patches: ``(N, P, P)`` uint8 with ``N >= 1``.

    Raises:
        ShapeError: if ``patches`` is not a non-empty ``(N, P, P)`` array.
        TypeError: if ``patches`` is not uint8.
    """
    patches = np.asarray(patches)
    if patches.ndim != 3 or patches.shape[1] != patches.shape[2] or patches.shape[0] == 0:
        raise ShapeError(f"`patches` must have shape (N, P, P) with N >= 1. Received: shape={patches.shape}")
    if patches.dtype != np.uint8:
        raise TypeError(f"`patches` must be uint8. Received: dtype={patches.dtype}")
    params = [cv2.IMWRITE_PNG_COMPRESSION, int(compression)]
    if compression >= 6:
        params += [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_FILTERED]
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(patches.reshape(-1, patches.shape[2])), params)
    if not ok:
        raise OSError(f"cv2.imencode could not encode patches of shape {patches.shape}")
    return buffer.tobytes()


def write_patch_file(path: str | Path, patches: np.ndarray, compression: int = 1) -> None:
    """Writes `encode_patch_png(patches, compression)` to ``path`` atomically (temp name, then ``os.replace``);
    arguments, shape and errors as there."""
    path = Path(path)
    data = encode_patch_png(patches, compression)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(path, suffix=".png")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def resize_patches(patches: np.ndarray, size: int, out: np.ndarray | None = None) -> np.ndarray:
    """Area-resizes square patches (as N-HPatches made 32 px patches from 65 px ones), chunk by chunk.

    ``out`` may be a preallocated array (e.g. a slice of a bigger one) so that no temporary is made.

    Shape:
        patches: ``(N, P, P)`` uint8. Output: ``(N, size, size)`` uint8.
    """
    n = patches.shape[0]
    if out is None:
        out = np.empty((n, size, size), np.uint8)
    if patches.shape[1] == size:
        out[...] = patches
        return out
    for i in range(n):  # one patch at a time: INTER_AREA must never mix neighbouring patches
        out[i] = cv2.resize(patches[i], (size, size), interpolation=cv2.INTER_AREA)
    return out


class HPatchesRelease:
    """A patch source over an hpatches-release (65 px) or N-HPatches (32 px) folder, loaded lazily per file.

    Args:
        root: folder holding one sub-folder per sequence (``<root>/<seq>/ref.png`` ...).
        noisy: read the N-HPatches ``<type>_noise.png`` twins instead of the clean files.
        size: patch side returned by `load`; patches are area-resized (``cv2.INTER_AREA``) when it differs from
            the native side. ``None`` keeps the native side.

    Raises:
        FileNotFoundError: if ``root`` is not a folder.
        DataFormatError: if ``root`` holds no sequence folder with a ``ref.png``, or ``noisy`` is set and the
            ``_noise`` twins are absent.
    """

    def __init__(self, root: str | Path, noisy: bool = False, size: int | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"Patch dataset folder not found: {self.root}")
        self.sequences = sorted(p.name for p in self.root.iterdir() if (p / "ref.png").is_file())
        if not self.sequences:
            raise DataFormatError(
                f"Folder {self.root} must hold sequence folders with a ref.png (hpatches-release layout "
                f"<root>/<seq>/ref.png). Received: {sorted(p.name for p in self.root.iterdir())[:10]}"
            )
        first = self.root / self.sequences[0]
        self.has_noise = (first / "ref_noise.png").is_file()
        if noisy and not self.has_noise:
            raise DataFormatError(
                f"`noisy=True` needs N-HPatches <type>_noise.png files, but {first / 'ref_noise.png'} does not "
                f"exist in {self.root}."
            )
        width = cv2.imread(str(first / "ref.png"), cv2.IMREAD_GRAYSCALE)
        if width is None:
            raise DataFormatError(f"Patch file {first / 'ref.png'} must be a readable PNG image.")
        self.native_size = int(width.shape[1])
        if size is not None and (int(size) != size or size < 1):
            raise ValueError(f"`size` must be a positive integer or None. Received: size={size!r}")
        self.noisy = bool(noisy)
        self.patch_size = self.native_size if size is None else int(size)
        self._counts: dict[str, int] = {}

    def __repr__(self) -> str:
        return (f"HPatchesRelease(root={str(self.root)!r}, noisy={self.noisy}, size={self.patch_size}, "
                f"sequences={len(self.sequences)})")

    def _path(self, seq: str, patch_type: str) -> Path:
        if seq not in self.sequences:
            raise KeyError(f"`seq` must be a sequence of {self.root}. Received: seq={seq!r}")
        if patch_type not in PATCH_TYPES:
            raise ValueError(f"`patch_type` must be one of {PATCH_TYPES}. Received: patch_type={patch_type!r}")
        name = f"{patch_type}_noise.png" if self.noisy else f"{patch_type}.png"
        return self.root / seq / name

    def num_patches(self, seq: str) -> int:
        """Number of patch tracks of ``seq`` (rows of its ``ref.png``)."""
        if seq not in self._counts:
            self._counts[seq] = read_patch_file(self._path(seq, "ref"), self.native_size).shape[0]
        return self._counts[seq]

    def load(self, seq: str, patch_type: str) -> np.ndarray:
        """Loads one patch file of one sequence.

        Shape:
            Output: ``(N, S, S)`` uint8, ``S = self.patch_size``.

        Raises:
            DataFormatError: if the file is malformed or its patch count differs from ``ref.png``'s.
        """
        path = self._path(seq, patch_type)
        patches = read_patch_file(path, self.native_size)
        expected = patches.shape[0] if patch_type == "ref" else self.num_patches(seq)
        if patch_type == "ref":
            self._counts[seq] = expected
        if patches.shape[0] != expected:
            raise DataFormatError(
                f"Patch file {path} must hold as many patches as {self.root / seq / 'ref.png'} ({expected}). "
                f"Received: {patches.shape[0]} patches"
            )
        if self.patch_size == self.native_size:
            return patches
        return resize_patches(patches, self.patch_size)

    def load_sequence(self, seq: str) -> np.ndarray:
        """Loads the 16 patch files of ``seq`` in `PATCH_TYPES` order into one preallocated array.

        Shape:
            Output: ``(16, N, S, S)`` uint8.
        """
        n = self.num_patches(seq)
        out = np.empty((len(PATCH_TYPES), n, self.patch_size, self.patch_size), np.uint8)
        for i, patch_type in enumerate(PATCH_TYPES):
            out[i] = self.load(seq, patch_type)
        return out

    def split(self, name: str) -> Split:
        """Split ``name`` from the dataset's own ``<root>/../tasks/splits/splits.json`` if it has one (builder
        layout), else from the official HPatches splits.

        Raises:
            ValueError: if no split of that name exists.
        """
        own = self.root.parent / "tasks" / "splits" / "splits.json"
        return get_split(name, own if own.is_file() else None)
