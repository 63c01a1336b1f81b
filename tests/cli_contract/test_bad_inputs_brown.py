"""Bad inputs of `python -m descriptors.data.brown` (export / describe): one line, exit 2, nothing written."""

import numpy as np
import pytest

from bad_input_harness import BadInput

M = "descriptors.data.brown"


def _dataset(in_dir):
    from descriptors.data.formats import write_patch_file
    from hpatches_eval.patch_types import PATCH_TYPES

    for seq in ("i_a", "v_b"):
        for patch_type in PATCH_TYPES:
            write_patch_file(in_dir / "ds" / "hpatches-release" / seq / f"{patch_type}.png",
                             np.full((2, 65, 65), 7, np.uint8))


def _subset(in_dir):
    (in_dir / "sub").mkdir()
    (in_dir / "sub" / "info.txt").write_text("0 0\n0 1\n")
    import cv2

    cv2.imwrite(str(in_dir / "sub" / "patches0000.bmp"), np.zeros((1024, 1024), np.uint8))


def _subset_bad_info(in_dir):
    _subset(in_dir)
    (in_dir / "sub" / "info.txt").write_text("0 0\n0\n")


def _foreign_out(in_dir):
    _dataset(in_dir)
    (in_dir / "out").mkdir()
    (in_dir / "out" / "mine.txt").write_text("keep")


EXPORT = ["export", "{in}/ds", "--out", "{work}/b"]
CASES = [
    BadInput("no-subcommand", M, [], 2, r"required: command"),
    BadInput("export-source-missing", M, ["export", "{in}/none", "--out", "{work}/b"], 2,
             r"SOURCE must be an existing dataset folder", subprocess=True),
    BadInput("export-source-not-hpatches", M, ["export", "{in}", "--out", "{work}/b"], 2,
             r"not an HPatches-layout patch folder"),
    BadInput("export-unknown-sequence", M, EXPORT + ["--sequences", "i_a,zz"], 2, r"unknown: \['zz'\]",
             setup=_dataset),
    BadInput("export-unknown-split", M, EXPORT + ["--split", "nope"], 2, r"`--split` must be one of",
             setup=_dataset),
    BadInput("export-split-and-sequences", M, EXPORT + ["--split", "a", "--sequences", "i_a"], 2, r"not both",
             setup=_dataset),
    BadInput("export-split-lacks-sequences", M, EXPORT + ["--split", "a"], 2, r"lacks", setup=_dataset),
    BadInput("export-bad-pairs", M, EXPORT + ["--pairs", "1000,x"], 2, r"`--pairs` must be", setup=_dataset),
    BadInput("export-pairs-too-small", M, EXPORT + ["--pairs", "1"], 2, r">= 2", setup=_dataset),
    BadInput("export-noisy-without-nhpatches", M, EXPORT + ["--noisy"], 2, r"--layout nhpatches",
             setup=_dataset),
    BadInput("export-out-not-ours", M, ["export", "{in}/ds", "--out", "{in}/out"], 2, r"not written by this tool",
             setup=_foreign_out),
    BadInput("export-out-inside-input", M, ["export", "{in}/ds", "--out", "{in}/ds/b"], 2, r"input",
             setup=_dataset),
    BadInput("describe-subset-missing", M, ["describe", "{in}/none", "--out", "{work}/d.npy"], 2,
             r"existing folder"),
    BadInput("describe-bad-info", M, ["describe", "{in}/sub", "--out", "{work}/d.npy"], 2,
             r"info.txt line 2 has 1 fields", setup=_subset_bad_info),
    BadInput("describe-bad-model", M, ["describe", "{in}/sub", "--model", "{in}/none", "--out", "{work}/d.npy"],
             2, r"`--model` must be", setup=_subset),
    BadInput("describe-out-not-npy", M, ["describe", "{in}/sub", "--model", "sift", "--out", "{work}/d.csv"], 2,
             r"\.npy", setup=_subset),
    BadInput("describe-out-in-subset", M, ["describe", "{in}/sub", "--model", "sift", "--out", "{in}/sub/d.npy"],
             2, r"input", setup=_subset),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
