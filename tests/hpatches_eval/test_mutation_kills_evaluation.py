"""Exact values written to kill the mutants of `hpatches_eval.evaluation` (`evaluate`, `prepare`, `run` and their
argument checks) that survived the rest of tests/hpatches_eval (see docs/mutation_testing.md).

The oracle of every score is the task function itself (`evaluate_verification`, `evaluate_matching`,
`evaluate_retrieval`, each tested by hand elsewhere) called on the same descriptors and task files: what is checked
here is that `evaluate` hands each of them the right arguments and writes the right parameters, flags, timings and
messages.
"""

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpatches_eval import DescriptorError, EvaluationWarning, Split, TaskFileError, evaluate
from hpatches_eval._version import __version__
from hpatches_eval.descriptor_sets import from_arrays
from hpatches_eval.evaluation import TASKS, _check_pools, _check_tasks, prepare, run
from hpatches_eval.patch_types import PATCH_TYPES
from hpatches_eval.splits import get_split
from hpatches_eval.task_files import TaskFiles
from hpatches_eval.tasks.matching import evaluate_matching
from hpatches_eval.tasks.retrieval import POOL_SIZES, evaluate_retrieval
from hpatches_eval.tasks.verification import evaluate_verification
from test_hpatches_cli import write_png

SEQUENCES = ["i_s0", "v_s1", "i_s2", "v_s3"]  # the test sequences of `make_synthetic`'s split "syn"


@pytest.fixture
def small(synthetic):
    """A small synthetic benchmark: ``(arrays, tasks_dir)`` for split ``syn`` (4 sequences of 6-9 patches)."""
    return synthetic(sizes=(9, 7, 8, 6), n_pairs=40, n_queries=8, n_distractors=12)


_write_png_header = write_png  # a valid 8-bit greyscale PNG of zeros (its size is what is read)


def _oracle(arrays, tasks_dir, distance, ap, pools):
    """The three result tables computed by the task functions directly, and the five task file records."""
    dset = from_arrays(arrays)
    files = TaskFiles(tasks_dir)
    pairs, verif_records = files.load_verification("syn")
    queries, distractors, retr_records = files.load_retrieval("syn")
    grids = evaluate_verification(dset, pairs, distance, ap)
    matching = evaluate_matching(dset, SEQUENCES, distance, ap)
    retrieval, _ = evaluate_retrieval(dset, queries, distractors, distance, ap, pools)
    return grids, matching, retrieval, verif_records + retr_records


