"""Bad `--jobs` values of `python -m descriptors.data.build` (exit 2 before any work, one line naming the value),
and a failure inside a worker of a parallel build (exit 1, nothing written; see bad_input_harness)."""

import numpy as np
import pytest
from bad_input_harness import BadInput
from test_bad_inputs_build import _texture, good

from descriptors.data.sequences import ImageSequence, write_image_sequence

M = "descriptors.data.build"
SEQS, OUT = "{in}/seqs", "{work}/ds"


def _degenerate(in_dir):
    """The two usable sequences and ``v_bad``, whose homographies shrink areas to nothing (skipped by screening)."""
    good(in_dir)
    write_image_sequence(in_dir / "seqs", ImageSequence("v_bad", [_texture(3)] * 6,
                                                        [np.diag([1e-5, 1e-5, 1.0])] * 5), ".png")


CASES = [
    BadInput("build-jobs-zero", M, [SEQS, OUT, "--jobs", "0"], 2,
             r"^python -m descriptors\.data\.build: error: argument --jobs: must be an integer >= 1 or 'auto', "
             r"got '0' \(see `python -m descriptors\.data\.build --help`\)$", setup=good),
    BadInput("build-jobs-negative", M, [SEQS, OUT, "--jobs", "-1"], 2,
             r"argument --jobs: must be an integer >= 1 or 'auto', got '-1'", setup=good, subprocess=True),
    BadInput("build-jobs-not-a-number", M, [SEQS, OUT, "--jobs", "1.5"], 2,
             r"argument --jobs: must be an integer >= 1 or 'auto', got '1\.5'", setup=good),
    BadInput("build-jobs-worker-fails-requested-test-sequence", M,
             [SEQS, OUT, "--jobs", "2", "--test-sequences", "v_bad", "--quiet"], 1,
             r"Requested test sequence 'v_bad' cannot be used: H_1_2 changes areas by a factor 1e-10",
             setup=_degenerate),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
