"""Numbers exact or flagged: any input scale, per-sequence collapse, retrieval pools, stored vs recomputed summary."""

import contextlib
import json

import numpy as np
import pandas as pd
import pytest

from hpatches_eval import evaluate, format_results, from_arrays, load_results
from hpatches_eval.cli import main
from hpatches_eval.distances import exact_matrix, nearest_neighbours, power_of_two_scale
from hpatches_eval.guards import descriptor_flags

POOLS = (6, 20, 40)


def _scaled(arrays, factor):
    return {key: (value.astype(np.float64) * factor).astype(np.float32) for key, value in arrays.items()}


def _run(arrays, tasks_dir, **kwargs):
    with pytest.warns(UserWarning) if kwargs.pop("expect_warning", False) else contextlib.nullcontext():
        return evaluate(arrays, tasks_dir=tasks_dir, split="syn", pools=kwargs.pop("pools", POOLS), **kwargs)


def test_power_of_two_scales_give_bit_identical_numbers_with_ties(synthetic):
    # quantised descriptors: many exact ties, kept exactly by any power-of-two scale (1e-30 .. 1e30 and beyond)
    arrays, tasks_dir = synthetic(quantised=True, duplicate_fraction=0.2)
    expected = _run(arrays, tasks_dir).flat()
    for exponent in (-120, -100, -40, 40, 100, 120):
        assert _run(_scaled(arrays, 2.0**exponent), tasks_dir).flat() == expected, exponent


def test_decimal_scales_keep_every_number(synthetic):
    # x 1e30 used to overflow the float32 ranking of matching (mAP 0.41 -> 0.005); x 1e-30 underflows it to 0
    arrays, tasks_dir = synthetic(quantised=False, duplicate_fraction=0.3, sizes=(40, 30, 50, 35), dim=16)
    expected = _run(arrays, tasks_dir, tasks=("matching", "retrieval"))
    assert expected.summary["matching"] > 0.2
    for factor in (1e30, 1e-30):
        flat = _run(_scaled(arrays, factor), tasks_dir, tasks=("matching", "retrieval")).flat()
        assert flat.pop("summary") == pytest.approx(expected.flat()["summary"], abs=1e-12)
        assert flat == pytest.approx({k: v for k, v in expected.flat().items() if k != "summary"}, abs=1e-12)


@pytest.mark.parametrize("factor", [2.0**100, 1e30, 1e-30, 2.0**-100])
def test_nearest_neighbours_exact_at_any_scale(factor):
    rng = np.random.default_rng(7)
    b = rng.integers(0, 256, size=(300, 128)).astype(np.float32)  # SIFT-like values
    b[50:60] = b[3]  # exact duplicates: the first index must win
    a = np.vstack([b[3:8], rng.integers(0, 256, size=(40, 128))]).astype(np.float32)
    a, b = (a.astype(np.float64) * factor).astype(np.float32), (b.astype(np.float64) * factor).astype(np.float32)
    idx, dist = nearest_neighbours(a, b)
    full = exact_matrix(a, b)
    np.testing.assert_array_equal(idx, np.argmin(full, axis=1))
    np.testing.assert_array_equal(dist, full[np.arange(a.shape[0]), idx])
    assert idx[0] == 3 and dist[0] == 0.0
    assert np.isfinite(dist).all() and (dist[5:] > 0).all()


def test_power_of_two_scale():
    assert power_of_two_scale(np.array([[0.75, -3.0]]), np.array([[1.0]])) == 2  # 3 = 0.75 * 2**2
    assert power_of_two_scale(np.zeros((2, 2))) == 0 and power_of_two_scale(np.empty((0, 3))) == 0
    assert power_of_two_scale(np.array([[np.float32(3e38)]])) == 128


