"""Bad inputs of `python -m descriptors.describe`: exit status, one-line message, nothing destroyed or left behind."""

import json
import zipfile

import cv2
import numpy as np
import pytest
from bad_input_harness import BadInput

from hpatches_eval.output_safety import MARKER
from hpatches_eval.patch_types import PATCH_TYPES

M = "descriptors.describe"


def _patches(count=4, side=65, seed=0):
    return np.random.default_rng(seed).integers(0, 255, size=(count * side, side)).astype(np.uint8)


def _png(in_dir, name="ref.png", image=None):
    path = in_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), _patches() if image is None else image)
    return {"png": path}


def _dataset(in_dir, noisy=False, bad_type=None):
    seq = in_dir / "ds" / "v_seq"
    seq.mkdir(parents=True)
    for patch_type in PATCH_TYPES:
        image = _patches(3 if patch_type == bad_type else 4)
        cv2.imwrite(str(seq / f"{patch_type}.png"), image)
        if noisy:
            cv2.imwrite(str(seq / f"{patch_type}_noise.png"), image)
    return {"ds": in_dir / "ds"}


def _unrelated_folder(in_dir):
    values = _dataset(in_dir)
    folder = in_dir / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    return {**values, "mine": folder}


def _our_descriptor_set(in_dir):
    values = _dataset(in_dir)
    folder = in_dir / "descr"
    (folder / "v_seq").mkdir(parents=True)
    (folder / "v_seq" / "ref.csv").write_text("0.5,0.5\n")
    (folder / MARKER).write_text(json.dumps({"kind": "descriptor-set"}))
    return {**values, "descr": folder}


def _dataset_and_file(in_dir):
    values = _dataset(in_dir)
    (in_dir / "notes.txt").write_text("keep me")
    return {**values, "file": in_dir / "notes.txt"}


def _garbage_keras(in_dir):
    values = _png(in_dir)
    (in_dir / "model.keras").write_bytes(b"this is not a zip archive")
    return {**values, "model": in_dir / "model.keras"}


def _unsafe_keras(in_dir):
    """A .keras archive whose config asks for a Lambda layer with marshalled code (refused by safe mode)."""
    values = _png(in_dir)
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 32, 32, 1], "dtype": "float32", "name": "in"}},
        {"module": "keras.layers", "class_name": "Lambda",
         "config": {"name": "evil", "function": {"class_name": "__lambda__",
                                                 "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAADAAAA", "defaults": None,
                                                            "closure": None}}}}]},
        "registered_name": None}
    with zipfile.ZipFile(in_dir / "model.keras", "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", json.dumps(config))
    return {**values, "model": in_dir / "model.keras"}


CASES = [
    BadInput("input-missing", M, ["{in}/nothing.png", "--out", "{work}/d.csv"], 2, r"input not found"),
    BadInput("no-out", M, ["{png}"], 2, r"--out", setup=_png),
    BadInput("unknown-flag", M, ["{png}", "--out", "d.csv", "--fast"], 2, r"unrecognized arguments", setup=_png),
    BadInput("out-is-the-dataset", M, ["{ds}", "--out", "{ds}", "--model", "sift"], 2, r"is the input",
             setup=_dataset),
    BadInput("out-inside-the-dataset", M, ["{ds}", "--out", "{ds}/v_seq/descr", "--model", "sift"], 2,
             r"inside the input", setup=_dataset),
    BadInput("out-holds-the-dataset", M, ["{ds}", "--out", "{in}", "--model", "sift", "--overwrite"], 2,
             r"contains the input", setup=_dataset),
    BadInput("out-unrelated-folder", M, ["{ds}", "--out", "{mine}", "--model", "sift"], 2,
             r"not written by this tool", setup=_unrelated_folder),
    BadInput("out-unrelated-folder-overwrite", M, ["{ds}", "--out", "{mine}", "--model", "sift", "--overwrite"], 2,
             r"not written by this tool", setup=_unrelated_folder),
    BadInput("out-ours-without-overwrite", M, ["{ds}", "--out", "{descr}", "--model", "sift"], 2,
             r"pass --overwrite", setup=_our_descriptor_set),
    BadInput("out-dataset-onto-file", M, ["{ds}", "--out", "{file}", "--model", "sift"], 2, r"existing file",
             setup=_dataset_and_file),
    BadInput("out-file-onto-folder", M, ["{png}", "--out", "{in}", "--model", "sift"], 2, r"existing folder",
             setup=_png),
    BadInput("out-bad-suffix", M, ["{png}", "--out", "{work}/d.png", "--model", "sift"], 2, r"must end in",
             setup=_png),
    BadInput("out-parent-is-a-file", M, ["{png}", "--out", "{file}/d.csv", "--model", "sift"], 2,
             r"is a file, not a folder", setup=lambda d: {**_png(d), **_dataset_and_file(d)}),
    BadInput("model-missing", M, ["{png}", "--out", "d.csv", "--model", "{in}/nope"], 2, r"--model.*not found",
             setup=_png),
    BadInput("model-not-a-keras-archive", M, ["{png}", "--out", "d.csv", "--model", "{model}"], 1,
             r"model\.keras.*not a Keras archive", setup=_garbage_keras),
    BadInput("model-refused-by-safe-mode", M, ["{png}", "--out", "d.csv", "--model", "{model}"], 1,
             r"model\.keras.*(safe mode|Lambda|lambda)", setup=_unsafe_keras),
    BadInput("png-not-a-patch-stack", M, ["{png}", "--out", "d.csv", "--model", "sift"], 2, r"ref\.png",
             setup=lambda d: _png(d, image=np.zeros((100, 65), np.uint8))),
    BadInput("png-not-an-image", M, ["{png}", "--out", "d.csv", "--model", "sift"], 2, r"ref\.png",
             setup=lambda d: (d / "ref.png").write_bytes(b"\x89PNG garbage") and {"png": d / "ref.png"}),
    BadInput("dataset-without-sequences", M, ["{in}", "--out", "{work}/descr", "--model", "sift"], 2,
             r"ref\.png", setup=lambda d: (d / "readme.txt").write_text("x") and None),
    BadInput("noisy-without-noise-files", M, ["{ds}", "--out", "{work}/descr", "--model", "sift", "--noisy"], 2,
             r"_noise", setup=_dataset),
    BadInput("delimiter-not-one-char", M, ["{png}", "--out", "d.csv", "--delimiter", "ab"], 2, r"--delimiter",
             setup=_png),
    BadInput("delimiter-a-digit", M, ["{png}", "--out", "d.csv", "--delimiter", "5"], 2, r"--delimiter",
             setup=_png),
    BadInput("dataset-with-a-short-patch-file", M, ["{ds}", "--out", "{work}/descr", "--model", "sift"], 1,
             r"e3\.png.*as many patches", setup=lambda d: _dataset(d, bad_type="e3")),
    BadInput("subprocess-out-is-the-dataset", M, ["{ds}", "--out", "{ds}", "--model", "sift"], 2, r"is the input",
             setup=_dataset, subprocess=True),
    BadInput("subprocess-out-unrelated-folder", M, ["{ds}", "--out", "{mine}", "--model", "sift", "--overwrite"],
             2, r"not written by this tool", setup=_unrelated_folder, subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
