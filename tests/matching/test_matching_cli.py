"""`python -m descriptors.match`: outputs, JSON, no-answer reports, and the one-line error contract.

The bad-input table of this command is `tests/cli_contract/test_bad_inputs_match.py`; here: what a good run
prints and writes.
"""

import json
import os
import stat

import cv2
import numpy as np
import pytest

from descriptors.match import main
from descriptors.matching import corner_error


@pytest.fixture()
def image_files(tmp_path, warped_pair):
    image1, image2, truth = warped_pair
    first, second = tmp_path / "a.png", tmp_path / "b.jpg"
    cv2.imwrite(str(first), cv2.cvtColor(image1, cv2.COLOR_GRAY2BGR))
    cv2.imwrite(str(second), image2, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return first, second, truth


def test_cli_prints_counts_and_writes_png_and_json(image_files, tmp_path, capsys):
    first, second, truth = image_files
    out, report = tmp_path / "out" / "matches.png", tmp_path / "matches.json"
    assert main([str(first), str(second), "--out", str(out), "--json", str(report), "--ratio", "0.9"]) == 0
    printed = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert f"keypoints: {data['keypoints'][0]} / {data['keypoints'][1]}" in printed
    assert f"matches:   {data['matches']}" in printed and f"inliers:   {data['inliers']}" in printed
    assert "homography (image1 -> image2):" in printed and "matched at" not in printed  # 512 px: not downscaled
    assert corner_error(np.array(data["homography"]), truth, (512, 512)) < 3.0
    assert data["reason"] is None and data["inlier_ratio"] == pytest.approx(data["inliers"] / data["matches"])
    assert (data["min_inliers"], data["min_inlier_ratio"], data["max_side"]) == (15, 0.1, 2000)
    assert len(data["matched_points"]) == data["matches"] and data["descriptor"] == "opencv-sift"
    picture = cv2.imread(str(out))
    assert picture.shape == (512, 1024, 3)
    green = (picture[..., 1] > 150) & (picture[..., 0] < 80) & (picture[..., 2] < 80)
    assert green.sum() > 1000
    umask = os.umask(0)
    os.umask(umask)
    for path in (out, report):  # ordinary permissions, as any file the user writes (not mkstemp's 0600)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in out.parent.iterdir()) == ["matches.png"]  # no staging left behind


def test_cli_reports_no_reliable_homography_for_unrelated_images(tmp_path, capsys):
    rng = np.random.default_rng(0)
    paths = []
    for name in ("n1.png", "n2.png"):
        paths.append(str(tmp_path / name))
        cv2.imwrite(paths[-1], cv2.GaussianBlur(rng.integers(0, 256, (384, 384), dtype=np.uint8), (0, 0), 1.5))
    report = tmp_path / "r.json"
    assert main([*paths, "--json", str(report), "--out", str(tmp_path / "m.png")]) == 0
    printed = capsys.readouterr().out
    data = json.loads(report.read_text())
    assert data["homography"] is None and data["matches"] > 300 and data["inliers"] < 15
    reason = (f"no reliable homography: {data['inliers']} inliers of {data['matches']} matches (ratio "
              f"{data['inliers'] / data['matches']:.3f}); needs at least 15 inliers and an inlier ratio of at "
              "least 0.1")
    assert data["reason"] == reason and f"homography: none ({reason})" in printed
    # with the inlier gates off, the chance model is still refused: it is not a plausible view change
    assert main([*paths, "--json", str(report), "--min-inliers", "4", "--min-inlier-ratio", "0"]) == 0
    data = json.loads(report.read_text())
    assert data["homography"] is None and data["reason"].startswith("no reliable homography: the estimate ")


def test_cli_no_keypoints_is_not_an_error(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((64, 64), 90, np.uint8))
    assert main([str(blank), str(blank), "--out", str(tmp_path / "m.png")]) == 0
    assert "homography: none (Too few keypoints: image 1 has 0" in capsys.readouterr().out


def test_cli_large_image_is_matched_downscaled_and_reported_in_original_pixels(image_files, tmp_path, capsys):
    first, second, truth = image_files
    report = tmp_path / "r.json"
    assert main([str(first), str(second), "--max-side", "256", "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "image 1: 512x512, matched at 256x256 (--max-side 256); results in original pixels" in printed
    data = json.loads(report.read_text())
    assert data["max_side"] == 256 and data["image_shapes"] == [[512, 512], [512, 512]]
    assert corner_error(np.array(data["homography"]), truth, (512, 512)) < 3.0
    assert max(max(row[0], row[1]) for row in data["matched_points"]) > 300  # original pixels, not working ones
    assert main([str(first), str(second), "--max-side", "0", "--json", str(report)]) == 0
    assert "matched at" not in capsys.readouterr().out and json.loads(report.read_text())["max_side"] is None


def test_cli_bad_option_is_one_line_exit_2(capsys):
    assert main(["a.png", "b.png", "--max-keypoints", "0"]) == 2
    err = capsys.readouterr().err
    assert err == ("python -m descriptors.match: error: `--max-keypoints` must be an integer >= 1. "
                   "Received: --max-keypoints=0\n")


def test_cli_debug_shows_the_traceback(tmp_path):
    with pytest.raises(Exception, match="Image file not found"):
        main([str(tmp_path / "nope.png"), str(tmp_path / "nope.png"), "--debug"])
