"""A picture of a few patch tracks of a built dataset: ref/e1/h1/t1 clean 65 px, then the noisy 32 px twins.

    python -m descriptors.data.preview DATASET_ROOT OUT.png [--sequence v_x] [--rows 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from descriptors.data.formats import HPatchesRelease

COLUMNS = ("ref", "e1", "h1", "t1")


def render_patch_rows(root: str | Path, out: str | Path, sequence: str | None = None, rows: int = 6,
                      seed: int = 0) -> Path:
    """Writes a PNG grid: one row per track, columns ref/e1/h1/t1 (clean 65 px) then the same noisy (32 px, x2).

    Returns:
        ``out`` as a `Path`.
    """
    root, out = Path(root), Path(out)
    clean = HPatchesRelease(root / "hpatches-release")
    noisy = HPatchesRelease(root / "nhpatches", noisy=True)
    sequence = sequence or clean.sequences[0]
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(clean.num_patches(sequence), min(rows, clean.num_patches(sequence)), replace=False))
    gap = np.full((65, 4), 255, np.uint8)
    lines = []
    header = np.full((18, 8 * 65 + 8 * 4 + 12), 255, np.uint8)
    for j, name in enumerate(COLUMNS + tuple(f"{c} noisy" for c in COLUMNS)):
        x = j * 69 + (12 if j >= 4 else 0)
        cv2.putText(header, name, (x + 2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, 0, 1, cv2.LINE_AA)
    lines.append(header)
    clean_sets = {t: clean.load(sequence, t) for t in COLUMNS}
    noisy_sets = {t: noisy.load(sequence, t) for t in COLUMNS}
    for i in picks:
        cells = []
        for t in COLUMNS:
            cells += [clean_sets[t][i], gap]
        cells.append(np.full((65, 12), 255, np.uint8))
        for t in COLUMNS:
            big = cv2.resize(noisy_sets[t][i], (64, 64), interpolation=cv2.INTER_NEAREST)
            cells += [np.pad(big, ((0, 1), (0, 1)), constant_values=255), gap]
        lines.append(np.hstack(cells))
        lines.append(np.full((4, lines[-1].shape[1]), 255, np.uint8))
    width = max(line.shape[1] for line in lines)
    grid = np.vstack([np.pad(line, ((0, 0), (0, width - line.shape[1])), constant_values=255) for line in lines])
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), grid):
        raise OSError(f"cv2.imwrite could not write {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; exit 2 on bad arguments."""
    parser = argparse.ArgumentParser(prog="python -m descriptors.data.preview", description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sequence", default=None)
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.root / "hpatches-release").is_dir():
        parser.error(f"ROOT must be a built dataset (with hpatches-release/). Received: {str(args.root)!r}")
    print(render_patch_rows(args.root, args.out, args.sequence, args.rows, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
