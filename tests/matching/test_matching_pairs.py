"""Pairs and batches: CSV pair lists, 2..6-image sequences in the evaluation, `python -m descriptors.match --pairs`.

The bad-input table of ``--pairs`` is in `tests/cli_contract/test_bad_inputs_match.py`; here: the values a good
batch writes (a synthetic warped pair with a known homography) and bad pairs reported without stopping the batch.
"""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from descriptors.data.sequences import ImageSequence, write_image_sequence
from descriptors.errors import DataFormatError
from descriptors.match import main
from descriptors.matching import ImageMatcher, corner_error, evaluate_sequences
from descriptors.matching.pair_lists import pairs_from_sequences, read_pair_list
from hpatches_eval.output_safety import read_marker


@pytest.fixture()
def pair_files(tmp_path, warped_pair):
    """``list.csv`` in ``tmp/lists`` naming images in ``tmp/img`` by relative paths, with good and bad rows."""
    image1, image2, truth = warped_pair
    images, lists = tmp_path / "img", tmp_path / "lists"
    images.mkdir()
    lists.mkdir()
    cv2.imwrite(str(images / "a.png"), image1)
    cv2.imwrite(str(images / "b.png"), image2)
    np.savetxt(images / "H_a_b", truth)
    np.savetxt(images / "H_b_a", np.linalg.inv(truth))
    np.savetxt(images / "H_wrong", np.eye(3))
    (images / "H_bad").write_text("1 0 0\n0 1 0\n")
    (lists / "list.csv").write_text(
        "image1,image2,homography,name\n"
        "../img/a.png,../img/b.png,../img/H_a_b,forward\n"
        "../img/b.png,../img/a.png,../img/H_b_a,backward\n"
        "../img/a.png,../img/b.png,../img/H_wrong,wrong-truth\n"
        "\n"
        "../img/a.png,../img/missing.png,../img/H_a_b,missing-image\n"
        "../img/a.png,../img/b.png,../img/H_bad,bad-h\n")
    return lists / "list.csv", truth


def test_pairs_cli_writes_true_values_and_reports_bad_pairs(pair_files, tmp_path, capsys):
    listing, truth = pair_files
    out = tmp_path / "results"
    assert main(["--pairs", str(listing), "--out", str(out), "--max-keypoints", "800"]) == 0
    assert "pairs: 5, evaluated 3, bad 2" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [".patch-descriptors.json", "pairs.csv", "summary.json"]
    assert read_marker(out)["kind"] == "match-results"
    table = pd.read_csv(out / "pairs.csv", keep_default_na=False, na_values=[""])
    assert table["name"].tolist() == ["forward", "backward", "wrong-truth", "missing-image", "bad-h"]
    assert table["line"].tolist() == [2, 3, 4, 6, 7]  # CSV line numbers, the blank line skipped
    assert table["status"].tolist() == ["ok", "ok", "ok", "error", "error"]
    good = table.iloc[:2]
    # the images are an exact warp: nearly every match is correct within a few px and H is recovered to < 1.5 px
    assert good["mma@3"].min() > 0.85 and good["mma@10"].min() > 0.9 and good["corner_error"].max() < 1.5
    assert good["homography_found"].tolist() == [True, True] and good["reason"].isna().all()
    mma = good[[f"mma@{t}" for t in range(1, 11)]].to_numpy()
    correct = good[[f"correct@{t}" for t in range(1, 11)]].to_numpy()
    assert np.all(np.diff(mma, axis=1) >= 0)
    np.testing.assert_allclose(mma, correct / good[["matches"]].to_numpy(), rtol=1e-5)
    assert (good["inliers"] <= good["matches"]).all() and (good["matches"] > 100).all()
    estimate = np.array([float(v) for v in good["homography"].iloc[0].split()]).reshape(3, 3)
    assert corner_error(estimate, truth, (512, 512)) == pytest.approx(good["corner_error"].iloc[0], rel=1e-4)
    backward = np.array([float(v) for v in good["homography"].iloc[1].split()]).reshape(3, 3)
    assert corner_error(backward, np.linalg.inv(truth), (512, 512)) < 1.5  # direction image1 -> image2 kept
    wrong = table.iloc[2]  # same images, identity as "truth": the metrics must follow the H file
    assert wrong["mma@3"] < 0.1 and wrong["corner_error"] > 20 and wrong["homography_found"]
    assert table["reason"].iloc[3].startswith("Image file not found: ") and "missing.png" in table["reason"].iloc[3]
    assert "H_bad must hold a 3x3 matrix" in table["reason"].iloc[4]
    assert table["homography_found"].iloc[3:].tolist() == [False, False] and table["mma@3"].iloc[3:].isna().all()
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["pairs"], summary["evaluated"], summary["bad_pairs"], summary["with_homography"]) == (5, 3, 2, 3)
    assert summary["mean"]["mma@3"] == pytest.approx(table["mma@3"].iloc[:3].mean(), rel=1e-5)
    assert summary["hacc"] == {"hacc@1": pytest.approx(2 / 3), "hacc@3": pytest.approx(2 / 3),
                               "hacc@5": pytest.approx(2 / 3)}
    assert [(b["line"], b["name"]) for b in summary["bad"]] == [(6, "missing-image"), (7, "bad-h")]
    assert summary["descriptor"] == "opencv-sift" and summary["max_keypoints"] == 800


