"""Hand-computed and brute-force-oracle values written to kill the mutants of `hpatches_eval.distances` (the
row-distance, norm, scaling and nearest-neighbour functions), `hpatches_eval.guards` and
`hpatches_eval.descriptor_sets` that survived the rest of tests/hpatches_eval (see docs/mutation_testing.md)."""

import warnings

import numpy as np
import pytest

import hpatches_eval.distances as distances_module
import hpatches_eval.guards as guards_module
from hpatches_eval.descriptor_sets import (
    DescriptorSet,
    detect_delimiter,
    from_arrays,
    from_callable,
    from_csv_dir,
    read_descriptor_csv,
)
from hpatches_eval.distances import (
    check_distance,
    exact_matrix,
    nearest_neighbours,
    power_of_two_scale,
    row_distances,
    squared_norms,
)
from hpatches_eval.errors import DescriptorError, EvaluationWarning
from hpatches_eval.guards import _sample, collapse_state, descriptor_flags, make_flag, name_list
from hpatches_eval.patch_types import PATCH_TYPES

U16 = 2.0**-24  # the smallest float16 subnormal


# --- distances ----------------------------------------------------------------------------------------------------


def test_check_distance_message():
    """Returns L2 / L1; anything else is a ValueError naming the choices and the value."""
    assert check_distance("L2") == "L2" and check_distance("L1") == "L1"
    with pytest.raises(ValueError) as error:
        check_distance("l2")
    assert str(error.value) == "`distance` must be one of ('L2', 'L1'). Received: distance='l2'"


def test_row_distances_over_several_blocks(monkeypatch):
    """300 pairs = 3 blocks of at most 128, each computed once; row i is at distance i (L2) and 2 i (L1)."""
    a = np.stack([np.arange(300.0), np.zeros(300)], axis=1)
    b = np.stack([np.zeros(300), np.arange(300.0)], axis=1)
    calls = []
    real = distances_module._block_distances
    monkeypatch.setattr(distances_module, "_block_distances", lambda x, *rest: calls.append(len(x)) or real(x, *rest))
    assert row_distances(a, b, "L1").tolist() == (2.0 * np.arange(300)).tolist() and calls == [128, 128, 44]
    assert row_distances(a, b).tolist() == np.sqrt(2.0 * np.arange(300.0) ** 2).tolist()


def test_row_distances_subtract_in_float64():
    """float32 inputs are subtracted in float64: 2**25 - 1 is exact in float64, not in float32."""
    a, b = np.float32([[2.0**25, 0.0], [1.0, 2.0**25]]), np.float32([[1.0, 0.0], [0.0, 0.0]])
    assert row_distances(a, b, "L1").tolist() == [2.0**25 - 1, 1.0 + 2.0**25]
    assert row_distances(a[:1], b[:1]).tolist() == [2.0**25 - 1]


def test_row_distances_of_a_single_pair_sum_in_order():
    """One pair (a single column, which numpy would sum pairwise): 1e16 then fifteen 1s, added in order, stays
    1e16 (each + 1 rounds back to 1e16); pairwise, the 1s would add up first."""
    a = np.array([[1e16] + [1.0] * 15])
    assert row_distances(a, np.zeros_like(a), "L1").tolist() == [1e16]
    a = np.array([[1e8] + [1.0] * 15])  # squares: 1e16 then fifteen 1s
    assert row_distances(a, np.zeros_like(a)).tolist() == [1e8]

def test_row_distances_rejects_other_shapes():
    """Two (M, D) arrays of one shape, else ValueError with both shapes: rows or dimensions differing, or 1-D."""
    pairs = ((np.zeros((3, 2)), np.zeros((2, 2))), (np.zeros((3, 2)), np.zeros((3, 1))), (np.zeros(3), np.zeros(3)))
    for a, b in pairs:
        with pytest.raises(ValueError) as error:
            row_distances(a, b)
        assert str(error.value) == f"`a` and `b` must be (M, D) arrays of one shape. Received: {a.shape} and {b.shape}"


