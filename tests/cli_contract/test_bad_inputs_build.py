"""Bad inputs of `python -m descriptors.data.build`: exit 2 before any work, exit 1 when the build cannot succeed,
one line on stderr, and nothing outside the output touched (see bad_input_harness)."""

import json
import os

import cv2
import numpy as np
import pytest
from bad_input_harness import BadInput

from descriptors.data.sequences import ImageSequence, write_image_sequence
from descriptors.data.synthetic import illumination_sequence, viewpoint_sequence

M = "descriptors.data.build"
DEAD_PID = 4194304 + 4242  # above Linux's largest pid_max: never a running process


def _texture(seed, side=80):
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (side // 8, side // 8)).astype(np.float32)
    image = cv2.resize(coarse, (side, side), interpolation=cv2.INTER_CUBIC) + rng.normal(0, 20, (side, side))
    return np.clip(image, 0, 255).astype(np.uint8)


def good(in_dir):
    """Two usable 80 px sequences in ``{in}/seqs``."""
    write_image_sequence(in_dir / "seqs", viewpoint_sequence("v_a", _texture(0), np.random.default_rng(1)), ".png")
    write_image_sequence(in_dir / "seqs", illumination_sequence("i_b", _texture(1), np.random.default_rng(2)), ".png")


def _then(*steps):
    def setup(in_dir):
        good(in_dir)
        for step in steps:
            step(in_dir)
    return setup


def _write(relative, data):
    def step(in_dir):
        path = in_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return step


def _remove(relative):
    return lambda in_dir: (in_dir / relative).unlink()


def _truncate(relative):
    def step(in_dir):
        path = in_dir / relative
        path.write_bytes(path.read_bytes()[:60])
    return step


def _flat_only(in_dir):
    for name in ("i_grey", "i_white"):
        value = 128 if name == "i_grey" else 255
        write_image_sequence(in_dir / "seqs", ImageSequence(name, [np.full((80, 80), value, np.uint8)] * 6,
                                                            [np.eye(3)] * 5), ".png")


def _degenerate(in_dir):
    good(in_dir)
    write_image_sequence(in_dir / "seqs", ImageSequence("v_bad", [_texture(3)] * 6,
                                                        [np.diag([1e-5, 1e-5, 1.0])] * 5), ".png")


def _stale_staging(in_dir):
    _flat_only(in_dir)
    for pid in (DEAD_PID, os.getpid()):
        folder = in_dir.parent / "work" / f".ds.tmp-{pid}-0badc0de"
        folder.mkdir(parents=True)
        (folder / "half.png").write_bytes(b"x" * 10)


def _marker(kind):
    return _write("out/.patch-descriptors.json", json.dumps({"kind": kind, "written_by": "patch-descriptors"}))


SEQS, OUT = "{in}/seqs", "{work}/ds"
CASES = [
    BadInput("build-missing-sequences-dir", M, ["{in}/nope", OUT], 2, r"SEQUENCES_DIR must be an existing folder"),
    BadInput("build-sequences-dir-is-a-file", M, ["{in}/list.txt", OUT], 2, r"SEQUENCES_DIR must be an existing",
             setup=_write("list.txt", "v_a\n")),
    BadInput("build-garbage-sequences-dir", M, ["{in}/junk", OUT], 2, r"junk must hold sequence folders",
             setup=lambda d: _write("junk/v_x/H_1_2", "1 0 0")(d) or _write("junk/readme.md", "hi")(d)),
    BadInput("build-image-missing", M, [SEQS, OUT], 2, r"Image 4 of sequence folder .*v_a not found",
             setup=_then(_remove("seqs/v_a/4.png"))),
    BadInput("build-image-not-an-image", M, [SEQS, OUT], 2, r"Image file .*i_b/3\.png must be a readable image",
             setup=_then(_write("seqs/i_b/3.png", b"this is not a png\x00\x01"))),
    BadInput("build-image-truncated", M, [SEQS, OUT], 2, r"Image file .*v_a/6\.png must be a readable image",
             setup=_then(_truncate("seqs/v_a/6.png")), subprocess=True),
    BadInput("build-homography-not-3x3", M, [SEQS, OUT], 2, r"H_1_3 must hold a 3x3 matrix .*lengths \[3, 3\]",
             setup=_then(_write("seqs/v_a/H_1_3", "1 0 0\n0 1 0\n"))),
    BadInput("build-homography-not-numbers", M, [SEQS, OUT], 2, r"H_1_2 must hold a 3x3 matrix of numbers",
             setup=_then(_write("seqs/i_b/H_1_2", "1 0 0\n0 one 0\n0 0 1\n"))),
    BadInput("build-homography-not-finite", M, [SEQS, OUT], 2, r"H_1_5 must hold a 3x3 matrix of finite numbers",
             setup=_then(_write("seqs/v_a/H_1_5", "1 0 0\n0 nan 0\n0 0 1\n"))),
    BadInput("build-homography-singular", M, [SEQS, OUT], 2, r"H_1_4 must hold an invertible matrix. Received: det=0",
             setup=_then(_write("seqs/v_a/H_1_4", "1 2 0\n2 4 0\n0 0 1\n"))),
    BadInput("build-homography-missing", M, [SEQS, OUT], 2, r"Homography file not found: .*i_b/H_1_6",
             setup=_then(_remove("seqs/i_b/H_1_6"))),
    BadInput("build-all-sequences-flat", M, [SEQS, OUT, "--quiet"], 1,
             r"No usable sequence: all 2 sequences were skipped \('i_grey': image 1 is flat", setup=_flat_only),
    BadInput("build-stale-staging-cleaned-on-failure", M, [SEQS, OUT, "--quiet"], 1, r"No usable sequence",
             setup=_stale_staging, may_change=(f"{{work}}/.ds.tmp-{DEAD_PID}-0badc0de",)),
    BadInput("build-requested-test-sequence-degenerate", M, [SEQS, OUT, "--test-sequences", "v_bad", "--quiet"], 1,
             r"Requested test sequence 'v_bad' cannot be used: H_1_2 changes areas by a factor 1e-10",
             setup=_degenerate),
    BadInput("build-unknown-test-sequence", M, [SEQS, OUT, "--test-sequences", "v_a", "v_zz"], 2,
             r"`--test-sequences` must name sequence folders .*Received unknown: \['v_zz'\]", setup=good),
    BadInput("build-out-not-a-dataset", M, [SEQS, "{in}/out"], 2, r"already exists and was not written by this tool",
             setup=_then(_write("out/thesis.tex", "precious"))),
    BadInput("build-out-not-a-dataset-overwrite", M, [SEQS, "{in}/out", "--overwrite"], 2,
             r"OUT_DIR.* was not written by this tool .*refusing to replace it",
             setup=_then(_write("out/thesis.tex", "precious"))),
    BadInput("build-out-other-kind-overwrite", M, [SEQS, "{in}/out", "--overwrite"], 2,
             r"holds a descriptor-set, not a dataset", setup=_then(_marker("descriptor-set"))),
    BadInput("build-out-dataset-without-overwrite", M, [SEQS, "{in}/out"], 2,
             r"already holds a dataset: pass --overwrite", setup=_then(_write("out/build_info.json", "{}"))),
    BadInput("build-out-is-input", M, [SEQS, SEQS, "--overwrite"], 2, r"`OUT_DIR` is the input", setup=good),
    BadInput("build-out-inside-input", M, [SEQS, "{in}/seqs/built"], 2, r"`OUT_DIR` lies inside the input",
             setup=good),
    BadInput("build-out-contains-input", M, [SEQS, "{in}", "--overwrite"], 2, r"`OUT_DIR` contains the input",
             setup=good),
    BadInput("build-out-is-a-file", M, [SEQS, "{in}/out.txt"], 2, r"must be a folder, but .*out\.txt' is an existing",
             setup=_then(_write("out.txt", "x"))),
    BadInput("build-out-parent-is-a-file", M, [SEQS, "{in}/out.txt/ds"], 2,
             r"cannot be created: .*out\.txt' is a file, not a folder", setup=_then(_write("out.txt", "x"))),
    BadInput("build-out-name-too-long", M, [SEQS, "{work}/" + "d" * 300], 2, r"OUT_DIR.* cannot be written",
             setup=good),
    BadInput("build-negative-seed", M, [SEQS, OUT, "--seed", "-1"], 2, r"argument --seed: must be an integer >= 0",
             setup=good),
    BadInput("build-test-fraction-out-of-range", M, [SEQS, OUT, "--test-fraction", "1.5"], 2,
             r"argument --test-fraction: must be a number in \(0, 1\), got '1.5'", setup=good),
    BadInput("build-test-fraction-nan", M, [SEQS, OUT, "--test-fraction", "nan"], 2,
             r"argument --test-fraction: must be a number in \(0, 1\), got 'nan'", setup=good),
    BadInput("build-max-tracks-one", M, [SEQS, OUT, "--max-tracks-per-sequence", "1"], 2,
             r"argument --max-tracks-per-sequence: must be an integer >= 2, got '1'", setup=good),
    BadInput("build-n-pairs-not-a-number", M, [SEQS, OUT, "--n-pairs", "lots"], 2,
             r"argument --n-pairs: must be an integer >= 1, got 'lots'", setup=good),
    BadInput("build-split-name-path", M, [SEQS, OUT, "--split-name", "../x"], 2,
             r"`--split-name` must be letters, digits.*Received: split_name='../x'", setup=good),
    BadInput("build-unknown-flag", M, [SEQS, OUT, "--frobnicate"], 2, r"unrecognized arguments: --frobnicate",
             setup=good),
    BadInput("build-missing-out-dir", M, [SEQS], 2, r"the following arguments are required: out_dir", setup=good,
             subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
