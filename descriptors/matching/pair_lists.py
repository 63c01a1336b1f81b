"""Lists of image pairs with ground-truth homographies: a CSV list, or the pairs 1-k of sequence folders.

The CSV list (UTF-8, comma separated, one header line) names one pair per row::

    image1,image2,homography,name
    graf/img1.ppm,graf/img3.ppm,graf/H1to3p,graf-1-3
    /data/pairs/a.jpg,/data/pairs/b.jpg,/data/pairs/H_a_b,

- ``image1``, ``image2`` (required): the two images; ``homography`` (required): a text file with the 3x3 matrix
  mapping pixels of ``image1`` to pixels of ``image2`` (``x2 ~ H @ x1``, three rows of three numbers, as the
  ``H_1_k`` files of HPatches and the ``H1toNp`` files of the Oxford/VGG affine set);
- ``name`` (optional): a label for the results (default ``pair-<row number>``); other columns are ignored;
- relative paths are relative to the folder of the CSV file, not to the working folder; blank lines are skipped.

A folder of sequence folders (`descriptors.data.sequences`: ``<seq>/1..n.<ext>``, ``H_1_2..H_1_n``, n = 2..6, the
smallest being the pairs layout ``<name>/1.<ext>``, ``2.<ext>``, ``H_1_2``) gives the pairs 1-2 .. 1-n of each.

A malformed list (missing file, no header, a required column missing, no row) raises at once; a malformed *row*
(a wrong number of fields, an empty cell) becomes a `PairSpec` with ``problem`` set, so that a batch reports it as
a bad pair and goes on. Files named by a row are opened only when the pair is matched.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from descriptors.data.sequences import IMAGE_EXTENSIONS, list_sequence_folders, sequence_length
from descriptors.errors import DataFormatError

REQUIRED_COLUMNS = ("image1", "image2", "homography")
OPTIONAL_COLUMNS = ("name",)


@dataclasses.dataclass(frozen=True)
class PairSpec:
    """One pair to match: where its files are, what to call it, or why it cannot be read.

    Attributes:
        name: label of the pair (a sequence name for sequence folders).
        pair: ``"1-k"`` for the pairs of a sequence, ``""`` for a CSV row.
        image1: the reference image (its path as resolved: relative paths joined to the list's folder).
        image2: the target image.
        homography: the ground-truth homography file (image1 -> image2).
        row: the CSV line number of the pair (1 = the header), 0 for sequence pairs.
        text: the three cells as written in the list (``image1``, ``image2``, ``homography``), for reports.
        problem: why the row cannot be used ("" when it can).
    """

    name: str
    pair: str
    image1: Path | None
    image2: Path | None
    homography: Path | None
    row: int = 0
    text: tuple = ("", "", "")
    problem: str = ""

    @property
    def kind(self) -> str:
        """``"i"`` / ``"v"`` for HPatches-style names (``i_*`` / ``v_*``), else ``"-"``."""
        return self.name[0] if self.name[:2] in ("i_", "v_") else "-"

    @property
    def label(self) -> str:
        """``name`` plus the pair (``v_x 1-3``) or the CSV line (``pair-2 (line 3)``), for messages."""
        return f"{self.name} {self.pair}" if self.pair else f"{self.name} (line {self.row})"


def _image_file(folder: Path, index: int) -> Path:
    for ext in IMAGE_EXTENSIONS:
        if (folder / f"{index}{ext}").is_file():
            return folder / f"{index}{ext}"
    return folder / f"{index}.ppm"  # missing: the pair reports "Image file not found" when it is read


def pairs_from_sequences(root: str | Path) -> list[PairSpec]:
    """The pairs 1-2 .. 1-n of every sequence folder under ``root`` (sorted by sequence, then k).

    Raises:
        FileNotFoundError: ``root`` is not a folder. DataFormatError: it holds no sequence folder.
    """
    out = []
    for folder in list_sequence_folders(root):
        count = max(sequence_length(folder), 2)  # a lone 1.ppm still lists pair 1-2, reported as missing
        first = _image_file(folder, 1)
        for k in range(2, count + 1):
            target, truth = _image_file(folder, k), folder / f"H_1_{k}"
            out.append(PairSpec(folder.name, f"1-{k}", first, target, truth,
                                text=(str(first), str(target), str(truth))))
    return out


def _read_text(path: Path, what: str) -> str:
    if not path.exists():
        raise FileNotFoundError(f"`{what}` pair list not found: {str(path)!r} (expected a CSV file with the header "
                                f"{','.join(REQUIRED_COLUMNS)})")
    if not path.is_file():
        raise DataFormatError(f"`{what}` must be a CSV file or a folder of sequence folders. "
                              f"Received: {str(path)!r}, which is neither")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} must be UTF-8 text (a CSV file); byte "
                              f"{error.start} is not") from None
    if "\x00" in text:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} must be a text CSV file; it holds NUL bytes")
    return text


def read_pair_list(path: str | Path, what: str = "pairs") -> list[PairSpec]:
    """Reads a CSV pair list (see the module docstring); a folder gives `pairs_from_sequences`.

    Args:
        path: the CSV file, or a folder of sequence folders.
        what: the option or argument name used in messages.

    Returns:
        One `PairSpec` per data row (or per sequence pair), in order; rows that cannot be used carry ``problem``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        DataFormatError: the file is not UTF-8 CSV text, has no header line, misses or repeats a required column,
            or holds no data row; or the folder holds no sequence folder.
    """
    path = Path(path)
    if path.is_dir():
        return pairs_from_sequences(path)
    text = _read_text(path, what)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} is not valid CSV: {error}") from None
    numbered = [(i, r) for i, r in enumerate(rows, start=1) if any(cell.strip() for cell in r)]
    if not numbered:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} is empty; it must start with the header line "
                              f"{','.join(REQUIRED_COLUMNS)}")
    _, header = numbered[0]
    header = [cell.strip() for cell in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} must have a header line with the columns "
                              f"{', '.join(REQUIRED_COLUMNS)} (optional: name). Missing: {', '.join(missing)}; "
                              f"first line: {','.join(header)[:200]!r}")
    repeated = sorted({c for c in header if c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS and header.count(c) > 1})
    if repeated:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} must name each column once. Repeated: "
                              f"{', '.join(repeated)}")
    if len(numbered) == 1:
        raise DataFormatError(f"`{what}` pair list {str(path)!r} holds no pair: only the header line")
    index = {c: header.index(c) for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in header}
    base = path.parent
    out = []
    for number, (line, row) in enumerate(numbered[1:], start=1):
        cells = [cell.strip() for cell in row]
        name = (cells[index["name"]] if "name" in index and index["name"] < len(cells) else "") or f"pair-{number}"
        if len(cells) != len(header):
            out.append(PairSpec(name, "", None, None, None, line, tuple(cells[:3]) + ("",) * (3 - len(cells[:3])),
                                f"line {line} has {len(cells)} fields; the header has {len(header)}"))
            continue
        values = [cells[index[c]] for c in REQUIRED_COLUMNS]
        empty = [c for c, v in zip(REQUIRED_COLUMNS, values) if not v]
        if empty:
            out.append(PairSpec(name, "", None, None, None, line, tuple(values),
                                f"line {line} has an empty {', '.join(empty)} cell"))
            continue
        image1, image2, truth = (base / Path(v) for v in values)  # an absolute path stays as it is
        out.append(PairSpec(name, "", image1, image2, truth, line, tuple(values)))
    return out


def input_paths(pairs: list[PairSpec]) -> list[Path]:
    """Every file the pairs name (an output must not equal, lie inside or contain any of them)."""
    return sorted({p for spec in pairs for p in (spec.image1, spec.image2, spec.homography) if p is not None})