def test_squared_norms_in_float64_whatever_the_input_dtype():
    """float32 squares that overflow float32, int8 squares that wrap: summed in float64."""
    norms = squared_norms(np.float32([[1e20, 0.0], [3.0, 4.0]]))
    assert norms.dtype == np.float64 and norms.tolist() == [float(np.float32(1e20)) ** 2, 25.0]
    assert squared_norms(np.int8([[100, 100, -100]])).tolist() == [30000.0]
    x, y = float(np.float32(0.1)), float(np.float32(0.2))
    assert squared_norms(np.float32([[0.1, 0.2]])).tolist() == [x * x + y * y]


def test_power_of_two_scale_edges():
    """No array at all gives 0; a largest magnitude of exactly 1.0 is 0.5 * 2**1; inf and NaN give 0."""
    assert power_of_two_scale() == 0
    assert power_of_two_scale(np.array([[1.0, -0.25]])) == 1
    assert power_of_two_scale(np.array([[-1.0]]), np.zeros((2, 3))) == 1
    assert power_of_two_scale(np.array([[0.5]])) == 0
    assert power_of_two_scale(np.zeros((0, 3)), np.array([[0.75]])) == 0  # an empty array counts as 0
    assert power_of_two_scale(np.array([[1.0, np.inf]])) == 0
    assert power_of_two_scale(np.array([[np.nan, 3.0]])) == 0


def test_nearest_neighbours_casts_float16_inputs_before_scaling():
    """float16 rows are ranked as float64: scaled in float16 by 2**-10, 461 and 614 x 2**-24 would underflow.

    Row 1 (614 u, u = 2**-24) is nearer to b[0] = 461 u than to b[1] = 1024 u; ranked on float16-scaled values
    b[0] (or a[1]) rounds to 0 and b[1] wins by more than the float32 error bound.
    """
    a = np.array([[1000.0], [614 * U16]], np.float16)
    b = np.array([[461 * U16], [2.0**-14]], np.float16)
    idx, dist = nearest_neighbours(a, b)
    assert idx.tolist() == [1, 0] and idx.dtype == np.int64
    assert dist.tolist() == [1000.0 - 2.0**-14, 153 * U16] and dist.dtype == np.float64
    oracle = exact_matrix(a.astype(np.float64), b.astype(np.float64))
    assert idx.tolist() == oracle.argmin(axis=1).tolist()


def test_nearest_neighbours_l2_ranks_with_blas_not_the_exact_matrix(monkeypatch):
    """L2 with a non-empty ``b`` takes the float32 BLAS ranking (no full exact matrix); L1 takes the matrix."""
    a = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    b = np.array([[3.0, 3.0], [0.0, 1.0], [1.0, 1.0]])
    calls = []
    real = distances_module.exact_matrix

    def spy(x, y, distance="L2"):
        calls.append(distance)
        return real(x, y, distance)

    monkeypatch.setattr(distances_module, "exact_matrix", spy)
    idx, dist = nearest_neighbours(a, b)
    assert idx.tolist() == [1, 0, 2] and dist.tolist() == [1.0, 1.0, 0.0] and calls == []
    idx, dist = nearest_neighbours(a, b[:1])  # a single candidate row is ranked by BLAS too
    assert idx.tolist() == [0, 0, 0] and dist.tolist() == [np.sqrt(18.0), 1.0, np.sqrt(8.0)] and calls == []
    idx, dist = nearest_neighbours(a, b, "L1")
    assert idx.tolist() == [1, 0, 2] and dist.tolist() == [1.0, 1.0, 0.0] and calls == ["L1"]


@pytest.mark.parametrize("distance", ["L2", "L1"])
def test_nearest_neighbours_in_row_blocks(distance, monkeypatch):
    """Blocks of 2 rows over 5 rows (N > D) give the exact-matrix answer, each block computed once (one
    `squared_norms` for ``b`` plus one per block on the L2 path)."""
    a = np.array([[0.0, 0.0], [3.0, 1.0], [1.0, 1.0], [-2.0, 5.0], [4.0, 4.0]])
    b = np.array([[4.0, 3.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 4.0]])
    matrix = exact_matrix(a, b, distance)
    calls = []
    real = distances_module.squared_norms
    monkeypatch.setattr(distances_module, "squared_norms", lambda x: calls.append(x.shape) or real(x))
    for block_rows, n_calls in ((2, 4), (2048, 2)):
        calls.clear()
        idx, dist = nearest_neighbours(a, b, distance, block_rows=block_rows)
        assert idx.tolist() == [1, 2, 2, 3, 0] == matrix.argmin(axis=1).tolist()
        assert dist.tolist() == matrix.min(axis=1).tolist()
        assert len(calls) == (n_calls if distance == "L2" else 0)