def test_one_constant_sequence_is_flagged_by_name(synthetic):
    arrays, tasks_dir = synthetic()
    honest = _run(arrays, tasks_dir, tasks=("retrieval",))
    cheat = {key: (np.full_like(value, 0.5) if key[0] == "v_s1" else value) for key, value in arrays.items()}
    results = _run(cheat, tasks_dir, tasks=("retrieval",), expect_warning=True)
    assert [flag["code"] for flag in results.flags] == ["collapsed_sequences"]
    flag = results.flags[0]
    assert flag["sequences"] == ["v_s1"] and flag["states"] == {"v_s1": "constant"}
    assert "['v_s1']" in flag["message"] and "1 of 4 sequences" in flag["message"]
    assert results.summary["retrieval"] > honest.summary["retrieval"]  # what the flag is for
    text = format_results(results)
    assert "! flagged: collapsed_sequences" in text and "[FLAGGED: collapsed_sequences]" in text
    assert "WARNING [collapsed_sequences]" in text
    assert results.to_dict()["flags"][0]["sequences"] == ["v_s1"]


def test_per_sequence_collapse_states():
    rng = np.random.default_rng(1)
    palette = rng.normal(size=(3, 4)).astype(np.float32)
    arrays = {}
    for seq, n in (("i_many", 400), ("v_few", 400), ("v_flat", 30)):
        for patch_type in ("ref",) + tuple(f"{lv}{i}" for lv in "eht" for i in range(1, 6)):
            values = rng.normal(size=(n, 4)).astype(np.float32)
            if seq == "v_few":
                values = palette[rng.integers(0, 3, n)]  # 3 distinct < 1% of 400
            if seq == "v_flat":
                values = np.ones((n, 4), np.float32) + np.float32(1e-6) * (np.arange(n) % 2)[:, None]
            arrays[(seq, patch_type)] = values
    with pytest.warns(UserWarning, match=r"\[collapsed_sequences\] 2 of 3 sequences .*\['v_few', 'v_flat'\]"):
        flags = descriptor_flags(from_arrays(arrays), ["i_many", "v_few", "v_flat"])
    assert [flag["code"] for flag in flags] == ["collapsed_sequences"]
    assert flags[0]["states"] == {"v_few": "collapsed", "v_flat": "constant"}


def test_split_with_one_sequence_flags_pools_without_distractors(synthetic):
    arrays, tasks_dir = synthetic(sizes=(30,), n_queries=10, n_distractors=15)
    with pytest.warns(UserWarning, match=r"retrieval_no_distractors.*retrieval is exactly 1.0 and meaningless"):
        results = evaluate(arrays, tasks_dir=tasks_dir, split="syn", tasks=("retrieval",), pools=(6, 20))
    assert (results.retrieval.to_numpy() == 1.0).all()
    assert [flag["code"] for flag in results.flags] == ["retrieval_no_distractors"]
    assert results.flags[0]["queries"] == 10 and results.flags[0]["sequences"] == ["i_s0"]


def test_short_pools_flagged_exactly(synthetic):
    arrays, tasks_dir = synthetic()
    queries = pd.read_csv(tasks_dir / "retr_queries_split-syn.csv")
    distractors = pd.read_csv(tasks_dir / "retr_distractors_split-syn.csv")
    kept = np.array([int((distractors["s"] != seq).sum()) for seq in queries["s"]])  # per query, brute force
    pools = (6, 30, 38, 100)
    results = _run(arrays, tasks_dir, tasks=("retrieval",), pools=pools, expect_warning=True)
    expected = []
    for k in pools:
        short = kept < k - 5 if k != 100 else np.full(kept.shape, len(distractors) < k - 5)
        if short.any():
            expected.append({"pool": k, "needed": k - 5, "short_queries": int(short.sum()),
                             "min_distractors": int(kept[short].min())})
    assert [e["pool"] for e in expected] == [38, 100] and expected[0]["short_queries"] < len(queries)
    assert [flag["code"] for flag in results.flags] == ["retrieval_short_pools"]
    assert results.flags[0]["pools"] == expected
    # the largest pool means "all distractors of other sequences" (official 20000 = the file): not short by itself
    assert _run(arrays, tasks_dir, tasks=("retrieval",), pools=(6, 45)).flags == []


