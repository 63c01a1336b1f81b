"""Bad inputs of `python -m hpatches_eval` (one split or several), `... show` and `... plot`: exit status, one-line message, nothing
written or left behind.

Every input of the benchmark (descriptor CSVs, split, task files, patch files, results JSON) is read and validated
before any task is computed, so each of these exits 2; a failure during the work (exit 1: writing ``--out`` after the
evaluation) is tested in tests/hpatches_eval/test_hpatches_trust.py, where it can be simulated.
"""

import json
import os

import numpy as np
import pandas as pd
import pytest
from bad_input_harness import BadInput

from hpatches_eval.patch_types import PATCH_TYPES

M = "hpatches_eval.cli"  # in-process: its main(argv); the subprocess cases run `python -m hpatches_eval`
SEQS = ("i_a", "v_b")
N = 6


def _bench(in_dir, splits=True, mutate=None):
    """A tiny valid benchmark: {in}/descs/<seq>/<type>.csv (6 x 4) and {in}/tasks for split "t"."""
    rng = np.random.default_rng(0)
    descs = in_dir / "descs"
    for seq in SEQS:
        (descs / seq).mkdir(parents=True)
        for patch_type in PATCH_TYPES:
            np.savetxt(descs / seq / f"{patch_type}.csv", rng.normal(size=(N, 4)), fmt="%.5f", delimiter=",")
    tasks = in_dir / "tasks"
    (tasks / "splits").mkdir(parents=True)
    if splits:
        (tasks / "splits" / "splits.json").write_text(json.dumps({"t": {"name": "t", "test": list(SEQS),
                                                                         "train": []}}))
    pairs = pd.DataFrame({"s1": ["i_a", "v_b"], "t1": [0, 1], "idx1": [0, 1],
                          "s2": ["i_a", "v_b"], "t2": [2, 3], "idx2": [0, 1]})
    for stem in ("verif_pos", "verif_neg_intra", "verif_neg_inter"):
        pairs.to_csv(tasks / f"{stem}_split-t.csv", index=False)
    pd.DataFrame({"s": ["i_a", "v_b"], "idx": [0, 1]}).to_csv(tasks / "retr_queries_split-t.csv", index=False)
    pd.DataFrame({"s": ["i_a", "v_b", "v_b"], "idx": [2, 3, 4]}).to_csv(
        tasks / "retr_distractors_split-t.csv", index=False)
    (in_dir / "notes.txt").write_text("keep me")
    values = {"descs": descs, "tasks": tasks, "file": in_dir / "notes.txt"}
    extra = mutate(in_dir, descs, tasks) if mutate is not None else None
    values.update(extra if isinstance(extra, dict) else {})
    return values


def _with(mutate, **kwargs):
    return lambda in_dir: _bench(in_dir, mutate=mutate, **kwargs)


def _csv(name, text):
    def mutate(in_dir, descs, tasks):
        (descs / "v_b" / f"{name}.csv").write_text(text)
    return mutate


def _rows(descs, name, keep):
    path = descs / "i_a" / f"{name}.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:keep]))


def _nan(in_dir, descs, tasks):
    lines = (descs / "i_a" / "t2.csv").read_text().splitlines()
    lines[3] = "nan," + lines[3].split(",", 1)[1]
    (descs / "i_a" / "t2.csv").write_text("\n".join(lines) + "\n")


def _wide(in_dir, descs, tasks):
    for patch_type in PATCH_TYPES:
        np.savetxt(descs / "v_b" / f"{patch_type}.csv", np.ones((N, 5)), fmt="%.1f", delimiter=",")


def _results(in_dir, data):
    path = in_dir / "r.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return {"json": path}


def _broken_link(in_dir, descs, tasks):
    os.symlink(in_dir / "gone", in_dir / "link")


def _two_splits(in_dir, descs, tasks):
    """Splits t (fine) and u, whose test set names a sequence the descriptors lack (found before any split runs)."""
    (tasks / "splits" / "splits.json").write_text(json.dumps({
        "t": {"test": list(SEQS)}, "u": {"test": ["i_a", "v_gone"]}}))
    for path in tasks.glob("*_split-t.csv"):
        (tasks / path.name.replace("_split-t", "_split-u")).write_text(path.read_text())


def _plot_inputs(in_dir):
    """{good}: a valid single-split results JSON; {json}: a JSON that is not a results file; {png}: an old figure."""
    (in_dir / "good.json").write_text(json.dumps(_RESULT))
    (in_dir / "r.json").write_text(json.dumps({"name": "my notes"}))
    (in_dir / "fig.png").write_bytes(b"old figure")
    return {"good": in_dir / "good.json", "json": in_dir / "r.json", "png": in_dir / "fig.png"}


