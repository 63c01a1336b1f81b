"""Patch counts of an HPatches-format folder from the PNG headers alone (stdlib ``struct``, no image library).

A patch file ``<seq>/<type>.png`` stacks N square patches vertically, so N = height / width. Used to check that a
descriptor set has one row per patch.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from hpatches_eval.errors import DescriptorError
from hpatches_eval.patch_types import PATCH_TYPES

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of a PNG, read from its IHDR chunk.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not a PNG.
    """
    with open(path, "rb") as handle:
        header = handle.read(24)
    if len(header) < 24 or header[:8] != _PNG_SIGNATURE or header[12:16] != b"IHDR":
        raise ValueError(f"`path` must be a PNG file. Received: path={str(path)!r}")
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def patch_count(path: str | os.PathLike) -> int:
    """Number of square patches stacked in a patch PNG (height / width).

    Raises:
        ValueError: if the height is not a multiple of the width.
    """
    width, height = png_size(path)
    if width == 0 or height % width:
        raise ValueError(f"Patch file {path} ({width}x{height}) must stack square patches: height % width != 0.")
    return height // width


def find_release_dir(data_dir: str | os.PathLike) -> Path:
    """The folder holding ``<seq>/ref.png``: ``<data>/hpatches-release`` of a dataset root, or ``data`` itself.

    Raises:
        FileNotFoundError: if neither layout is found.
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"Data folder not found: {root}")
    for candidate in (root / "hpatches-release", root):
        if candidate.is_dir() and any((entry / "ref.png").is_file() for entry in candidate.iterdir()):
            return candidate
    raise FileNotFoundError(
        f"Data folder {root} is neither a dataset root (with hpatches-release/) nor an hpatches-release folder "
        "(with <seq>/ref.png)."
    )


def check_patch_counts(descriptors, data_dir: str | os.PathLike, sequences) -> None:
    """Checks that every (sequence, type) of ``descriptors`` has as many rows as the patch PNG has patches.

    Raises:
        FileNotFoundError: if a sequence has no patch folder.
        DescriptorError: naming the sequence, type and both counts on the first mismatch.
    """
    release = find_release_dir(data_dir)
    for seq in sequences:
        for patch_type in PATCH_TYPES:
            png = release / seq / f"{patch_type}.png"
            if not png.is_file():
                raise FileNotFoundError(f"Patch file not found: {png} (sequence {seq!r}, type {patch_type!r}).")
            expected = patch_count(png)
            rows = descriptors.get(seq, patch_type).shape[0]
            if rows != expected:
                raise DescriptorError(
                    f"Descriptors of sequence {seq!r} type {patch_type!r} have {rows} rows but {png} holds "
                    f"{expected} patches."
                )
