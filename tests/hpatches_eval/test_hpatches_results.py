"""Results: summary aggregation, flat keys, atomic JSON writing, loading back, printing."""

import json

import numpy as np
import pandas as pd
import pytest

from hpatches_eval import Results, format_results, load_results
from hpatches_eval.results import write_json_atomic


def make_results():
    grid = pd.DataFrame([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], index=["e", "h", "t"], columns=["inter", "intra"])
    matching = pd.DataFrame(
        [(s, lv, i, ap, 0.5) for s, ap in (("i_a", 0.2), ("v_b", 0.4)) for lv in "eht" for i in range(1, 6)],
        columns=["seq", "level", "image", "ap", "sr"],
    )
    retrieval = pd.DataFrame(np.arange(6, dtype=float).reshape(3, 2) / 10, index=["e", "h", "t"], columns=[100, 500])
    retrieval.loc["mean"] = retrieval.mean()
    return Results(params={"descriptor": "d", "split": "a"}, verification_auc=grid / 2, verification_ap=grid,
                   matching=matching, retrieval=retrieval, flags=[{"code": "x", "message": "y"}])


def test_summary_and_flat_keys():
    results = make_results()
    assert results.summary == pytest.approx({"verification": 0.35, "matching": 0.3, "retrieval": 0.25,
                                             "mean": 0.3})
    flat = results.flat()
    assert flat["verif_h_intra_ap"] == 0.4 and flat["verif_h_intra_auc"] == 0.2
    assert flat["match_t_map"] == pytest.approx(0.3) and flat["retr_t_500_map"] == 0.5
    assert "retr_mean_100_map" not in flat
    by_cat = results.matching_by_category
    assert by_cat.loc["e", "i"] == pytest.approx(0.2) and by_cat.loc["e", "v"] == pytest.approx(0.4)


def test_json_round_trip_and_printing(tmp_path):
    results = make_results()
    path = results.save(tmp_path / "r.json")
    loaded = load_results(path)
    original, reloaded = results.flat(), loaded.flat()
    assert reloaded.pop("summary") == pytest.approx(original.pop("summary"))
    assert reloaded == pytest.approx(original)
    assert loaded.summary == pytest.approx(results.summary)
    pd.testing.assert_frame_equal(loaded.retrieval, results.retrieval, check_names=False)
    text = format_results(loaded)
    assert "Retrieval: mAP per pool size" in text and "WARNING [x]: y" in text and "Easy" in text


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"old": true}')
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_json_atomic({"x": float("nan")}, path)
    assert json.loads(path.read_text()) == {"old": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_load_results_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Results file not found"):
        load_results(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text('{"schema_version": 0}')
    with pytest.raises(ValueError, match="`schema_version` must be 1. Received: schema_version=0"):
        load_results(tmp_path / "old.json")