_OK = ["--descriptors", "{descs}", "--tasks", "{tasks}", "--split", "t"]
_RESULT = {"schema_version": 1, "summary": {"verification": None, "matching": 0.5, "retrieval": None, "mean": None},
           "matching": {"per_pair": [{"seq": "i_a", "level": "e", "image": 1, "ap": 0.5, "sr": 0.5}]}}

CASES = [
    # arguments
    BadInput("no-arguments", M, [], 2, r"`--descriptors` is required"),
    BadInput("unknown-flag", M, [*_OK, "--fast"], 2, r"unrecognized arguments: --fast", setup=_bench),
    BadInput("bad-distance", M, [*_OK, "--distance", "cosine"], 2, r"--distance.*invalid choice", setup=_bench),
    BadInput("descriptors-missing", M, ["--descriptors", "{in}/nope", "--tasks", "{tasks}"], 2,
             r"`--descriptors` must be an existing folder, but it does not exist", setup=_bench),
    BadInput("descriptors-is-a-file", M, ["--descriptors", "{file}", "--tasks", "{tasks}"], 2,
             r"`--descriptors` must be an existing folder, but it is a file", setup=_bench),
    BadInput("descriptors-parent-folder", M, ["--descriptors", "{in}", "--tasks", "{tasks}", "--split", "t"], 2,
             r"holds no <seq>/ref.csv files \(did you mean .*descs", setup=_bench),
    BadInput("name-empty", M, [*_OK, "--name", " "], 2, r"`--name` must be a non-empty printable name",
             setup=_bench),
    BadInput("show-with-descriptors", M, ["--show", "{in}/r.json", "--descriptors", "{descs}"], 2,
             r"`--show` prints a saved result and takes no --descriptors", setup=_bench),
    # split and task files
    BadInput("split-unknown", M, [*_OK[:4], "--split", "zzz"], 2, r"`split` must be one of \['t'\].*split='zzz'",
             setup=_bench),
    BadInput("tasks-folder-without-the-split-files", M, [*_OK[:4], "--split", "a", "--task", "retrieval"], 2,
             r"Sequence .i_ajuntament. is missing from descriptor set .* Split .a. is defined by the official HPatches "
             r"splits", setup=_with(None, splits=False)),
    BadInput("retrieval-files-missing", M, [*_OK, "--task", "retrieval"], 2,
             r"Task file not found: .*retr_queries_split-t\.csv",
             setup=_with(lambda i, d, t: (t / "retr_queries_split-t.csv").unlink())),
    BadInput("verification-files-missing", M, [*_OK, "--task", "verification"], 2,
             r"Verification task files not found: .*verif_neg_intra_split-t\.csv",
             setup=_with(lambda i, d, t: (t / "verif_neg_intra_split-t.csv").unlink())),
    BadInput("splits-json-garbage", M, _OK, 2, r"splits\.json is not valid JSON",
             setup=_with(lambda i, d, t: (t / "splits" / "splits.json").write_text("{oops"))),
    BadInput("task-file-garbage", M, [*_OK, "--task", "retrieval"], 2, r"retr_distractors_split-t\.csv must have "
             r"columns \['s', 'idx'\]", setup=_with(lambda i, d, t: (t / "retr_distractors_split-t.csv").write_text(
                 "s,idx\ni_a,two\n"))),
    BadInput("task-index-out-of-range", M, [*_OK, "--out", "{work}/r.json"], 2,
             r"verif_pos_split-t\.csv row 3 .*`idx2` must be in 0\.\.5\. Received: idx2=99",
             setup=_with(lambda i, d, t: (t / "verif_pos_split-t.csv").write_text(
                 "s1,t1,idx1,s2,t2,idx2\ni_a,0,0,i_a,2,0\nv_b,1,1,v_b,3,99\n"))),
    # descriptor CSVs
    BadInput("csv-garbage", M, _OK, 2, r"h2\.csv is not a numeric CSV", setup=_with(_csv("h2", "hello,world\n"))),
    BadInput("csv-empty", M, _OK, 2, r"t5\.csv is empty", setup=_with(_csv("t5", ""))),
    BadInput("csv-missing-type", M, [*_OK, "--out", "{work}/r.json"], 2, r"e3\.csv \(sequence 'v_b', type 'e3'\) "
             r"is missing", setup=_with(lambda i, d, t: (d / "v_b" / "e3.csv").unlink())),
    BadInput("csv-wrong-row-count", M, _OK, 2, r"sequence 'i_a' type 'h4' \(4\) differs from its 'ref' \(6\)",
             setup=_with(lambda i, d, t: _rows(d, "h4", 4))),
    BadInput("csv-nan", M, [*_OK, "--out", "{work}/r.json"], 2, r"'i_a' type 't2' contain NaN or inf \(first at "
             r"row 3, column 0\)", setup=_with(_nan)),
    BadInput("csv-mixed-dimensions", M, _OK, 2, r"dimension of .*sequence 'v_b' type 'ref' \(5\) differs .*\(4\)",
             setup=_with(_wide)),
    BadInput("data-without-patch-files", M, [*_OK, "--data", "{tasks}"], 2, r"`--data`: Data folder .* is "
             r"neither a dataset root", setup=_bench),
    # --out
    BadInput("out-inside-descriptors", M, [*_OK, "--out", "{descs}/r.json"], 2, r"`--out` lies inside the input",
             setup=_bench),
    BadInput("out-inside-tasks", M, [*_OK, "--out", "{tasks}/splits/r.json"], 2, r"`--out` lies inside the input",
             setup=_bench),
    BadInput("out-is-a-folder", M, [*_OK, "--out", "{in}"], 2, r"`--out` must be a file path, but .* is an "
             r"existing folder", setup=_bench),
    BadInput("out-parent-is-a-file", M, [*_OK, "--out", "{file}/r.json"], 2, r"is a file, not a folder",
             setup=_bench),
    BadInput("out-parent-broken-symlink", M, [*_OK, "--out", "{in}/link/r.json"], 2,
             r"is a broken symbolic link, not a folder", setup=_with(_broken_link)),
    BadInput("out-name-too-long", M, [*_OK, "--out", "{work}/" + "x" * 300 + ".json"], 2,
             r"`--out` cannot be written: .*too long", setup=_bench),
    # show
    BadInput("show-no-file", M, ["show"], 2, r"the following arguments are required: RESULTS_JSON"),
    BadInput("show-two-files", M, ["show", "a.json", "b.json"], 2, r"unrecognized arguments: b\.json"),
    BadInput("show-missing-file", M, ["show", "{in}/none.json"], 2, r"RESULTS_JSON must be a results file .* does "
             r"not exist"),
    BadInput("show-a-folder", M, ["show", "{in}"], 2, r"RESULTS_JSON must be a results file .* is a folder"),
    BadInput("show-not-json", M, ["show", "{json}"], 2, r"r\.json is not valid JSON",
             setup=lambda i: _results(i, "{not json")),
    BadInput("show-nan", M, ["show", "{json}"], 2, r"is not valid JSON: NaN is not a JSON number",
             setup=lambda i: _results(i, '{"schema_version": 1, "summary": NaN}')),
    BadInput("show-not-a-results-file", M, ["show", "{json}"], 2, r"not an hpatches_eval results file: "
             r"`schema_version` must be 1", setup=lambda i: _results(i, {"name": "my notes"})),
    BadInput("show-a-json-list", M, ["--show", "{json}"], 2, r"must hold a JSON object\. Received: list",
             setup=lambda i: _results(i, [1, 2])),
    BadInput("show-ap-out-of-range", M, ["show", "{json}"], 2, r"`matching\.per_pair\[0\]\.ap` must be a number in "
             r"\[0, 1\]\. Received: 1\.5", setup=lambda i: _results(i, {**_RESULT, "matching": {"per_pair": [
                 {**_RESULT["matching"]["per_pair"][0], "ap": 1.5}]}})),
    BadInput("show-summary-missing", M, ["show", "{json}"], 2, r"`summary` must be present",
             setup=lambda i: _results(i, {k: v for k, v in _RESULT.items() if k != "summary"})),
    # several splits (--split a,b,c / all): every split checked before any split is evaluated
    BadInput("splits-empty-name", M, [*_OK[:4], "--split", "t,,t"], 2,
             r"`split` must be split names separated by commas.*split='t,,t'", setup=_bench),
    BadInput("splits-repeated", M, [*_OK[:4], "--split", "t,t"], 2, r"names each split once.*repeated: \['t'\]",
             setup=_bench),
    BadInput("splits-all-with-others", M, [*_OK[:4], "--split", "all,t"], 2, r"'all' cannot be combined",
             setup=_bench),
    BadInput("splits-all-none-found", M, [*_OK[:4], "--split", "all", "--out", "{work}/r.json"], 2,
             r"'all' found none of the official splits \['a', 'b', 'c', 'illum', 'view', 'full'\]", setup=_bench),
    BadInput("splits-one-unknown", M, [*_OK[:4], "--split", "t,zzz"], 2, r"`split` must be one of \['t'\]"
             r".*split='zzz'", setup=_bench),
    BadInput("splits-second-lacks-descriptors", M, [*_OK[:4], "--split", "t,u", "--out", "{work}/r.json"], 2,
             r"Sequence 'v_gone' is missing from descriptor set", setup=_with(_two_splits)),
    # plot
    BadInput("plot-no-inputs", M, ["plot", "--out", "{work}/fig.png"], 2,
             r"the following arguments are required: RESULTS_JSON"),
    BadInput("plot-no-out", M, ["plot", "{good}"], 2, r"the following arguments are required: --out",
             setup=_plot_inputs),
    BadInput("plot-not-a-results-file", M, ["plot", "{good}", "{json}", "--out", "{work}/fig.png"], 2,
             r"r\.json is not an hpatches_eval results file", setup=_plot_inputs),
    BadInput("plot-input-missing", M, ["plot", "{good}", "{in}/none.json", "--out", "{work}/fig.png"], 2,
             r"RESULTS_JSON must be a results file .*none\.json' does not exist", setup=_plot_inputs),
    BadInput("plot-input-a-folder", M, ["plot", "{in}", "--out", "{work}/fig.png"], 2,
             r"RESULTS_JSON must be a results file .* is a folder", setup=_plot_inputs),
    BadInput("plot-out-is-a-folder", M, ["plot", "{good}", "--out", "{work}"], 2,
             r"`--out` must end in one of \.png, \.pdf, \.svg", setup=_plot_inputs),
    BadInput("plot-out-folder-named-png", M, ["plot", "{good}", "--out", "{in}/dir.png"], 2,
             r"`--out` must be a file path, but .*dir\.png' is an existing folder",
             setup=lambda i: (_plot_inputs(i), (i / "dir.png").mkdir())[0]),
    BadInput("plot-out-bad-suffix", M, ["plot", "{good}", "--out", "{work}/fig.txt"], 2,
             r"`--out` must end in one of \.png, \.pdf, \.svg\. Received: --out=.*fig\.txt", setup=_plot_inputs),
    BadInput("plot-out-is-an-input", M, ["plot", "{good}", "{png}", "--out", "{png}"], 2,
             r"`--out` is the input .*fig\.png", setup=_plot_inputs),
    BadInput("plot-out-parent-is-a-file", M, ["plot", "{good}", "--out", "{json}/fig.png"], 2,
             r"is a file, not a folder", setup=_plot_inputs),
    BadInput("plot-multi-split-damaged", M, ["plot", "{json}", "--out", "{work}/fig.png"], 2,
             r"not a valid multi-split results file: `per_split` must be a non-empty object",
             setup=lambda i: _results(i, {"kind": "hpatches_eval.multi_split", "schema_version": 1})),
    BadInput("show-multi-split-bad-split-entry", M, ["show", "{json}"], 2,
             r"`per_split\.a`: .*`summary` must be present",
             setup=lambda i: _results(i, {"kind": "hpatches_eval.multi_split", "schema_version": 1, "splits": ["a"],
                                          "mean_over": ["a"], "combined": {}, "per_split": {"a": {
                                              k: v for k, v in _RESULT.items() if k != "summary"}}})),
    BadInput("show-multi-split-combined-garbage", M, ["show", "{json}"], 2,
             r"`combined\.summary\.mean\.matching` must be a number in \[0, 1\] or null\. Received: 'high'",
             setup=lambda i: _results(i, {"kind": "hpatches_eval.multi_split", "schema_version": 1, "splits": ["a"],
                                          "mean_over": ["a"], "per_split": {"a": _RESULT}, "combined": {
                                              "n": 1, "summary": {"mean": {"matching": "high"}, "std": {}},
                                              "cells": {"mean": {}, "std": {}}}})),
    # the real entry point
    BadInput("subprocess-out-inside-descriptors", "hpatches_eval", [*_OK, "--out", "{descs}/v_b/r.json"], 2,
             r"`--out` lies inside the input", setup=_bench, subprocess=True),
    BadInput("subprocess-show-not-json", "hpatches_eval", ["show", "{json}"], 2, r"is not valid JSON",
             setup=lambda i: _results(i, b"\xff\xfe".decode("latin-1")), subprocess=True),
    BadInput("subprocess-plot-not-a-results-file", "hpatches_eval", ["plot", "{json}", "--out", "{work}/f.png"], 2,
             r"is not an hpatches_eval results file", setup=_plot_inputs, subprocess=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)


def test_ids_unique_and_enough():
    assert len({case.id for case in CASES}) == len(CASES) >= 18
    assert sum(case.subprocess for case in CASES) == 3