def test_nearest_neighbours_recomputes_only_unclear_rows(monkeypatch):
    """Only a row whose runner-up is within the float32 error bound goes to the exact recomputation: row 0 is
    equidistant from both rows of ``b`` (exact tie, first index), row 1 is clearly nearer to b[0]."""
    a = np.array([[5.0, 0.0], [-20.0, 0.0]])
    b = np.array([[0.0, 0.0], [10.0, 0.0]])
    recomputed = []
    real = distances_module._exact_argmin_among

    def spy(x, y, candidates, *args):
        recomputed.append(x.tolist())
        return real(x, y, candidates, *args)

    monkeypatch.setattr(distances_module, "_exact_argmin_among", spy)
    idx, dist = nearest_neighbours(a, b)
    assert idx.tolist() == [0, 0] and dist.tolist() == [5.0, 20.0] and recomputed == [[[5.0, 0.0]]]


def test_nearest_neighbours_empty_sets():
    """No row in ``a`` nor in ``b``: empty int64 indices and float64 distances, no error."""
    idx, dist = nearest_neighbours(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32))
    assert idx.shape == (0,) and idx.dtype == np.int64 and dist.shape == (0,) and dist.dtype == np.float64


def test_nearest_neighbours_scale_comes_from_both_sets():
    """``a`` 1e40 times larger than ``b``: scaled by b's exponent alone, -2a overflows float32 and the ranking
    becomes inf/NaN. Both rows of ``b`` are at exactly 5000 (1e-37 is far below the ulp), so the first wins."""
    a = np.float32([[3000.0, 4000.0]])
    b = np.float32([[-1e-37, -1e-37], [1e-37, 1e-37]])
    idx, dist = nearest_neighbours(a, b)
    assert idx.tolist() == [0] and dist.tolist() == [5000.0]
    assert exact_matrix(a, b).tolist() == [[5000.0, 5000.0]]
    # ``b`` 1e48 times larger than ``a``: scaled by a's exponent alone, |b|^2 - 2 a.b is inf - inf = NaN
    a, b = np.float32([[1e-10]]), np.float32([[1e38], [0.0]])
    idx, dist = nearest_neighbours(a, b)
    assert idx.tolist() == [1] and dist.tolist() == [float(np.float32(1e-10))]


# --- guards -------------------------------------------------------------------------------------------------------


def _flag_from_a_helper(**kwargs):
    return make_flag("some_code", "some text", **kwargs)


