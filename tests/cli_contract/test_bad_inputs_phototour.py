"""Bad inputs of `python -m hpatches_eval.phototour`: one line, the right exit status, nothing written."""

import numpy as np
import pytest

from bad_input_harness import BadInput

M = "hpatches_eval.phototour"
GOOD_PAIRS = "0 0 0 1 0 0 0\n1 1 0 2 0 0 0\n2 0 0 3 1 0 0\n3 1 0 4 0 0 0\n"  # 1 matching, 3 not


def _inputs(pairs_text=GOOD_PAIRS, descriptors=None, pairs_name="m50_4_4_0.txt"):
    def setup(in_dir):
        array = np.arange(12, dtype=np.float32).reshape(6, 2) if descriptors is None else descriptors
        np.save(in_dir / "d.npy", array)
        (in_dir / pairs_name).write_text(pairs_text)
        return {"pairs": in_dir / pairs_name}

    return setup


def _csv_garbage(in_dir):
    _inputs()(in_dir)
    (in_dir / "d.csv").write_text("a,b\nc,d\n")
    return {"pairs": in_dir / "m50_4_4_0.txt"}


def _folder_without_standard_list(in_dir):
    _inputs()(in_dir)
    (in_dir / "liberty").mkdir()
    (in_dir / "liberty" / "m50_1000_1000_0.txt").write_text("")


CASES = [
    BadInput("missing-descriptors-option", M, ["--pairs", "{pairs}"], 2, r"required: --descriptors",
             setup=_inputs()),
    BadInput("descriptors-missing", M, ["--descriptors", "{in}/none.npy", "--pairs", "{pairs}"], 2,
             r"--descriptors.*does not exist", setup=_inputs()),
    BadInput("descriptors-folder", M, ["--descriptors", "{in}", "--pairs", "{pairs}"], 2, r"is a folder",
             setup=_inputs()),
    BadInput("pairs-missing", M, ["--descriptors", "{in}/d.npy", "--pairs", "{in}/m50_9_9_0.txt"], 2,
             r"--pairs.*does not exist", setup=_inputs(), subprocess=True),
    BadInput("pairs-folder-without-100k", M, ["--descriptors", "{in}/d.npy", "--pairs", "{in}/liberty"], 2,
             r"no m50_100000_100000_0.txt.*m50_1000_1000_0.txt", setup=_folder_without_standard_list),
    BadInput("pairs-short-line", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}"], 2,
             r"m50_4_4_0.txt is malformed: line 2 has 6 fields",
             setup=_inputs(GOOD_PAIRS.replace("1 1 0 2 0 0 0", "1 1 0 2 0 0"))),
    BadInput("pairs-line-count", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}"], 2,
             r"must have 4 lines", setup=_inputs(GOOD_PAIRS * 2)),
    BadInput("pairs-index-beyond-descriptors", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}"], 2,
             r"column 3\) must be in 0 \.\. 5", setup=_inputs(GOOD_PAIRS.replace("3 1 0 4", "3 1 0 6"))),
    BadInput("pairs-one-class", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}"], 2,
             r"matching and non-matching", setup=_inputs("0 1 0 1 1 0 0\n1 1 0 2 1 0 0\n", pairs_name="p.txt")),
    BadInput("descriptors-nan", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}"], 2, r"NaN/inf.*row 2",
             setup=_inputs(descriptors=np.where(np.arange(12).reshape(6, 2) == 5, np.nan, 1.0))),
    BadInput("descriptors-1d", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}"], 2, r"2-D numeric",
             setup=_inputs(descriptors=np.arange(6, dtype=np.float32))),
    BadInput("descriptors-csv-garbage", M, ["--descriptors", "{in}/d.csv", "--pairs", "{pairs}"], 2,
             r"d.csv is not a numeric CSV", setup=_csv_garbage),
    BadInput("recall-zero", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}", "--recall", "0"], 2,
             r"--recall.*\(0, 1\]", setup=_inputs()),
    BadInput("recall-nan", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}", "--recall", "nan"], 2,
             r"--recall", setup=_inputs()),
    BadInput("ties-unknown", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}", "--ties", "random"], 2,
             r"invalid choice: 'random'", setup=_inputs()),
    BadInput("out-is-folder", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}", "--out", "{work}"], 2,
             r"existing folder", setup=_inputs()),
    BadInput("out-is-input", M, ["--descriptors", "{in}/d.npy", "--pairs", "{pairs}", "--out", "{in}/d.npy"], 2,
             r"input", setup=_inputs()),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
