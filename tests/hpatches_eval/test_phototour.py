"""FPR95 of the Brown / UBC PhotoTour protocol: hand-computed cases (ties included), pair files, the command."""

import json

import numpy as np
import pytest

from hpatches_eval.errors import DescriptorError, TaskFileError
from hpatches_eval.phototour import fpr95, fpr_at_recall, pair_distances, read_pairs_file
from hpatches_eval.phototour.cli import main


def reference_fpr95(labels, distances, kind):
    """HardNet's EvalMetrics.ErrorRateAt95Recall (on distances), with the sort kind made explicit."""
    labels = np.asarray(labels)[np.argsort(distances, kind=kind)]
    threshold_index = np.argmax(np.cumsum(labels) >= 0.95 * np.sum(labels))
    fp = np.sum(labels[:threshold_index] == 0)
    tn = np.sum(labels[threshold_index:] == 0)
    return fp / (fp + tn)


def test_hand_computed_without_ties():
    # positives 0.1 0.2 0.3 0.9 -> ceil(0.95 * 4) = 4 needed, threshold 0.9; negatives below it: 0.15, 0.5
    distances = [0.1, 0.15, 0.2, 0.3, 0.5, 0.9, 1.0, 2.0]
    labels = [1, 0, 1, 1, 0, 1, 0, 0]
    for ties in ("threshold", "optimistic", "stable"):
        result = fpr_at_recall(distances, labels, ties=ties)
        assert result.fpr == 0.5 and result.false_positives == 2 and result.negatives == 4
        assert result.threshold == 0.9 and result.positives_needed == 4 and result.tied_negatives == 0


def test_95_percent_of_20_positives_needs_19():
    distances = list(range(1, 21)) + [18.5, 19.5, 25.0]
    labels = [1] * 20 + [0, 0, 0]
    result = fpr_at_recall(distances, labels)
    assert result.positives_needed == 19 and result.threshold == 19.0
    assert result.false_positives == 1 and result.fpr == pytest.approx(1 / 3)


def test_ties_at_the_threshold_follow_the_stated_rule():
    # positives 0.1 0.2 0.3 0.5 (threshold 0.5); negatives 0.05 and two tied at 0.5, one far
    distances = np.array([0.5, 0.5, 0.1, 0.2, 0.3, 0.5, 0.05, 3.0])
    labels = np.array([0, 0, 1, 1, 1, 1, 0, 0])
    assert fpr95(distances, labels, ties="threshold") == 0.75  # 0.05, 0.5, 0.5 accepted
    assert fpr95(distances, labels, ties="optimistic") == 0.25  # only 0.05
    assert fpr95(distances, labels, ties="stable") == 0.75  # tied negatives come first in the file
    assert fpr_at_recall(distances, labels).tied_negatives == 2
    flipped = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    flipped[[0, 5]] = [5, 0]  # the tied positive now comes before both tied negatives
    assert fpr95(distances[flipped], labels[flipped], ties="stable") == pytest.approx(
        reference_fpr95(labels[flipped], distances[flipped], "stable"))
    # positive (old index 5) then negatives at 0.5: at the cut only 0.05 is inside -> 1 / 4
    assert fpr95(distances[flipped], labels[flipped], ties="stable") == 0.25


def test_matches_the_reference_code_on_random_pairs():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2000)
    distances = rng.normal(1.0, 0.5, 2000) - 0.6 * labels
    expected = reference_fpr95(labels, distances, "quicksort")
    for ties in ("threshold", "optimistic", "stable"):
        assert fpr95(distances, labels, ties=ties) == pytest.approx(expected)
    rounded = np.round(distances, 1)  # many ties: the stable rule is the reference with a stable sort
    assert fpr95(rounded, labels, ties="stable") == pytest.approx(reference_fpr95(labels, rounded, "stable"))
    low, high = fpr95(rounded, labels, ties="optimistic"), fpr95(rounded, labels, ties="threshold")
    assert low < fpr95(rounded, labels, ties="stable") < high


