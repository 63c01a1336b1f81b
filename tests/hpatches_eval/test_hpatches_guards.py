"""Guards: collapsed descriptors are flagged, unusable inputs raise with messages naming the culprit."""

import numpy as np
import pandas as pd
import pytest

from hpatches_eval import DescriptorError, EvaluationWarning, TaskFileError, evaluate
from hpatches_eval.patch_types import PATCH_TYPES


def test_constant_descriptors_flagged_and_retrieval_looks_perfect(synthetic):
    arrays, tasks_dir = synthetic()
    constant = {key: np.ones_like(value) for key, value in arrays.items()}
    with pytest.warns(EvaluationWarning, match=r"\[constant_descriptors\].*nearly\) constant"):
        results = evaluate(constant, tasks_dir=tasks_dir, split="syn", pools=(6, 20))
    assert [flag["code"] for flag in results.flags] == ["constant_descriptors"]
    # protocol B.1 / issue #16: ties favour the positives in retrieval only
    assert results.retrieval.to_numpy().min() == 1.0
    assert results.summary["matching"] < 0.05
    assert results.verification_auc.to_numpy().max() == 0.0


def test_few_distinct_rows_flagged(synthetic):
    arrays, tasks_dir = synthetic(sizes=(150, 150))
    rng = np.random.default_rng(0)
    palette = rng.normal(size=(2, 4)).astype(np.float32)
    collapsed = {key: palette[rng.integers(0, 2, value.shape[0])] for key, value in arrays.items()}
    with pytest.warns(EvaluationWarning, match=r"\[collapsed_descriptors\] .* only 2 distinct values"):
        results = evaluate(collapsed, tasks_dir=tasks_dir, split="syn", tasks=("matching",))
    assert results.flags[0]["code"] == "collapsed_descriptors"


def test_nan_raises(synthetic):
    arrays, tasks_dir = synthetic()
    arrays[("v_s1", "e3")][2, 1] = np.nan
    with pytest.raises(DescriptorError, match=r"'v_s1' type 'e3' contain NaN or inf \(first at row 2, column 1\)"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn")


def test_inf_raises(synthetic):
    arrays, tasks_dir = synthetic()
    arrays[("i_s0", "ref")] = arrays[("i_s0", "ref")].astype(np.float64) * 1e300  # overflows float32
    with pytest.raises(DescriptorError, match="'i_s0' type 'ref' contain NaN or inf"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks=("matching",))


def test_missing_sequence_raises(synthetic):
    arrays, tasks_dir = synthetic()
    arrays = {key: value for key, value in arrays.items() if key[0] != "i_s2"}
    with pytest.raises(DescriptorError, match="Sequence 'i_s2' is missing from descriptor set arrays"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn")


def test_row_count_and_dim_mismatch_raise(synthetic):
    arrays, tasks_dir = synthetic()
    short = dict(arrays)
    short[("v_s3", "t5")] = short[("v_s3", "t5")][:-1]
    with pytest.raises(DescriptorError, match=r"'v_s3' type 't5' \(19\) differs from its 'ref' \(20\)"):
        evaluate(short, tasks_dir=tasks_dir, split="syn")
    wide = dict(arrays)
    wide[("v_s1", "h2")] = np.hstack([wide[("v_s1", "h2")], wide[("v_s1", "h2")]])
    with pytest.raises(DescriptorError, match=r"dimension of arrays sequence 'v_s1' type 'h2' \(8\) differs .* \(4\)"):
        evaluate(wide, tasks_dir=tasks_dir, split="syn")


def test_missing_patch_type_raises(synthetic):
    arrays, tasks_dir = synthetic()
    del arrays[("i_s0", "h4")]
    with pytest.raises(DescriptorError, match="Patch type 'h4' of sequence 'i_s0' is missing"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks="matching")


def test_task_index_out_of_range_raises(synthetic):
    arrays, tasks_dir = synthetic()
    path = tasks_dir / "verif_neg_inter_split-syn.csv"
    frame = pd.read_csv(path)
    frame.loc[7, "idx2"] = 10_000
    frame.to_csv(path, index=False)
    with pytest.raises(TaskFileError, match=r"verif_neg_inter_split-syn.csv row 9 .*`idx2` must be in 0\.\.\d+\. Received: idx2=10000"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks="verification")
    path = tasks_dir / "retr_distractors_split-syn.csv"
    frame = pd.read_csv(path)
    frame.loc[0, "idx"] = -1
    frame.to_csv(path, index=False)
    with pytest.raises(TaskFileError, match=r"retr_distractors_split-syn.csv row 2 .*Received: idx=-1"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks="retrieval")


def test_task_file_unknown_sequence_raises(synthetic):
    arrays, tasks_dir = synthetic()
    path = tasks_dir / "retr_queries_split-syn.csv"
    frame = pd.read_csv(path)
    frame.loc[3, "s"] = "v_nowhere"
    frame.to_csv(path, index=False)
    with pytest.raises(DescriptorError, match="Sequence 'v_nowhere' is missing"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks="retrieval")


def test_missing_verification_files_skip_or_raise(synthetic):
    arrays, tasks_dir = synthetic()
    (tasks_dir / "verif_pos_split-syn.csv").unlink()
    with pytest.warns(EvaluationWarning, match=r"\[verification_skipped\]"):
        results = evaluate(arrays, tasks_dir=tasks_dir, split="syn", pools=(6,))
    assert results.verification_ap is None and results.summary["mean"] is None
    assert results.summary["matching"] is not None and results.summary["retrieval"] is not None
    with pytest.raises(TaskFileError, match="Verification task files not found: .*verif_pos_split-syn.csv"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks=("verification",))


def test_no_tasks_dir_needs_matching_only(synthetic):
    arrays, _ = synthetic()
    with pytest.raises(ValueError, match=r"Tasks \['verification', 'retrieval'\] need task files: pass `tasks_dir`"):
        evaluate(arrays)
    with pytest.raises(DescriptorError, match="Sequence 'i_ajuntament' is missing"):
        evaluate(arrays, tasks="matching")  # official split a


def test_bad_arguments_raise(synthetic):
    arrays, tasks_dir = synthetic()
    with pytest.raises(ValueError, match="`distance` must be one of"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", distance="cosine")
    with pytest.raises(ValueError, match="`tasks` must be a non-empty subset"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks=("matchin",))
    with pytest.raises(ValueError, match=r"`pools` must be pool sizes >= 5"):
        evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks="retrieval", pools=(3,))
    with pytest.raises(TypeError, match="`descriptors` must be a DescriptorSet"):
        evaluate(42, tasks_dir=tasks_dir, split="syn")
    assert len(PATCH_TYPES) == 16


def test_splits_file_and_split_object(synthetic):
    from hpatches_eval import Split

    arrays, tasks_dir = synthetic()
    by_file = evaluate(arrays, split="syn", tasks="matching", splits_file=tasks_dir / "splits" / "splits.json")
    by_object = evaluate(arrays, split=Split("mine", ("i_s0", "v_s1", "i_s2", "v_s3")), tasks="matching")
    assert by_file.flat() == by_object.flat()
    assert by_object.params["split"] == "mine" and by_object.params["splits_file"] == "given Split object"
    with pytest.raises(ValueError, match="Unknown split 'zz'"):
        evaluate(arrays, split="zz", tasks="matching", splits_file=tasks_dir / "splits" / "splits.json")
