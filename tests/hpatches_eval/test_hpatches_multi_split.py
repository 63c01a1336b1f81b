"""HPatches over several splits (`evaluate_splits`, ``--split a,b`` / ``all``): per-split numbers, mean and std.

The official-eval fixture defines one split (``fx``, 5 sequences). Here its tasks folder gains splits ``a`` and
``b`` (3 sequences each, task files = the ``fx`` rows that stay inside the split) and a ``c`` that is defined but
has no task files. The combined numbers are checked against separate single-split `evaluate` runs and against
the official evaluator's own numbers for ``fx`` (expected_official.json).
"""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hpatches_eval import evaluate, from_csv_dir
from hpatches_eval.cli import main
from hpatches_eval.multi_split import (
    available_splits,
    evaluate_splits,
    load_multi_split,
    parse_splits,
    read_results_json,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "official-eval"

SUBSETS = {"a": ["i_alpha", "v_gamma", "v_delta"], "b": ["i_beta", "i_alpha", "v_eps"]}
ALL_SEQS = ["i_alpha", "i_beta", "v_gamma", "v_delta", "v_eps"]


@pytest.fixture(scope="module")
def dset():
    """The fixture descriptors, read once for the module (evaluations share it)."""
    descriptors = from_csv_dir(FIXTURE / "descriptors" / "fixture")
    for seq in ALL_SEQS:
        descriptors.sequence(seq)
    return descriptors


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    """(descriptor folder, tasks folder, fixture root) with splits fx, a, b (task files) and c (none)."""
    tasks = tmp_path_factory.mktemp("bench") / "tasks"
    shutil.copytree(FIXTURE / "tasks", tasks)
    splits = {"fx": ALL_SEQS, **SUBSETS, "c": ALL_SEQS}
    (tasks / "splits" / "splits.json").write_text(
        json.dumps({name: {"name": name, "test": seqs, "train": []} for name, seqs in splits.items()}))
    for name, seqs in SUBSETS.items():
        for stem in ("verif_pos", "verif_neg_intra", "verif_neg_inter"):
            frame = pd.read_csv(tasks / f"{stem}_split-fx.csv")
            frame[frame.s1.isin(seqs) & frame.s2.isin(seqs)].to_csv(tasks / f"{stem}_split-{name}.csv", index=False)
        for stem in ("retr_queries", "retr_distractors"):
            frame = pd.read_csv(tasks / f"{stem}_split-fx.csv")
            frame[frame.s.isin(seqs)].to_csv(tasks / f"{stem}_split-{name}.csv", index=False)
    return FIXTURE / "descriptors" / "fixture", tasks, FIXTURE


@pytest.fixture(scope="module")
def single(bench, dset):
    """Separate single-split `evaluate` runs of a and b."""
    return {name: evaluate(dset, tasks_dir=bench[1], split=name) for name in ("a", "b")}


def _sample_std(values):
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def test_combined_is_mean_and_std_of_separate_runs(bench, dset, single):
    _, tasks, root = bench
    multi = evaluate_splits(dset, tasks, split="fx,a,b")
    assert multi.splits == ["fx", "a", "b"] and multi.mean_over == ["fx", "a", "b"]
    # fx: the official evaluator's own numbers; a, b: separate runs
    expected = json.loads((root / "expected_official.json").read_text())
    for key, value in expected["summary"].items():
        assert multi.per_split["fx"].summary[key] == pytest.approx(value, abs=1e-6)
    fx = multi.per_split["fx"]
    combined = multi.combined
    assert combined["n"] == 3
    for key in ("verification", "matching", "retrieval", "mean"):
        values = [expected["summary"][key]] + [single[name].summary[key] for name in ("a", "b")]
        assert combined["summary"]["mean"][key] == pytest.approx(sum(values) / 3, abs=1e-6), key
        assert combined["summary"]["std"][key] == pytest.approx(_sample_std(values), abs=1e-6), key
        assert multi.per_split["a"].summary[key] == single["a"].summary[key]
    # the splits really differ (a planted "same split three times" bug would give std 0)
    assert combined["summary"]["std"]["verification"] > 1e-3
    # figure cells, computed here from the official numbers and the single runs' tables
    cells = combined["cells"]["mean"]
    want = (expected["verif_h_intra_ap"] + sum(single[n].verification_ap.loc["h", "intra"] for n in "ab")) / 3
    assert cells["verif_h_intra_ap"] == pytest.approx(want, abs=1e-6)
    assert cells["match_e_map"] == pytest.approx(
        (expected["match_e_map"] + sum(single[n].matching_by_level.loc["e", "map"] for n in "ab")) / 3, abs=1e-6)
    retr_fx = np.mean([v for k, v in expected.items() if k.startswith("retr_e_")])
    retr = [retr_fx] + [single[n].retrieval.loc["e"].mean() for n in "ab"]
    assert cells["retr_e_map"] == pytest.approx(np.mean(retr), abs=1e-6)
    views = [r.matching.query("level == 't' and seq.str.startswith('v_')")["ap"].mean()
             for r in (fx, single["a"], single["b"])]
    assert cells["match_t_v_map"] == pytest.approx(np.mean(views), abs=1e-12)
    assert combined["cells"]["std"]["match_t_v_map"] == pytest.approx(_sample_std(views), abs=1e-12)
    # every split's flags carry into the combined result, named by split
    assert [(f["split"], f["code"]) for f in multi.flags] == [
        ("fx", "retrieval_short_pools"), ("a", "retrieval_short_pools"), ("b", "retrieval_short_pools")]
    assert multi.flags[1]["message"].startswith("split 'a': ")


def test_all_picks_official_splits_with_task_files_and_averages_a_b_c(bench, single, tmp_path, capsys):
    descs, tasks, _ = bench
    assert available_splits(tasks) == ["a", "b"]  # c has no task files, fx is not an official split
    assert available_splits(tasks, tasks=("matching",)) == ["a", "b", "c"]
    assert parse_splits("all", tasks) == (["a", "b"], ["a", "b"])
    out = tmp_path / "res" / "multi.json"
    argv = ["--descriptors", str(descs), "--tasks", str(tasks), "--split", "all", "--out", str(out)]
    assert main(argv) == 0
    printed, err = capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["kind"] == "hpatches_eval.multi_split" and data["splits"] == ["a", "b"]
    a, b = (single[name].summary["mean"] for name in ("a", "b"))
    assert data["combined"]["summary"]["mean"]["mean"] == pytest.approx((a + b) / 2, abs=1e-12)
    assert data["per_split"]["b"]["summary"]["mean"] == pytest.approx(b, abs=1e-12)
    assert [f["split"] for f in data["flags"]] == ["a", "b"]
    assert f"{(a + b) / 2 * 100:.2f}" in printed and "WARNING [retrieval_short_pools]: split 'b'" in printed
    assert err.count("warning: [retrieval_short_pools] split") == 2
    # show prints the same tables; reloading gives the same numbers and no mismatch flag
    assert main(["show", str(out)]) == 0
    shown, _ = capsys.readouterr()
    assert shown.strip() == printed.strip()
    loaded = load_multi_split(out)
    assert loaded.combined == data["combined"] and not loaded.load_flags


def test_edited_file_is_flagged_and_shows_stored_numbers(bench, dset, tmp_path, capsys):
    _, tasks, _ = bench
    path = evaluate_splits(dset, tasks, split=["a", "b"], tasks=("retrieval",)).save(tmp_path / "m.json")
    data = json.loads(path.read_text())
    assert data["combined"]["summary"]["mean"]["verification"] is None
    data["combined"]["summary"]["mean"]["retrieval"] = 0.999
    path.write_text(json.dumps(data))
    with pytest.warns(Warning, match="stored_combined_mismatch"):
        loaded = read_results_json(path)
    assert [f["code"] for f in loaded.load_flags] == ["stored_combined_mismatch"]
    assert loaded.load_flags[0]["mismatches"][0]["key"] == "summary.mean.retrieval"
    assert main(["show", str(path)]) == 0
    out, err = capsys.readouterr()
    summary = next(line for line in out.splitlines() if line.startswith("Summary over a, b: "))
    assert summary.startswith("Summary over a, b: retrieval 0.999000 +- ")
    assert summary.endswith("[FLAGGED: retrieval_short_pools, stored_combined_mismatch]")
    assert "99.90" in out  # the stored mean row of the table
    assert "stored_combined_mismatch" in err


@pytest.mark.parametrize("split, message", [
    ("a,,b", r"split names separated by commas"),
    ("a,b,a", r"repeated: \['a'\]"),
    (["all", "a"], r"'all' cannot be combined"),
])
def test_bad_split_lists(split, message):
    with pytest.raises(ValueError, match=message):
        parse_splits(split)


def test_all_without_any_official_split():
    with pytest.raises(ValueError, match=r"'all' found none of the official splits"):
        parse_splits("all", FIXTURE / "tasks")
