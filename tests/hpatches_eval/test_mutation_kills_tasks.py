"""Hand-computed values written to kill the mutants of `hpatches_eval/tasks/` that survived the rest of
tests/hpatches_eval (see docs/mutation_testing.md): defaults, index bounds and their messages, the edges of the
imbalanced window, the dtype and labels of the result grids, the level order of the summaries, the retrieval pool
edges and flags, and the exact recomputation of L2 comparisons within the BLAS expansion's tolerance."""

import warnings

import numpy as np
import pandas as pd
import pytest

from hpatches_eval.descriptor_sets import from_arrays
from hpatches_eval.errors import EvaluationWarning, TaskFileError
from hpatches_eval.patch_types import NOISE_LEVELS, TARGET_IMAGES
from hpatches_eval.tasks.matching import evaluate_matching, match_pair, summarise_matching
from hpatches_eval.tasks.retrieval import check_rows, evaluate_retrieval, pool_flags
from hpatches_eval.tasks.verification import curves, evaluate_verification


def _sequence(ref, per_level):
    """The 16 patch types of one sequence: ``ref`` and, for every level, the same array for images 1..5."""
    arrays = {"ref": np.float32(ref)}
    for level in NOISE_LEVELS:
        for image in TARGET_IMAGES:
            arrays[f"{level}{image}"] = np.float32(per_level[level])
    return arrays


def _pairs(rows):
    """A pair table ``s1,t1,idx1,s2,t2,idx2`` with categorical sequence names, as `TaskFiles` reads it."""
    frame = pd.DataFrame(rows, columns=["s1", "t1", "idx1", "s2", "t2", "idx2"])
    for column in ("s1", "s2"):
        frame[column] = frame[column].astype("category")
    for column in ("t1", "idx1", "t2", "idx2"):
        frame[column] = frame[column].astype(np.int64)
    return frame


# --- verification -------------------------------------------------------------------------------------------------


def test_curves_default_ap_and_single_pair_edges():
    # P = 2, N = 1: window = [neg 1.0, pos 2.0] (P + int(0.2 P) = 2 entries); the positive 0.5 is before the negative
    auc, ap = curves(np.array([1.0]), np.array([2.0, 0.5]))
    assert auc == 0.5 and ap == pytest.approx(0.25, abs=1e-9)  # trapezoid by default: (1e-10 + 1/2) / 2
    assert curves(np.array([1.0]), np.array([2.0, 0.5]), "standard") == (0.5, 0.5)
    # P = N = 1: AUC is exactly 1 (no 1 + 1e-10 denominator); the window holds only the negative, so AP = 0
    assert curves(np.array([2.0]), np.array([1.0])) == (1.0, 0.0)
    # more negatives than the window (N > P + int(0.2 P)): only negatives in it, AP = 0
    assert curves(np.array([3.0, 1.0, 2.0]), np.array([1.5])) == (2 / 3, 0.0)


def _verification_case():
    """Sequences i_a (2 patches) and v_b (1 patch); pairs ref -> image 1; distances per level (L2):

    pos = [|u|, 0] with |u| = 1, 5, 12 (e, h, t); intra = 10; inter = 10, 6, 0. At h, L1 gives |u| = 7 > inter = 6.
    """
    u = {"e": [0, 1], "h": [3, 4], "t": [0, 12]}
    arrays = {
        "i_a": _sequence([[0, 0], [10, 0]], {lv: [u[lv], [10, 0]] for lv in NOISE_LEVELS}),
        "v_b": _sequence([[50, 50]], {"e": [[6, 8]], "h": [[0, 6]], "t": [[0, 0]]}),
    }
    pairs = {
        "pos": _pairs([("i_a", 0, 0, "i_a", 1, 0), ("i_a", 0, 1, "i_a", 1, 1)]),
        "neg_intra": _pairs([("i_a", 0, 0, "i_a", 1, 1)]),
        "neg_inter": _pairs([("i_a", 0, 0, "v_b", 1, 0)]),
    }
    return from_arrays(arrays), pairs


def _grid(values):
    frame = pd.DataFrame(values, index=pd.Index(list(NOISE_LEVELS), name="level"), columns=["inter", "intra"])
    return frame.astype(np.float64)