def test_make_flag_entry_and_warning():
    """The entry ``{"code", "message", **details}`` and one EvaluationWarning ``[code] message`` attributed to a
    caller, not to guards.py; nothing warned with ``warn=False``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flag = _flag_from_a_helper(sequences=["i_a"])
        quiet = _flag_from_a_helper(warn=False)
    assert flag == {"code": "some_code", "message": "some text", "sequences": ["i_a"]}
    assert quiet == {"code": "some_code", "message": "some text"}
    assert len(caught) == 1 and caught[0].category is EvaluationWarning
    assert str(caught[0].message) == "[some_code] some text"
    assert caught[0].filename != guards_module.__file__  # attributed to a caller, not to guards.py (stacklevel)


def test_name_list_exact_text():
    """Up to ``shown`` names: the repr of the list; more: the first ``shown`` and the total."""
    assert name_list(f"s{i}" for i in range(10)) == repr([f"s{i}" for i in range(10)])
    assert name_list(["a", "b", "c"], shown=2) == "['a', 'b', ...] (3 in all)"
    assert name_list(["a", "b"], shown=2) == "['a', 'b']"
    assert name_list([f"s{i}" for i in range(11)]) == repr([f"s{i}" for i in range(10)])[:-1] + ", ...] (11 in all)"


def test_sample_takes_evenly_spaced_rows_first_and_last_included():
    """More than 20000 rows: 20000 rows at ``linspace(0, N - 1)`` (first and last kept), as float64."""
    values = np.arange(20001 * 2, dtype=np.int32).reshape(20001, 2)
    sample = _sample(values)
    assert sample.shape == (20000, 2) and sample.dtype == np.float64
    rows = np.linspace(0, 20000, 20000).astype(np.int64)
    np.testing.assert_array_equal(sample, values[rows].astype(np.float64))
    assert sample[0].tolist() == [0.0, 1.0] and sample[-1].tolist() == [40000.0, 40001.0]
    assert sample[1].tolist() == [2.0, 3.0]  # linspace step 20000 / 19999: row 1
    small = np.float32([[1.5, 2.0]])
    assert _sample(small).dtype == np.float64 and _sample(small).tolist() == [[1.5, 2.0]]


def test_collapse_state_thresholds_and_texts():
    """Constant: total variance <= 1e-8 x mean squared norm (at equality too) or 0; collapsed: fewer distinct rows
    than max(2, 1 % of the rows); the texts give the numbers."""
    # every column constant (the variance of all the values would be 1)
    assert collapse_state(np.array([[1.0, 3.0]] * 3)) == ("constant", "total variance 0 vs mean squared norm 10")
    # 2 rows at 100 +- sqrt(1e-7) / ... : total variance 1e-7 < 1e-8 x 1e4, not 0
    near = np.array([[100.0 + 3e-4], [100.0 - 3e-4]])
    state, text = collapse_state(near)
    assert state == "constant" and text == "total variance 9e-08 vs mean squared norm 1e+04"
    # exactly at the threshold: total variance 0.25 == 1e-8 * 2.5e7 in float64
    assert collapse_state(np.array([[5000.499975], [4999.499975]])) == (
        "constant", "total variance 0.25 vs mean squared norm 2.5e+07")
    # total variance exactly 1 (one column 0, 2), mean squared norm 2: fine, 2 distinct rows of 2
    assert collapse_state(np.array([[0.0], [2.0]])) == (None, "2 distinct values over 2 ref patches")
    # total variance of the columns (0.25 + 0.25), not of all the values; distinct rows, not values
    rows = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert collapse_state(rows) == (None, "4 distinct values over 5 ref patches")
    # 2 distinct rows among 3: not collapsed (2 is not below max(2, 0.03))
    assert collapse_state(np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]))[0] is None
    # 5 distinct rows among 1000 (below 10): collapsed
    palette = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 2.0], [2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 3.0]])
    assert collapse_state(palette[np.arange(1000) % 5]) == ("collapsed", "only 5 distinct values over 1000 ref patches")
    # 10 distinct among 1000 is not below 10
    ten = np.stack([np.arange(10.0), np.arange(10.0) ** 2], axis=1)
    assert collapse_state(ten[np.arange(1000) % 10]) == (None, "10 distinct values over 1000 ref patches")


def _set_with_refs(refs):
    """A descriptor set whose ``ref`` arrays are ``refs[seq]`` and whose other types are distinct random rows."""
    rng = np.random.default_rng(0)
    return from_arrays({seq: {t: (ref if t == "ref" else rng.normal(size=ref.shape)) for t in PATCH_TYPES}
                        for seq, ref in refs.items()})


def _flags_and_warnings(dset, sequences):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flags = descriptor_flags(dset, sequences)
    assert all(w.category is EvaluationWarning for w in caught)
    assert [str(w.message) for w in caught] == [f"[{f['code']}] {f['message']}" for f in flags]
    return flags


def test_descriptor_flags_exact():
    """The three flags on the ``ref`` descriptors, exact: constant split (and nothing per sequence), collapsed
    split, and per-sequence states in split order with the count and names."""
    constant = _set_with_refs({"i_a": np.ones((4, 2)), "v_b": np.ones((3, 2))})
    assert _flags_and_warnings(constant, (s for s in ["v_b", "i_a"])) == [{
        "code": "constant_descriptors",
        "message": "descriptors 'arrays' are (nearly) constant across patches: total variance 0 vs mean squared norm "
        "2. Retrieval will look perfect (ties favour the positives) while verification and matching are ~0; the "
        "numbers are meaningless."}]
    palette = np.array([[0.0, 1.0], [1.0, 0.0]])
    two = {seq: palette[np.arange(150) % 2] for seq in ("i_a", "v_b", "i_c")}  # 2 distinct rows: not below 2
    assert _flags_and_warnings(_set_with_refs(two), ["i_a", "v_b", "i_c"]) == [{
        "code": "collapsed_descriptors",
        "message": "descriptors 'arrays' take only 2 distinct values over 450 ref patches: many exact ties, which the "
        "official protocol breaks by list order."}]
    mixed = {"i_a": np.ones((5, 2)), "v_b": np.arange(40.0).reshape(20, 2), "i_c": palette[np.arange(300) % 2]}
    flags = _flags_and_warnings(_set_with_refs(mixed), ["v_b", "i_c", "i_a"])
    assert flags == [{
        "code": "collapsed_sequences",
        "message": "2 of 3 sequences have constant or collapsed ref descriptors ['i_c', 'i_a'] (descriptors "
        "'arrays'): their retrieval queries tie with their positives and score ~1.0, which lifts the retrieval mean; "
        "their matching is ~0.",
        "sequences": ["i_c", "i_a"],
        "states": {"i_c": "collapsed", "i_a": "constant"}}]
    assert _flags_and_warnings(_set_with_refs({"v_b": mixed["v_b"]}), ["v_b"]) == []

# --- descriptor_sets ----------------------------------------------------------------------------------------------


def _sequence(n=3, d=2, start=0.0):
    """The 16 arrays of one sequence, (n, d) float64, values start + 0.5 k (exact in float32)."""
    return {t: start + 0.5 * np.arange(i * n * d, (i + 1) * n * d, dtype=np.float64).reshape(n, d)
            for i, t in enumerate(PATCH_TYPES)}


def test_descriptor_set_validates_converts_and_caches():
    """Arrays come back float32 and C-contiguous with the same values; ``dim`` is None until a load; each sequence
    is loaded once, by its own name; ``num_patches`` is N (rows), not D."""
    arrays = {"i_a": {t: np.asfortranarray(v) for t, v in _sequence(3, 2).items()}, "v_b": _sequence(3, 2, 100.0)}
    loads = []

    def loader(seq):
        loads.append(seq)
        return arrays[seq]

    dset = DescriptorSet(["v_b", "i_a"], loader, name="mine", source="memory")
    assert dset.sequences == ("v_b", "i_a") and dset.dim is None and loads == []
    assert repr(dset) == "DescriptorSet(name='mine', source='memory', sequences=2)"
    assert "i_a" in dset and "v_x" not in dset
    e1 = dset.get("i_a", "e1")
    assert e1.dtype == np.float32 and e1.flags.c_contiguous and e1.tolist() == arrays["i_a"]["e1"].tolist()
    assert dset.dim == 2 and dset.num_patches("i_a") == 3 and loads == ["i_a"]
    assert dset.get("i_a", "ref") is dset.sequence("i_a")["ref"] and loads == ["i_a"]
    assert dset.get("v_b", "t5").tolist() == arrays["v_b"]["t5"].tolist() and loads == ["i_a", "v_b"]
    assert list(dset.sequence("v_b")) == list(PATCH_TYPES)


def test_descriptor_set_require_messages():
    """The first missing sequence, the count, the first five names and ``...`` only beyond five."""
    dset = DescriptorSet(["i_a"], lambda seq: pytest.fail("no load"), name="n", source="src")
    dset.require(["i_a"])
    with pytest.raises(DescriptorError) as error:
        dset.require(["i_a", "x1", "x2", "x3", "x4", "x5", "x6"])
    assert str(error.value) == (
        "Sequence 'x1' is missing from descriptor set src (6 missing in all: ['x1', 'x2', 'x3', 'x4', 'x5']...).")
    with pytest.raises(DescriptorError) as error:
        dset.require(["x1", "x2", "x3", "x4", "x5"])
    assert str(error.value) == (
        "Sequence 'x1' is missing from descriptor set src (5 missing in all: ['x1', 'x2', 'x3', 'x4', 'x5']).")
    with pytest.raises(DescriptorError) as error:
        dset.get("v_z", "ref")
    assert str(error.value) == "Sequence 'v_z' is missing from descriptor set src (1 missing in all: ['v_z'])."


def _invalid(seq_arrays, seq="i_a"):
    with pytest.raises(DescriptorError) as error:
        DescriptorSet([seq], {seq: seq_arrays}.__getitem__, name="n", source="src").get(seq, "ref")
    return str(error.value)


def test_descriptor_set_validation_messages():
    """Every rejection of `_validate`, with its exact message (where = source, sequence and type)."""
    where = "src sequence 'i_a' type 'e2'"
    good = _sequence(4, 3)
    assert _invalid({t: v for t, v in good.items() if t != "h3"}) == (
        "Patch type 'h3' of sequence 'i_a' is missing from src.")
    for bad in (np.zeros(4), np.zeros((0, 3)), np.zeros((4, 0)), np.zeros((4, 3, 1))):
        assert _invalid({**good, "e2": bad}) == (
            f"Descriptors of {where} must be a non-empty (N, D) array. Received: {bad.shape}")
    for bad in (np.zeros((4, 3), complex), np.zeros((4, 3), bool), np.full((4, 3), "1")):
        assert _invalid({**good, "e2": bad}) == (
            f"Descriptors of {where} must be real numbers. Received dtype: {bad.dtype}")
    bad = good["e2"].copy()
    bad[2, 1], bad[3, 0] = np.inf, np.nan
    assert _invalid({**good, "e2": bad}) == (
        f"Descriptors of {where} contain NaN or inf (first at row 2, column 1): every distance involving them "
        "would be meaningless.")
    bad = good["e2"].copy()
    bad[1, 2] = 1e300  # overflows float32: inf, rejected, no RuntimeWarning on the way
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _invalid({**good, "e2": bad}) == (
            f"Descriptors of {where} contain NaN or inf (first at row 1, column 2): every distance involving them "
            "would be meaningless.")
    assert _invalid({**good, "e2": good["e2"][:2]}) == (
        f"Row count of {where} (2) differs from its 'ref' (4); every patch type of a sequence must have one row "
        "per patch.")
    assert _invalid({**good, "e2": np.zeros((4, 5))}) == (
        f"Descriptor dimension of {where} (5) differs from the other files (3).")
    # the dimension is the set's, across sequences
    dset = from_arrays({"i_a": _sequence(4, 3), "v_b": _sequence(2, 5)})
    dset.get("i_a", "ref")
    with pytest.raises(DescriptorError) as error:
        dset.get("v_b", "ref")
    assert str(error.value) == (
        "Descriptor dimension of arrays sequence 'v_b' type 'ref' (5) differs from the other files (3).")


def test_from_arrays_keys_names_and_errors():
    """Tuple keys and nested mappings (merged per sequence, sorted), the default name, exact TypeErrors."""
    seq = _sequence(2, 2)
    mixed = {("v_b", t): v for t, v in seq.items() if t != "ref"}
    mixed["v_b"] = {"ref": seq["ref"]}
    mixed["ab"] = seq  # a two-letter sequence name is a name, not a (seq, type) pair
    dset = from_arrays(mixed)
    assert dset.sequences == ("ab", "v_b") and dset.name == "arrays" and dset.source == "arrays"
    assert dset.get("v_b", "ref").tolist() == seq["ref"].tolist()
    assert dset.get("v_b", "e1").tolist() == seq["e1"].tolist() and dset.get("ab", "t5").tolist() == seq["t5"].tolist()
    assert from_arrays(mixed, name="mine").name == "mine"
    with pytest.raises(TypeError) as error:
        from_arrays([1, 2])
    assert str(error.value) == "`arrays` must be a mapping. Received: list"
    bad_keys = ((("a", "b", "c"), seq["ref"], "ndarray"), ("i_a", seq["ref"], "ndarray"), (1, seq, "dict"))
    for key, value, kind in bad_keys:
        with pytest.raises(TypeError) as error:
            from_arrays({key: value})
        assert str(error.value) == (
            "`arrays` must map (seq, patch_type) -> array or seq -> {patch_type: array}. "
            f"Received key: {key!r} with value type {kind}")


def _write_sequence(folder, seq, arrays, delimiter):
    (folder / seq).mkdir(parents=True)
    for t, v in arrays.items():
        (folder / seq / f"{t}.csv").write_text("\n".join(delimiter.join(f"{x:g}" for x in row) for row in v) + "\n")


def test_csv_reading_exact(tmp_path):
    """Delimiter detection order (, then ; then tab, else whitespace), spaces after the delimiter, no header row,
    float32 values, a given delimiter is used as given, and the exact messages."""
    cases = {"a.csv": "1;2,5\n", "b.csv": "1\t2;5\n", "c.csv": "1\t2\n", "d.csv": "1 2\r\n3 4\r\n"}
    for name, text in cases.items():
        (tmp_path / name).write_text(text, newline="")
    assert [detect_delimiter(tmp_path / n) for n in cases] == [",", ";", "\t", r"\s+"]
    (tmp_path / "spaced.csv").write_text("0.1,  2\n-3,   4.5\n")
    values = read_descriptor_csv(tmp_path / "spaced.csv")
    assert values.dtype == np.float32 and values.tolist() == np.float32([[0.1, 2], [-3, 4.5]]).tolist()
    assert read_descriptor_csv(tmp_path / "spaced.csv", ",").tolist() == values.tolist()
    (tmp_path / "quoted.csv").write_text('1, "2"\n3, "4"\n')  # quotes after the space are quotes
    assert read_descriptor_csv(tmp_path / "quoted.csv").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    for name, text, delimiter in (("tab.csv", "1\t2\n", "tab"), ("ws.csv", "1  2\n", "whitespace"),
                                  ("sp.csv", "1 2\n", " "), ("pipe.csv", "1|2\n", "|")):
        (tmp_path / name).write_text(text)
        assert read_descriptor_csv(tmp_path / name, delimiter).tolist() == [[1.0, 2.0]], delimiter
    (tmp_path / "semi.csv").write_text("1;2\n3;4\n")
    with pytest.raises(DescriptorError) as error:
        read_descriptor_csv(tmp_path / "semi.csv", ",")  # the given delimiter, not the detected one
    assert str(error.value).startswith(
        f"Descriptor file {tmp_path / 'semi.csv'} is not a numeric CSV with delimiter ',' (check the delimiter): ")
    (tmp_path / "one.csv").write_text("1\n2\n")
    with pytest.raises(DescriptorError) as error:
        read_descriptor_csv(tmp_path / "one.csv")
    whitespace = repr(r"\s+")
    assert str(error.value) == (
        f"Descriptor file {tmp_path / 'one.csv'} has a single column with delimiter {whitespace}; check the delimiter.")
    (tmp_path / "text.csv").write_text("1,2\n3,x\n")
    with pytest.raises(DescriptorError) as error:
        read_descriptor_csv(tmp_path / "text.csv")
    assert str(error.value).startswith(
        f"Descriptor file {tmp_path / 'text.csv'} is not a numeric CSV with delimiter ',' (check the delimiter): ")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DescriptorError) as error:
        read_descriptor_csv(tmp_path / "empty.csv")
    assert str(error.value) == f"Descriptor file {tmp_path / 'empty.csv'} is empty."


def test_from_csv_dir_names_delimiter_and_messages(tmp_path):
    """Sequences are the sub-folders holding a ref.csv; name defaults to the folder name; the given delimiter is
    used for every file; the hint names the first inner folder that holds sequences; exact messages."""
    root = tmp_path / "descs"
    _write_sequence(root / "mine", "v_b", _sequence(2, 3), ";")
    _write_sequence(root / "mine", "i_a", _sequence(2, 3), ";")
    _write_sequence(root / "other", "i_a", _sequence(2, 3), ";")
    (root / "aaa").mkdir()  # a folder without sequences is no hint
    (root / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError) as error:
        from_csv_dir(root)
    assert str(error.value) == (
        f"Descriptor folder {root} holds no <seq>/ref.csv files (did you mean {str(root / 'mine')!r}? it holds "
        "<seq>/ref.csv files).")
    with pytest.raises(FileNotFoundError) as error:
        from_csv_dir(root / "aaa")
    assert str(error.value) == f"Descriptor folder {root / 'aaa'} holds no <seq>/ref.csv files."
    with pytest.raises(FileNotFoundError) as error:
        from_csv_dir(root / "nope")
    assert str(error.value) == f"Descriptor folder not found: {root / 'nope'}"
    dset = from_csv_dir(root / "mine")
    assert dset.sequences == ("i_a", "v_b") and dset.name == "mine" and dset.source == str(root / "mine")
    assert dset.get("v_b", "h4").tolist() == _sequence(2, 3)["h4"].tolist()
    assert from_csv_dir(root / "mine", ";", name="given").name == "given"
    with pytest.raises(DescriptorError, match="is not a numeric CSV with delimiter ','"):
        from_csv_dir(root / "mine", ",").get("i_a", "ref")
    (root / "mine" / "i_a" / "t2.csv").unlink()
    with pytest.raises(DescriptorError) as error:
        from_csv_dir(root / "mine").get("i_a", "ref")
    assert str(error.value) == (
        f"Descriptor file {root / 'mine' / 'i_a' / 't2.csv'} (sequence 'i_a', type 't2') is missing.")


class _Patches:
    """Patch source: patch k of (seq, type) is filled with k + 10 * (index of type) (+ 100 for v_b), (N, 4, 4)."""

    def __init__(self, sizes):
        self.sizes = sizes
        self.sequences = list(sizes)
        self.loads = []

    def load(self, seq, patch_type):
        self.loads.append((seq, patch_type))
        n = self.sizes[seq]
        fill = np.arange(n) + 10 * PATCH_TYPES.index(patch_type) + (100 if seq == "v_b" else 0)
        return np.broadcast_to(fill[:, None, None], (n, 4, 4)).astype(np.uint8)


def test_from_callable_batches_shapes_names_and_messages():
    """Default: one call per file on (N, P, P, 1) patches (N > P here); ``batch_size`` chunks; exact descriptors,
    names, sources and messages."""
    source = _Patches({"i_a": 7, "v_b": 2})
    calls = []

    def describe(patches):
        calls.append(patches.shape)
        return np.stack([patches[:, 0, 0, 0], patches[:, 1, 1, 0] * 2.0], axis=1)

    dset = from_callable(describe, source)
    assert dset.name == "describe" and dset.source == "callable describe" and dset.sequences == ("i_a", "v_b")
    for t in PATCH_TYPES:
        fill = np.arange(7) + 10 * PATCH_TYPES.index(t)
        assert dset.get("i_a", t).tolist() == np.stack([fill, 2.0 * fill], axis=1).tolist()
    assert calls == [(7, 4, 4, 1)] * 16 and source.loads == [("i_a", t) for t in PATCH_TYPES]
    calls.clear()
    chunked = from_callable(describe, source, name="chunks", batch_size=3)
    assert chunked.get("i_a", "e1").tolist() == dset.get("i_a", "e1").tolist() and chunked.name == "chunks"
    assert calls[:3] == [(3, 4, 4, 1), (3, 4, 4, 1), (1, 4, 4, 1)] and chunked.source == "callable chunks"
    flat = from_callable(lambda p: p.reshape(len(p), -1)[:, :2] + 1000.0 * p.ndim, source, add_channel=False)
    assert flat.get("v_b", "ref").tolist() == [[3100, 3100], [3101, 3101]] and flat.name == "<lambda>"

    class Describer:
        def __call__(self, patches):
            return np.ones((patches.shape[0], 2))

    assert from_callable(Describer(), source).name == "Describer"
    with pytest.raises(DescriptorError) as error:
        from_callable(lambda p: np.ones((1, 2)), source).get("i_a", "ref")
    assert str(error.value) == "`describe` must return (N, D) = (7, D) for i_a/ref. Received: (1, 2)"
    with pytest.raises(DescriptorError) as error:
        from_callable(lambda p: np.ones(p.shape[0]), source).get("i_a", "ref")
    assert str(error.value) == "`describe` must return (N, D) = (7, D) for i_a/ref. Received: (7,)"
    assert from_callable(lambda p: np.ones((p.shape[0], 7)), source).get("i_a", "ref").shape == (7, 7)  # D = N
    with pytest.raises(DescriptorError) as error:  # no patch: nothing described, rejected as (0, 0)
        from_callable(lambda p: np.ones((p.shape[0], 4)), _Patches({"i_a": 0})).get("i_a", "ref")
    assert str(error.value) == (
        "Descriptors of callable <lambda> sequence 'i_a' type 'ref' must be a non-empty (N, D) array. Received: (0, 0)")
    with pytest.raises(TypeError) as error:
        from_callable(3, source)
    assert str(error.value) == "`describe` must be callable. Received: int"

    class OnlySequences:
        sequences = ["i_a"]

    class OnlyLoad:
        def load(self, seq, patch_type):
            return np.zeros((1, 4, 4), np.uint8)

    for bad in (object(), OnlySequences(), OnlyLoad()):
        with pytest.raises(TypeError) as error:
            from_callable(describe, bad)
        assert str(error.value) == f"`patch_source` must have `sequences` and `load`. Received: {type(bad).__name__}"