@pytest.mark.parametrize("distances, labels, kwargs, message", [
    ([0.1, 0.2], [1, 1], {}, "both matching and non-matching"),
    ([0.1, np.nan], [1, 0], {}, "finite"),
    ([0.1, 0.2], [1, 2], {}, "booleans or 0/1"),
    ([0.1, 0.2], [1], {}, "same length"),
    ([0.1, 0.2], [1, 0], {"ties": "random"}, "ties"),
    ([0.1, 0.2], [1, 0], {"recall": 1.5}, "recall"),
])
def test_bad_inputs_raise(distances, labels, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fpr_at_recall(distances, labels, **kwargs)


def _write_pairs(path, rows):
    path.write_text("".join(" ".join(str(v) for v in row) + "\n" for row in rows))
    return path


def test_read_pairs_file_and_distances(tmp_path):
    path = _write_pairs(tmp_path / "pairs.txt", [(0, 7, 0, 1, 7, 0, 0), (2, 8, 0, 3, 9, 0, 0), (1, 7, 5, 3, 7, 1, 0)])
    pairs = read_pairs_file(path, num_patches=4)
    assert pairs.first.tolist() == [0, 2, 1] and pairs.second.tolist() == [1, 3, 3]
    assert pairs.is_match.tolist() == [True, False, True]
    descriptors = np.array([[0, 0], [3, 4], [1, 1], [1, 2]], np.float32)
    np.testing.assert_allclose(pair_distances(descriptors, pairs), [5.0, 1.0, np.sqrt(8)])
    with pytest.raises(DescriptorError, match="index 3"):
        pair_distances(descriptors[:3], pairs)


@pytest.mark.parametrize("name, text, message", [
    ("a.txt", "0 1 0 1 1 0 0\n0 1 0 1 1 0\n", "line 2 has 6 fields"),
    ("a.txt", "0 1 0 1 1 0 0\n0 1 x 1 1 0 0\n", "line 2 has a non-integer field 'x'"),
    ("a.txt", "", "empty"),
    ("a.txt", "0 1 0 9 1 0 0\n", r"column 3\) must be in 0 \.\. 3"),
    ("m50_3_3_0.txt", "0 1 0 1 1 0 0\n", "must have 3 lines"),
])
def test_malformed_pair_files_name_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TaskFileError, match=message) as error:
        read_pairs_file(path, num_patches=4)
    assert str(path) in str(error.value)


def test_command_writes_json_and_table(tmp_path, capsys):
    descriptors = np.array([[0.0], [0.1], [0.2], [0.3], [0.5], [0.9], [1.0], [2.0], [5.0]], np.float32)
    # pair (0, k) has distance descriptors[k]; the hand case of test_hand_computed_without_ties
    labels = [1, 0, 1, 1, 0, 1, 0, 0]
    rows = [(0, 10, 0, k, 10 if lab else 20 + k, 0, 0) for k, lab in zip([1, 8, 2, 3, 4, 5, 6, 7], labels)]
    rows[1] = (0, 10, 0, 8, 30, 0, 0)  # negative at distance 5.0
    np.save(tmp_path / "d.npy", descriptors)
    pairs = _write_pairs(tmp_path / "m50_8_8_0.txt", rows)
    status = main(["--descriptors", str(tmp_path / "d.npy"), "--pairs", str(pairs), "--out", str(tmp_path / "r.json"),
                   "--name", "toy"])
    assert status == 0
    results = json.loads((tmp_path / "r.json").read_text())
    # positives 0.1 0.2 0.3 0.9, negatives 5.0 0.5 1.0 2.0 -> threshold 0.9, FP = 1 (0.5) -> 25 %
    assert results["fpr_percent"] == 25.0 and results["threshold"] == pytest.approx(0.9)
    assert (results["positives"], results["negatives"], results["descriptor"]) == (4, 4, "toy")
    table = capsys.readouterr().out
    assert "25.00 %" in table and "toy" in table