def test_evaluate_verification_defaults_grids_by_hand():
    descriptors, pairs = _verification_case()
    result = evaluate_verification(descriptors, pairs)  # default L2, trapezoid AP
    assert list(result) == ["auc", "ap"]
    pd.testing.assert_frame_equal(result["auc"], _grid([[1.0, 1.0], [1.0, 1.0], [0.0, 0.5]]), check_exact=True)
    pd.testing.assert_frame_equal(result["ap"], _grid([[1.0, 1.0], [1.0, 1.0], [0.25, 0.25]]), atol=1e-9)
    l1 = evaluate_verification(descriptors, pairs, "L1")
    pd.testing.assert_frame_equal(l1["auc"], _grid([[1.0, 1.0], [0.5, 1.0], [0.0, 0.5]]), check_exact=True)
    standard = evaluate_verification(descriptors, pairs, ap="standard")
    pd.testing.assert_frame_equal(standard["ap"], _grid([[1.0, 1.0], [1.0, 1.0], [0.5, 0.5]]), check_exact=True)


def test_evaluate_verification_rejects_image_6_naming_file_row_and_column():
    descriptors, pairs = _verification_case()
    pairs["pos"] = _pairs([("i_a", 0, 0, "i_a", 1, 0), ("i_a", 0, 1, "i_a", 6, 1)])
    paths = {key: f"verif_{key}_split-x.csv" for key in pairs}
    message = (
        "Task file verif_pos_split-x.csv row 3 (line, header = 1): `t2` must be in 0..5. Received: t2=6 (1 such rows)."
    )
    with pytest.raises(TaskFileError) as info:
        evaluate_verification(descriptors, pairs, paths=paths)
    assert str(info.value) == message


# --- matching -----------------------------------------------------------------------------------------------------

_REF = [[0, 0], [10, 0]]
_RIGHT_L2_WRONG_L1 = [[3, 4], [6, 0]]  # L2: both rows matched (d = 5, 4); L1: row 0 -> row 1 (6 < 7)
_WRONG_FIRST = [[0, 2], [1, 0]]  # row 0 -> row 1 at d = 1 (wrong), row 1 -> row 1 at d = 9 (right)


def test_match_pair_defaults_by_hand():
    ref = np.float64(_REF)
    assert match_pair(ref, np.float64(_RIGHT_L2_WRONG_L1)) == (1.0, 1.0)  # default L2
    assert match_pair(ref, np.float64(_RIGHT_L2_WRONG_L1), "L1") == (0.5, 0.5)
    ap_value, sr = match_pair(ref, np.float64(_WRONG_FIRST))  # default trapezoid: 0.5 * (1e-10 + 1/2) / 2
    assert ap_value == pytest.approx(0.125, abs=1e-9) and sr == 0.5
    assert match_pair(ref, np.float64(_WRONG_FIRST), ap="standard") == (0.25, 0.5)


