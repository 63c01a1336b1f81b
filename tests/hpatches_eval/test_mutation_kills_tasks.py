"""Hand-computed values written to kill the mutants of `hpatches_eval/tasks/` that survived the rest of
tests/hpatches_eval (see docs/mutation_testing.md): defaults, the image-index bound and its message, the edges of
the imbalanced window, the dtype and labels of the result grids, the level order of the summaries."""

import numpy as np
import pandas as pd
import pytest

from hpatches_eval.descriptor_sets import from_arrays
from hpatches_eval.errors import TaskFileError
from hpatches_eval.patch_types import NOISE_LEVELS, TARGET_IMAGES
from hpatches_eval.tasks.matching import evaluate_matching, match_pair, summarise_matching
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