def test_evaluate_forwards_every_argument(small, tmp_path):
    """Every argument of `evaluate` reaches the work: a ``|``-separated folder (not detected: read only with
    ``delimiter="|"``), ``name``, ``data_dir`` (row counts checked against PNGs), a ``splits_file`` defining the
    split that the tasks folder does not, L1 + standard AP (each task's numbers differ from L2 / trapezoid), pools
    (6, 10), tasks in another order. The tables equal the task functions' own, the parameters are exact."""
    arrays, tasks_dir = small
    folder = tmp_path / "desc"
    for (seq, patch_type), values in arrays.items():
        (folder / seq).mkdir(parents=True, exist_ok=True)
        np.savetxt(folder / seq / f"{patch_type}.csv", values, fmt="%.1f", delimiter="|")
    data = tmp_path / "dataset"
    for seq in SEQUENCES:
        for patch_type in PATCH_TYPES:
            _write_png_header(data / "hpatches-release" / seq / f"{patch_type}.png", 3, 3 * len(arrays[(seq, "ref")]))
    splits_file = tmp_path / "my_splits.json"
    splits_file.write_text(json.dumps({"syn": {"test": SEQUENCES, "train": []}}))
    (tasks_dir / "splits" / "splits.json").write_text(json.dumps({"other": {"test": SEQUENCES, "train": []}}))

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = evaluate(folder, tasks_dir=tasks_dir, split="syn", tasks=["retrieval", "matching", "verification"],
                           distance="L1", ap="standard", data_dir=data, delimiter="|", name="mine", pools=(6, 10),
                           splits_file=splits_file)
    elapsed = time.perf_counter() - start

    grids, matching, retrieval, records = _oracle(arrays, tasks_dir, "L1", "standard", (6, 10))
    default_grids, default_matching, default_retrieval, _ = _oracle(arrays, tasks_dir, "L2", "trapezoid", (6, 10))
    assert not np.allclose(grids["ap"].to_numpy(), default_grids["ap"].to_numpy())
    assert not np.allclose(grids["auc"].to_numpy(), default_grids["auc"].to_numpy())
    assert not np.allclose(matching["ap"].to_numpy(), default_matching["ap"].to_numpy())
    assert not np.allclose(retrieval.to_numpy(), default_retrieval.to_numpy())
    pd.testing.assert_frame_equal(results.verification_auc, grids["auc"])
    pd.testing.assert_frame_equal(results.verification_ap, grids["ap"])
    pd.testing.assert_frame_equal(results.matching, matching)
    pd.testing.assert_frame_equal(results.retrieval, retrieval)
    assert results.flags == []
    assert results.params == {
        "descriptor": "mine",
        "descriptor_source": str(folder),
        "descriptor_dim": 4,
        "split": "syn",
        "split_test_sequences": SEQUENCES,
        "splits_file": str(splits_file),
        "tasks": ["verification", "matching", "retrieval"],
        "distance": "L1",
        "ap": "standard",
        "retrieval_pools": [6, 10],
        "tasks_dir": str(tasks_dir.resolve()),
        "task_files": records,
        "data_dir": str(data.resolve()),
        "package_version": __version__,
    }
    assert [Path(record["path"]).name for record in records] == [
        "verif_pos_split-syn.csv", "verif_neg_intra_split-syn.csv", "verif_neg_inter_split-syn.csv",
        "retr_queries_split-syn.csv", "retr_distractors_split-syn.csv"]
    assert sorted(results.timings) == ["matching", "retrieval", "verification"]
    assert all(0.0 <= seconds <= elapsed for seconds in results.timings.values())

    with pytest.raises(DescriptorError, match=r"not a numeric CSV|single column"):
        evaluate(folder, tasks_dir=tasks_dir, split="syn", tasks="matching", splits_file=splits_file)
    _write_png_header(data / "hpatches-release" / "v_s1" / "e2.png", 3, 3 * 5)
    with pytest.raises(DescriptorError) as error:
        evaluate(folder, tasks_dir=tasks_dir, split="syn", tasks="matching", data_dir=data, delimiter="|",
                 splits_file=splits_file)
    png = data / "hpatches-release" / "v_s1" / "e2.png"
    assert str(error.value) == f"Descriptors of sequence 'v_s1' type 'e2' have 7 rows but {png} holds 5 patches."


def test_prepare_defaults_and_params(small):
    """Defaults: L2, trapezoid AP, the official pool sizes, all tasks, the name "arrays", the split of the tasks
    folder's splits.json; the files are loaded by `prepare`, none of them recorded before `run`."""
    arrays, tasks_dir = small
    prepared = prepare(arrays, tasks_dir, split="syn")
    files = TaskFiles(tasks_dir)
    pairs, verif_records = files.load_verification("syn")
    queries, distractors, retr_records = files.load_retrieval("syn")
    assert prepared.tasks == TASKS == ("verification", "matching", "retrieval")
    assert prepared.split == Split("syn", tuple(SEQUENCES), ())
    assert prepared.descriptors.name == "arrays" and prepared.descriptors.source == "arrays"
    assert prepared.verification_missing == []
    assert list(prepared.verification[0]) == ["pos", "neg_intra", "neg_inter"]
    for key in pairs:
        pd.testing.assert_frame_equal(prepared.verification[0][key], pairs[key])
    assert prepared.verification[1] == verif_records
    pd.testing.assert_frame_equal(prepared.retrieval[0], queries)
    pd.testing.assert_frame_equal(prepared.retrieval[1], distractors)
    assert prepared.retrieval[2] == retr_records
    assert prepared.params == {
        "descriptor": "arrays",
        "descriptor_source": "arrays",
        "descriptor_dim": 4,
        "split": "syn",
        "split_test_sequences": SEQUENCES,
        "splits_file": str(tasks_dir / "splits" / "splits.json"),
        "tasks": ["verification", "matching", "retrieval"],
        "distance": "L2",
        "ap": "trapezoid",
        "retrieval_pools": list(POOL_SIZES),
        "tasks_dir": str(tasks_dir.resolve()),
        "task_files": [],
        "data_dir": None,
        "package_version": __version__,
    }
    named = prepare(arrays, tasks_dir, split="syn", tasks="matching", name="mine")
    assert named.descriptors.name == "mine" and named.params["descriptor"] == "mine"
    assert named.verification is None and named.retrieval is None and named.params["tasks"] == ["matching"]