def test_evaluate_matching_defaults_by_hand():
    arrays = {
        "i_a": _sequence(_REF, dict.fromkeys(NOISE_LEVELS, _RIGHT_L2_WRONG_L1)),
        "v_b": _sequence(_REF, dict.fromkeys(NOISE_LEVELS, _WRONG_FIRST)),
    }
    table = evaluate_matching(from_arrays(arrays), ["i_a", "v_b"])
    keys = [(seq, level, image) for seq in ("i_a", "v_b") for level in NOISE_LEVELS for image in TARGET_IMAGES]
    assert list(zip(table["seq"], table["level"], table["image"])) == keys
    np.testing.assert_allclose(table["ap"], [1.0] * 15 + [0.125] * 15, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(table["sr"], [1.0] * 15 + [0.5] * 15)
    l1_standard = evaluate_matching(from_arrays(arrays), ["i_a", "v_b"], "L1", "standard")
    np.testing.assert_array_equal(l1_standard["ap"], [0.5] * 15 + [0.25] * 15)


def test_summarise_matching_orders_levels_whatever_the_row_order():
    per_pair = pd.DataFrame(
        [("v_s", "t", 1, 0.1, 0.0), ("i_s", "e", 1, 0.9, 1.0), ("i_s", "h", 1, 0.5, 0.5), ("v_s", "e", 1, 0.7, 1.0)],
        columns=["seq", "level", "image", "ap", "sr"],
    )
    by_level, by_category = summarise_matching(per_pair)
    assert by_level.index.tolist() == ["e", "h", "t"] and by_level.columns.tolist() == ["map", "msr"]
    np.testing.assert_allclose(by_level["map"], [0.8, 0.5, 0.1])
    np.testing.assert_allclose(by_level["msr"], [1.0, 0.5, 0.0])
    assert by_category.index.tolist() == ["e", "h", "t"] and by_category.columns.tolist() == ["i", "v"]
    np.testing.assert_allclose(by_category.to_numpy(), [[0.9, 0.7], [0.5, np.nan], [np.nan, 0.1]])


# --- retrieval ----------------------------------------------------------------------------------------------------


def _retrieval_frame(rows):
    """A retrieval table ``s,idx`` with categorical sequence names, as `TaskFiles` reads it."""
    frame = pd.DataFrame(rows, columns=["s", "idx"])
    frame["s"] = frame["s"].astype("category")
    frame["idx"] = frame["idx"].astype(np.int64)
    return frame


def test_evaluate_retrieval_rejects_row_out_of_range_naming_file_row_and_column():
    arrays = {
        "i_a": _sequence([[0, 0], [10, 0]], dict.fromkeys(NOISE_LEVELS, [[0, 1], [10, 1]])),
        "v_b": _sequence([[5, 5]], dict.fromkeys(NOISE_LEVELS, [[5, 6]])),
    }
    queries, distractors = _retrieval_frame([("i_a", 0), ("i_a", 2)]), _retrieval_frame([("v_b", 0)])
    paths = ("retr_queries_split-x.csv", "retr_distractors_split-x.csv")
    with pytest.raises(TaskFileError) as info:
        evaluate_retrieval(from_arrays(arrays), queries, distractors, pools=(6,), paths=paths)
    assert str(info.value) == (
        "Task file retr_queries_split-x.csv row 3 (line, header = 1): `idx` must be in 0..1. Received: idx=2 "
        "(1 such rows)."
    )
    with pytest.raises(TaskFileError, match=r"^Task file queries row 3 \(line, header = 1\): `idx` must be in 0\.\.1"):
        evaluate_retrieval(from_arrays(arrays), queries, distractors, pools=(6,))  # default paths
    queries, distractors = _retrieval_frame([("i_a", 0)]), _retrieval_frame([("v_b", 0), ("v_b", 0), ("v_b", -1)])
    with pytest.raises(TaskFileError, match=r"^Task file distractors row 4 \(line, header = 1\): `idx` must be in 0"):
        evaluate_retrieval(from_arrays(arrays), queries, distractors, pools=(6,))
    message = "Task file d.csv row 4 (line, header = 1): `idx` must be in 0..0. Received: idx=-1 (1 such rows)."
    with pytest.raises(TaskFileError) as info:
        check_rows(from_arrays(arrays), queries, distractors, paths=("q.csv", "d.csv"))
    assert str(info.value) == message
    with pytest.raises(TaskFileError, match=r"^Task file distractors row 4 "):
        check_rows(from_arrays(arrays), queries, distractors)  # default paths


_SHORT_TAIL = (
    "a short pool ranks all of the query's distractors, the same list as every larger pool, so the retrieval mean "
    "over pools is not comparable with one on the official task files."
)


def test_pool_flags_boundaries_and_messages():
    # distractors: 2 of sequence a, 3 of c; the query of a keeps 3, the query of b (none of its own) keeps all 5
    queries, distractors = _retrieval_frame([("a", 0), ("b", 0)]), _retrieval_frame([("a", 0)] * 2 + [("c", 0)] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # pool 8 needs 3 (a keeps exactly 3); the largest pool 10 needs 5 = the file's 5: not short
        assert pool_flags(queries, distractors, pools=(8, 10), warn=False) == []
        flags = pool_flags(queries, distractors, pools=(9, 11), warn=False)
    assert flags == [{
        "code": "retrieval_short_pools",
        "message": "retrieval pools [9, 11] hold fewer distractors than their size minus the 5 positives (up to 2 of "
        "2 queries per pool, with as few as 3 distractors; the distractor file holds 5): " + _SHORT_TAIL,
        "pools": [{"pool": 9, "needed": 4, "short_queries": 1, "min_distractors": 3},
                  {"pool": 11, "needed": 6, "short_queries": 2, "min_distractors": 3}],
    }]


def test_pool_flags_queries_without_distractors():
    # both distractors are of sequence a: the query of a keeps none, the query of b keeps 2
    queries, distractors = _retrieval_frame([("a", 0), ("b", 0)]), _retrieval_frame([("a", 0), ("a", 1)])
    with pytest.warns(EvaluationWarning) as record:
        flags = pool_flags(queries, distractors, pools=(6, 8))
    empty_message = (
        "1 of 2 retrieval queries have no distractor of another sequence (all 2 distractors are in their own "
        "sequence; sequences ['a']): they score 1.0 at every pool size and lift the retrieval mean."
    )
    short_message = (
        "retrieval pools [8] hold fewer distractors than their size minus the 5 positives (up to 1 of 2 queries per "
        "pool, with as few as 2 distractors; the distractor file holds 2): " + _SHORT_TAIL
    )
    assert flags == [  # the query without distractors is not counted again as short
        {"code": "retrieval_no_distractors", "message": empty_message, "queries": 1, "sequences": ["a"]},
        {"code": "retrieval_short_pools", "message": short_message,
         "pools": [{"pool": 8, "needed": 3, "short_queries": 1, "min_distractors": 2}]},
    ]
    assert [str(w.message) for w in record] == [f"[{f['code']}] {f['message']}" for f in flags]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        all_empty = pool_flags(queries[:1], distractors, pools=(6, 8), warn=False)
    assert [(f["code"], f["message"]) for f in all_empty] == [(
        "retrieval_no_distractors",
        "1 of 1 retrieval queries have no distractor of another sequence (all 2 distractors are in their own "
        "sequence; sequences ['a']): retrieval is exactly 1.0 and meaningless.",
    )]


def _retrieval_case():
    """Query (i_a, 0) = (0, 0), positives at distance 1, 3, 6 (e, h, t); distractors of other sequences, in file
    order, at L2 distances 2, 3 (a tie with the h positives: not closer), 5 (L1: 7); the distractor of the query's
    own sequence (0, 0.5), closer than everything, must be left out."""
    arrays = {
        "i_a": _sequence([[0, 0], [0, 0.5]], {lv: [[0, d], [0, 0.5]] for lv, d in zip(NOISE_LEVELS, (1, 3, 6))}),
        "v_b": _sequence([[0, 2], [3, 0], [3, 4]], dict.fromkeys(NOISE_LEVELS, [[0, 2], [3, 0], [3, 4]])),
    }
    queries = _retrieval_frame([("i_a", 0)])
    distractors = _retrieval_frame([("i_a", 1), ("v_b", 0), ("v_b", 1), ("v_b", 2)])
    return from_arrays(arrays), queries, distractors


# trapezoid AP of 5 positives with b distractors ranked before each (exact fractions), and the usual AP
_TRAPEZOID = {0: 1.0, 1: 47 / 75, 2: 86 / 175, 3: 1139 / 2800}
_STANDARD = {0: 1.0, 1: 71 / 100, 2: 197 / 350, 3: 657 / 1400}


def _retrieval_table(before, ap_of, pools):
    frame = pd.DataFrame([[ap_of[b] for b in row] for row in before], index=list(NOISE_LEVELS), columns=list(pools))
    frame.loc["mean"] = frame.mean(axis=0)
    frame.index.name = "level"
    return frame


def test_evaluate_retrieval_defaults_by_hand():
    descriptors, queries, distractors = _retrieval_case()
    pools = (5, 6, 7, 8, 20)  # no distractor, 1, 2, 3 and all 3 distractors of other sequences
    l2_before = [[0, 0, 0, 0, 0], [0, 1, 1, 1, 1], [0, 1, 2, 3, 3]]
    table, per_query = evaluate_retrieval(descriptors, queries, distractors, pools=pools)  # default L2, trapezoid
    pd.testing.assert_frame_equal(table, _retrieval_table(l2_before, _TRAPEZOID, pools), rtol=0, atol=1e-9)
    assert per_query.shape == (3, 1, 5)
    np.testing.assert_allclose(per_query[:, 0], table.to_numpy()[:3], rtol=0, atol=0)
    table, _ = evaluate_retrieval(descriptors, queries, distractors, "L1", "standard", pools=pools, block_queries=1)
    l1_before = [[0, 0, 0, 0, 0], [0, 1, 1, 1, 1], [0, 1, 2, 2, 2]]
    pd.testing.assert_frame_equal(table, _retrieval_table(l1_before, _STANDARD, pools), rtol=0, atol=1e-12)
    # default pools: every official pool holds all 3 distractors
    table, _ = evaluate_retrieval(descriptors, queries, distractors)
    pools = (100, 500, 1000, 5000, 10000, 15000, 20000)
    pd.testing.assert_frame_equal(table, _retrieval_table([[0] * 7, [1] * 7, [3] * 7], _TRAPEZOID, pools), atol=1e-9)


def test_evaluate_retrieval_recomputes_distances_within_the_expansion_tolerance():
    # at |q| ~ 1.7e4 the BLAS-expansion tolerance (1e-9 (|q| + max|b|)^2 ~ 1.2) exceeds the gap between a distractor
    # at squared distance 24 and a positive at 25: only the exact recomputation sees that the distractor is closer.
    # Two queries in one block: query 0 is unsure at level e only, query 1 at level t only.
    q0, q1 = np.array([1e4, 1e4, 1e4]), np.array([1e4, 1e4, 1e4 + 100])
    near, far = np.array([5, 0, 0]), np.array([1, 0, 0])
    offsets = {"e": (near, far), "h": (far, far), "t": (far, near)}
    arrays = {
        "i_a": _sequence([q0, q1], {lv: [q0 + a, q1 + b] for lv, (a, b) in offsets.items()}),
        "v_b": _sequence([q0 + [4, 2, 2], q1 + [4, 2, 2]], dict.fromkeys(NOISE_LEVELS, [q0, q1])),
    }
    queries, distractors = _retrieval_frame([("i_a", 0), ("i_a", 1)]), _retrieval_frame([("v_b", 0), ("v_b", 1)])
    table, per_query = evaluate_retrieval(from_arrays(arrays), queries, distractors, pools=(6, 7))
    a1 = _TRAPEZOID[1]
    np.testing.assert_allclose(per_query[:, 0], [[a1, a1], [1, 1], [1, 1]], rtol=0, atol=1e-9)
    np.testing.assert_allclose(per_query[:, 1], [[1, 1], [1, 1], [1, a1]], rtol=0, atol=1e-9)
    _, alone = evaluate_retrieval(from_arrays(arrays), queries[:1], distractors, pools=(6, 7))  # a block of one
    np.testing.assert_allclose(alone[:, 0], per_query[:, 0], rtol=0, atol=0)
    # an exact tie at squared distance 19.25, whose sqrt squared is 19.250000000000004: only the tolerance band
    # sends it to the exact comparison, where it is not closer (compared without tolerance it would be)
    offset = np.array([3, 2.5, 2])
    arrays = {
        "i_a": _sequence([[0, 0, 0]], dict.fromkeys(NOISE_LEVELS, [offset])),
        "v_b": _sequence([-offset], dict.fromkeys(NOISE_LEVELS, [-offset])),
    }
    _, tie = evaluate_retrieval(from_arrays(arrays), queries[:1], distractors[:1], pools=(6,))
    np.testing.assert_array_equal(tie, np.ones((3, 1, 1)))


def test_evaluate_retrieval_pools_of_5_and_below_and_no_distractors():
    descriptors, queries, distractors = _retrieval_case()
    table, _ = evaluate_retrieval(descriptors, queries, distractors, pools=(5,))  # the 5 positives only: AP 1
    pd.testing.assert_frame_equal(table, _retrieval_table([[0], [0], [0]], _TRAPEZOID, (5,)), rtol=0, atol=0)
    table, _ = evaluate_retrieval(descriptors, queries, distractors[:0], pools=(6, 20))  # an empty distractor file
    pd.testing.assert_frame_equal(table, _retrieval_table([[0, 0]] * 3, _TRAPEZOID, (6, 20)), rtol=0, atol=0)
    for pools in [(100, 4), ()]:
        with pytest.raises(ValueError) as info:
            evaluate_retrieval(descriptors, queries, distractors, pools=pools)
        assert str(info.value) == f"`pools` must be pool sizes >= 5. Received: pools={pools!r}"