def _saved(synthetic, tmp_path):
    arrays, tasks_dir = synthetic()
    results = _run(arrays, tasks_dir, tasks=("matching", "retrieval"))
    return results, results.save(tmp_path / "r.json")


def test_show_prints_the_stored_summary_and_flags_a_mismatch(synthetic, tmp_path, capsys):
    results, path = _saved(synthetic, tmp_path)
    assert load_results(path).flags == [] and load_results(path).stored_mismatches() == []
    data = json.loads(path.read_text())
    data["summary"]["matching"] = 0.875
    path.write_text(json.dumps(data))
    assert main(["show", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Summary (coursework): matching 0.875000, retrieval" in captured.out
    assert "[FLAGGED: stored_summary_mismatch]" in captured.out
    assert f"{results.summary['matching']:.6f}" not in captured.out.split("Summary")[1].split("\n")[0]
    warnings_ = [line for line in captured.err.splitlines() if line.startswith("python -m hpatches_eval: warning:")]
    assert len(warnings_) == 1 and "summary.matching stored 0.875 vs recomputed" in warnings_[0]
    with pytest.warns(UserWarning, match="stored_summary_mismatch"):
        loaded = load_results(path)
    assert loaded.flags[-1]["mismatches"] == [
        {"key": "summary.matching", "stored": 0.875, "recomputed": results.summary["matching"]}]


def test_show_flags_edited_details(synthetic, tmp_path):
    results, path = _saved(synthetic, tmp_path)
    data = json.loads(path.read_text())
    data["matching"]["per_pair"][0]["ap"] = 1.0
    data["retrieval"]["map"]["mean"][0] = 0.0
    path.write_text(json.dumps(data))
    with pytest.warns(UserWarning, match="stored_summary_mismatch"):
        loaded = load_results(path)
    keys = [m["key"] for m in loaded.flags[-1]["mismatches"]]
    assert keys == ["summary.matching", "match_e_map", f"retrieval.map.mean[{POOLS[0]}]"]
    assert loaded.shown_summary == pytest.approx(results.summary)


def test_cli_write_failure_after_the_work_exits_1(official_fixture, tmp_path, capsys, monkeypatch):
    @contextlib.contextmanager
    def disk_full(path):
        raise OSError(28, "No space left on device", str(path))
        yield  # pragma: no cover

    monkeypatch.setattr("hpatches_eval.results.staged_file", disk_full)
    out = tmp_path / "r.json"
    argv = ["--descriptors", str(official_fixture / "descriptors" / "fixture"), "--tasks",
            str(official_fixture / "tasks"), "--split", "fx", "--task", "matching", "--out", str(out), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"python -m hpatches_eval: error: No space left on device: {out}"]
    assert not out.exists() and list(tmp_path.iterdir()) == [official_fixture]


def test_quiet_still_warns_every_flag(synthetic, tmp_path, descriptor_dir_writer, capsys):
    arrays, tasks_dir = synthetic()
    cheat = {key: (np.full_like(value, 0.5) if key[0] == "i_s2" else value) for key, value in arrays.items()}
    folder = descriptor_dir_writer(cheat, tmp_path / "descs")
    out = tmp_path / "r.json"
    argv = ["--descriptors", str(folder), "--tasks", str(tasks_dir), "--split", "syn", "--task", "retrieval",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith("python -m hpatches_eval: warning: [collapsed_sequences] 1 of 4 sequences")
    assert "[retrieval_short_pools]" in lines[1] and lines[2] == f"Results written to {out}"
    assert [flag["code"] for flag in json.loads(out.read_text())["flags"]] == [
        "collapsed_sequences", "retrieval_short_pools"]