def test_prepare_official_split_and_split_object():
    """Without tasks folder the split comes from the official splits ("a" by default), written as "official";
    a `Split` object is written as "given Split object"; matching needs no task files."""
    official = get_split("a")
    rng = np.random.default_rng(0)
    arrays = {(seq, t): rng.normal(size=(2, 2)).astype(np.float32) for seq in official.test for t in PATCH_TYPES}
    prepared = prepare(arrays, tasks="matching")
    assert prepared.split == official
    assert prepared.params["split"] == "a" and prepared.params["splits_file"] == "official"
    assert prepared.params["tasks_dir"] is None and prepared.params["data_dir"] is None
    assert prepared.params["split_test_sequences"] == list(official.test)
    mine = Split("mine", official.test[:2])
    prepared = prepare(arrays, split=mine, tasks=["matching"], pools=())
    assert prepared.split is mine and prepared.params["splits_file"] == "given Split object"
    assert prepared.params["retrieval_pools"] == []


def test_missing_sequence_names_where_the_split_is_defined(small, tmp_path):
    """The missing-sequence error ends with the split and where it is defined, whole message checked for each of
    the four sources (tasks folder, splits file, Split object, official splits)."""
    arrays, tasks_dir = small
    arrays = {key: value for key, value in arrays.items() if key[0] != "i_s2"}
    base = "Sequence 'i_s2' is missing from descriptor set arrays (1 missing in all: ['i_s2'])."
    splits_json = tasks_dir / "splits" / "splits.json"
    with pytest.raises(DescriptorError) as error:
        prepare(arrays, tasks_dir, split="syn")
    assert str(error.value) == f"{base} Split 'syn' is defined by {splits_json}."
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"syn": {"test": SEQUENCES}}))
    with pytest.raises(DescriptorError) as error:
        prepare(arrays, tasks_dir, split="syn", splits_file=other)
    assert str(error.value) == f"{base} Split 'syn' is defined by {other}."
    with pytest.raises(DescriptorError) as error:
        prepare(arrays, split=Split("mine", tuple(SEQUENCES)), tasks="matching")
    assert str(error.value) == f"{base} Split 'mine' is defined by given Split object."
    with pytest.raises(DescriptorError) as error:
        prepare(arrays, tasks="matching")
    missing = [seq for seq in get_split("a").test]
    assert str(error.value) == (
        f"Sequence {missing[0]!r} is missing from descriptor set arrays ({len(missing)} missing in all: "
        f"{missing[:5]}...). Split 'a' is defined by the official HPatches splits.")


def test_argument_errors_whole_messages(small):
    """The messages of a wrong `descriptors` type and of tasks that need task files, whole."""
    arrays, tasks_dir = small
    with pytest.raises(TypeError) as error:
        evaluate(42, tasks_dir=tasks_dir, split="syn")
    assert str(error.value) == (
        "`descriptors` must be a DescriptorSet, a descriptor folder path or a mapping of arrays. Received: int")
    with pytest.raises(ValueError) as error:
        prepare(arrays, tasks=("retrieval", "matching"))
    assert str(error.value) == (
        "Tasks ['retrieval'] need task files: pass `tasks_dir` (the official hpatches-benchmark tasks/ folder or "
        "<dataset root>/tasks), or evaluate tasks=('matching',) only.")


@pytest.mark.parametrize("tasks, expected", [
    ("all", TASKS), (("all",), TASKS), ("matching", ("matching",)), (["retrieval", "verification"],
                                                                      ("verification", "retrieval")),
    (("matching", "matching", "verification"), ("verification", "matching")),
])
def test_check_tasks_accepts(tasks, expected):
    """A name, "all", or any subset in any order, returned in `TASKS` order."""
    assert _check_tasks(tasks) == expected


@pytest.mark.parametrize("tasks", [(), "matchin", ("all", "matching"), ("matching", "retrieva")])
def test_check_tasks_rejects(tasks):
    """Empty, unknown, or "all" mixed with names: the whole message."""
    shown = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    with pytest.raises(ValueError) as error:
        _check_tasks(tasks)
    assert str(error.value) == (
        f"`tasks` must be a non-empty subset of ('verification', 'matching', 'retrieval') or 'all'. "
        f"Received: tasks={shown!r}")


@pytest.mark.parametrize("pools, expected", [
    ((5,), (5,)), ((5.0, 100), (5, 100)), (np.array([20, 6]), (20, 6)), ([np.int64(7)], (7,)),
])
def test_check_pools_accepts(pools, expected):
    """Whole numbers >= 5 (the number of positives), as ints."""
    sizes = _check_pools(pools)
    assert sizes == expected and all(type(k) is int for k in sizes)


@pytest.mark.parametrize("pools", [(), (4,), (5.5,), (6.5, 10), ("x",), None, (float("inf"),), (float("nan"),),
                                   (10, 4)])