def test_pairs_cli_fails_when_no_pair_is_usable_but_writes_the_reasons(tmp_path, capsys):
    listing = tmp_path / "list.csv"
    listing.write_text("image1,image2,homography\nx.png,y.png,H\nx.png,,H\n")
    out = tmp_path / "results"
    assert main(["--pairs", str(listing), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("python -m descriptors.match: error: none of the 2 pairs could be "
                                               "evaluated (first, line 2: Homography file not found")
    table = pd.read_csv(out / "pairs.csv")
    assert table["status"].tolist() == ["error", "error"]
    assert table["reason"].iloc[1] == "line 3 has an empty image2 cell"
    # a second run needs --overwrite, and replaces the folder with it
    assert main(["--pairs", str(listing), "--out", str(out)]) == 2
    assert main(["--pairs", str(listing), "--out", str(out), "--overwrite"]) == 1


def test_read_pair_list_paths_names_and_bad_rows(tmp_path):
    (tmp_path / "sub").mkdir()
    listing = tmp_path / "sub" / "pairs.csv"
    listing.write_bytes("\ufeffhomography , image2,image1,extra\nH,b.png,/abs/a.png,x\nH2,c.png\n".encode())
    first, second = read_pair_list(listing)
    assert first.image1.as_posix() == "/abs/a.png" and first.image2 == tmp_path / "sub" / "b.png"
    assert first.homography == tmp_path / "sub" / "H" and first.name == "pair-1" and not first.problem
    assert first.text == ("/abs/a.png", "b.png", "H") and first.row == 2 and first.kind == "-"
    assert second.problem == "line 3 has 2 fields; the header has 4" and second.name == "pair-2"
    listing.write_text("image1,image2\na,b\n")
    with pytest.raises(DataFormatError, match="Missing: homography"):
        read_pair_list(listing)


def test_evaluation_accepts_pairs_and_short_sequences(tmp_path, astronaut_gray):
    base = cv2.resize(astronaut_gray, (320, 320), interpolation=cv2.INTER_AREA)
    h2 = np.array([[1.02, 0.05, -6.0], [-0.04, 0.98, 9.0], [5e-5, 0.0, 1.0]])
    h3 = np.array([[0.95, -0.03, 12.0], [0.06, 1.01, -4.0], [0.0, -6e-5, 1.0]])
    warp = [cv2.warpPerspective(base, h, (320, 320)) for h in (h2, h3)]
    root = tmp_path / "seqs"
    write_image_sequence(root, ImageSequence("v_pair", [base, warp[0]], [h2]), ext=".png")
    write_image_sequence(root, ImageSequence("v_three", [base, *warp], [h2, h3]), ext=".png")
    assert [(p.name, p.pair) for p in pairs_from_sequences(root)] == [("v_pair", "1-2"), ("v_three", "1-2"),
                                                                      ("v_three", "1-3")]
    matcher = ImageMatcher("sift", max_keypoints=400)
    table = evaluate_sequences(root, {"sift": matcher}, progress=False)
    assert list(zip(table["sequence"], table["pair"])) == [("v_pair", "1-2"), ("v_three", "1-2"), ("v_three", "1-3")]
    assert table["mma@3"].min() > 0.8 and table["corner_error"].max() < 2.0
    listing = tmp_path / "pairs.csv"
    listing.write_text("image1,image2,homography,name\nseqs/v_three/1.png,seqs/v_three/3.png,seqs/v_three/H_1_3,"
                       "v_csv\n")
    from_list = evaluate_sequences(listing, {"sift": matcher}, progress=False)
    assert from_list[["sequence", "kind", "pair"]].values.tolist() == [["v_csv", "v", "1-2"]]
    np.testing.assert_allclose(from_list["mma@3"].iloc[0], table["mma@3"].iloc[2])
    listing.write_text("image1,image2,homography\nseqs/v_three/1.png,seqs/nope.png,seqs/v_three/H_1_3\n")
    with pytest.raises(FileNotFoundError, match="nope.png"):
        evaluate_sequences(listing, {"sift": matcher}, progress=False)
