"""`python -m descriptors.match`: outputs, JSON, and clean failures (exit 1 bad input, exit 2 bad options)."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from descriptors.match import main
from descriptors.matching import corner_error

ROOT = Path(__file__).resolve().parents[2]


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
    assert "homography (image1 -> image2):" in printed
    assert corner_error(np.array(data["homography"]), truth, (512, 512)) < 3.0
    assert len(data["matched_points"]) == data["matches"] and data["descriptor"] == "opencv-sift"
    picture = cv2.imread(str(out))
    assert picture.shape == (512, 1024, 3)
    green = (picture[..., 1] > 150) & (picture[..., 0] < 80) & (picture[..., 2] < 80)
    assert green.sum() > 1000


def test_cli_no_homography_is_not_an_error(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((64, 64), 90, np.uint8))
    assert main([str(blank), str(blank), "--out", str(tmp_path / "m.png")]) == 0
    assert "homography: none (Too few keypoints: image 1 has 0" in capsys.readouterr().out


def test_cli_unreadable_and_missing_files_exit_1(image_files, tmp_path, capsys):
    first = image_files[0]
    junk = tmp_path / "junk.png"
    junk.write_text("not a png")
    assert main([str(junk), str(first)]) == 1
    err = capsys.readouterr().err
    assert "descriptors.match: error: Image file" in err and "must be an image OpenCV can decode" in err
    assert main([str(first), str(tmp_path / "nope.png")]) == 1
    assert "Image file not found" in capsys.readouterr().err
    assert main([str(first), str(first), "--descriptor", str(tmp_path / "missing_model")]) == 1
    assert "must be a pipeline folder" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["a.png"], "the following arguments are required: image2"),
    (["a.png", "b.png", "--max-keypoints", "0"], "`max_keypoints` must be a positive integer. Received: max_keypoints=0"),
    (["a.png", "b.png", "--detector", "surf"], "invalid choice: 'surf'"),
    (["a.png", "b.png", "--ratio", "2"], r"`ratio` must be in (0, 1]. Received: ratio=2.0"),
    (["a.png", "b.png", "--max-side", "x"], "invalid int value: 'x'"),
    (["a.png", "b.png", "--threshold", "-1"], "`threshold` must be positive. Received: threshold=-1.0"),
])
def test_cli_bad_options_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "usage: python -m descriptors.match" in err and message in err


def test_cli_options_the_matcher_rejects_exit_2(image_files, capsys):
    first = image_files[0]
    assert main([str(first), str(first), "--max-side", "8"]) == 2
    assert "`max_side` must be None or an integer >= 16. Received: max_side=8" in capsys.readouterr().err
    assert main([str(first), str(first), "--descriptor", "hog"]) == 2
    assert "Received: descriptor='hog'" in capsys.readouterr().err


def test_module_entry_point_fails_without_traceback(tmp_path):
    junk = tmp_path / "junk.ppm"
    junk.write_bytes(b"P6 garbage")
    run = subprocess.run([sys.executable, "-m", "descriptors.match", str(junk), str(junk)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "junk.ppm' must be an image OpenCV can decode" in run.stderr