def test_check_pools_rejects(pools):
    """Empty, below 5, not whole, not numbers: ValueError with the whole message (never another error)."""
    with pytest.raises(ValueError) as error:
        _check_pools(pools)
    assert str(error.value) == f"`pools` must be pool sizes >= 5 (integers). Received: pools={pools!r}"


def test_prepare_checks_pools_only_for_retrieval(small):
    """`prepare` itself rejects bad pools when retrieval is run (before any work), and ignores them otherwise."""
    arrays, tasks_dir = small
    for tasks in ("retrieval", "all", ("matching", "retrieval")):
        with pytest.raises(ValueError) as error:
            prepare(arrays, tasks_dir, split="syn", tasks=tasks, pools=(5.5,))
        assert str(error.value) == "`pools` must be pool sizes >= 5 (integers). Received: pools=(5.5,)"
    prepared = prepare(arrays, tasks_dir, split="syn", tasks=("verification", "matching"), pools=(5.5,))
    assert prepared.params["retrieval_pools"] == [5] and prepared.retrieval is None
    prepared = prepare(arrays, tasks_dir, split="syn", tasks="retrieval", pools=(6.0, 10))
    assert prepared.params["retrieval_pools"] == [6, 10]


def test_run_twice_same_params_prepared_unchanged(small):
    """`run` records the five task files in order once per run and leaves the prepared evaluation as it was, so a
    second run gives the same parameters; with matching only no file is recorded."""
    arrays, tasks_dir = small
    prepared = prepare(arrays, tasks_dir, split="syn", pools=(6, 10))
    before = json.dumps(prepared.params)
    first, second = run(prepared), run(prepared)
    files = TaskFiles(tasks_dir)
    records = files.load_verification("syn")[1] + files.load_retrieval("syn")[2]
    assert first.params["task_files"] == records and second.params["task_files"] == records
    assert first.params == second.params and sorted(first.params) == sorted(prepared.params)
    assert json.dumps(prepared.params) == before and prepared.params["task_files"] == []
    assert len(prepared.verification[1]) == 3 and len(prepared.retrieval[2]) == 2
    only_verification = run(prepare(arrays, tasks_dir, split="syn", tasks="verification"))
    assert only_verification.params["task_files"] == records[:3]
    assert sorted(only_verification.timings) == ["verification"]
    only_retrieval = run(prepare(arrays, tasks_dir, split="syn", tasks="retrieval", pools=(6, 10)))
    assert only_retrieval.params["task_files"] == records[3:]
    only_matching = run(prepare(arrays, tasks_dir, split="syn", tasks="matching"))
    assert only_matching.params["task_files"] == [] and sorted(only_matching.timings) == ["matching"]


def test_verification_skipped_flag_and_error_whole(small):
    """A missing verification file: with all tasks, the exact flag (after the descriptor flags, before the pool
    flags) and its warning; with verification alone, the exact error."""
    arrays, tasks_dir = small
    missing = tasks_dir / "verif_neg_intra_split-syn.csv"
    missing.unlink()
    arrays[("v_s1", "ref")] = np.ones_like(arrays[("v_s1", "ref")])  # one constant sequence: a descriptor flag
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = evaluate(arrays, tasks_dir=tasks_dir, split="syn", pools=(6, 100))
    message = f"verification skipped: no task files {[str(missing)]}"
    codes = [flag["code"] for flag in results.flags]
    assert codes == ["collapsed_sequences", "verification_skipped", "retrieval_short_pools"]
    assert results.flags[1] == {"code": "verification_skipped", "message": message}
    texts = [str(w.message) for w in caught if issubclass(w.category, EvaluationWarning)]
    assert f"[verification_skipped] {message}" in texts
    assert results.verification_ap is None and sorted(results.timings) == ["matching", "retrieval"]
    with pytest.raises(TaskFileError) as error:
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks="verification")
    assert str(error.value) == f"Verification task files not found: {[str(missing)]}"


def test_query_index_out_of_range_names_the_queries_file(small):
    """`prepare` checks the query rows with the queries file's path in the message."""
    arrays, tasks_dir = small
    path = tasks_dir / "retr_queries_split-syn.csv"
    frame = pd.read_csv(path)
    frame.loc[1, "s"], frame.loc[1, "idx"] = "v_s3", 6
    frame.to_csv(path, index=False)
    with pytest.raises(TaskFileError) as error:
        prepare(arrays, tasks_dir, split="syn", tasks="retrieval")
    assert str(error.value) == (
        f"Task file {path} row 3 (line, header = 1): `idx` must be in 0..5. Received: idx=6 (1 such rows).")
