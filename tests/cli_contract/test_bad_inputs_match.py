"""Bad inputs of `python -m descriptors.match`: found before any work (exit 2), one line on stderr, nothing written
(see bad_input_harness)."""

import zipfile

import cv2
import numpy as np
import pytest
from bad_input_harness import BadInput

M = "descriptors.match"


def images(in_dir):
    """Two small decodable images ``{in}/a.png`` and ``{in}/b.png``."""
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(in_dir / name), rng.integers(0, 256, (48, 64), dtype=np.uint8))


def _with(*steps):
    def setup(in_dir):
        images(in_dir)
        for step in steps:
            step(in_dir)
    return setup


def _file(name, data):
    return lambda in_dir: (in_dir / name).write_bytes(data)


def _folder(name):
    return lambda in_dir: (in_dir / name).mkdir()


def _zip_not_keras(in_dir):
    with zipfile.ZipFile(in_dir / "zip.keras", "w") as archive:
        archive.writestr("config.json", '{"class_name": "Nothing", "config": {}}')
        archive.writestr("metadata.json", "{}")


def _tiny(in_dir):
    cv2.imwrite(str(in_dir / "tiny.png"), np.full((1, 1), 7, np.uint8))


AB = ["{in}/a.png", "{in}/b.png"]
CASES = [
    # images
    BadInput("missing-image", M, ["{in}/nope.png", "{in}/b.png"], 2, r"`image1`: Image file not found: .*nope\.png",
             setup=images, subprocess=True),
    BadInput("not-an-image", M, ["{in}/a.png", "{in}/text.png"], 2,
             r"`image2`: Image file .*text\.png' must be an image OpenCV can decode",
             setup=_with(_file("text.png", b"this is not a png\n"))),
    BadInput("empty-file", M, ["{in}/empty.jpg", "{in}/b.png"], 2, r"empty\.jpg' must be an image .*Received: 0 bytes",
             setup=_with(_file("empty.jpg", b""))),
    BadInput("truncated-png", M, ["{in}/a.png", "{in}/cut.png"], 2, r"cut\.png' must be an image OpenCV can decode",
             setup=_with(_file("cut.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")), subprocess=True),
    BadInput("tiny-image", M, ["{in}/tiny.png", "{in}/b.png"], 2,
             r"`image1` must be at least 16x16 pixels. Received: .*tiny\.png' of 1x1", setup=_with(_tiny)),
    BadInput("folder-as-image", M, ["{in}/a.png", "{in}/dir"], 2, r"`image2`: Image file .*dir' is a folder",
             setup=_with(_folder("dir"))),
    BadInput("missing-second-argument", M, ["{in}/a.png"], 2, r"arguments are required: image2", setup=images),
    # options
    BadInput("max-keypoints-negative", M, [*AB, "--max-keypoints", "-5"], 2,
             r"`--max-keypoints` must be an integer >= 1. Received: --max-keypoints=-5", setup=images),
    BadInput("max-keypoints-zero", M, [*AB, "--max-keypoints", "0"], 2, r"--max-keypoints=0", setup=images),
    BadInput("max-side-too-small", M, [*AB, "--max-side", "8"], 2,
             r"`--max-side` must be 0 \(no limit\) or an integer >= 16. Received: --max-side=8", setup=images),
    BadInput("max-side-negative", M, [*AB, "--max-side", "-1"], 2, r"--max-side=-1", setup=images),
    BadInput("max-side-not-int", M, [*AB, "--max-side", "2k"], 2, r"invalid int value: '2k'", setup=images),
    BadInput("threshold-nan", M, [*AB, "--threshold", "nan"], 2,
             r"`--threshold` must be a positive finite number of pixels. Received: --threshold=nan", setup=images),
    BadInput("threshold-zero", M, [*AB, "--threshold", "0"], 2, r"--threshold=0.0", setup=images),
    BadInput("threshold-inf", M, [*AB, "--threshold", "inf"], 2, r"--threshold=inf", setup=images),
    BadInput("ratio-above-one", M, [*AB, "--ratio", "1.5"], 2,
             r"`--ratio` must be a number in \(0, 1\]. Received: --ratio=1.5", setup=images),
    BadInput("ratio-nan", M, [*AB, "--ratio", "nan"], 2, r"--ratio=nan", setup=images),
    BadInput("min-inliers-negative", M, [*AB, "--min-inliers", "-3"], 2,
             r"`--min-inliers` must be an integer >= 0. Received: --min-inliers=-3", setup=images),
    BadInput("min-inlier-ratio-above-one", M, [*AB, "--min-inlier-ratio", "2"], 2,
             r"`--min-inlier-ratio` must be a number in \[0, 1\]. Received: --min-inlier-ratio=2.0", setup=images),
    BadInput("min-inlier-ratio-nan", M, [*AB, "--min-inlier-ratio", "nan"], 2, r"--min-inlier-ratio=nan",
             setup=images),
    BadInput("draw-max-side-too-small", M, [*AB, "--draw-max-side", "4"], 2, r"`--draw-max-side` must be .*>= 16",
             setup=images),
    BadInput("unknown-detector", M, [*AB, "--detector", "surf"], 2, r"invalid choice: 'surf'", setup=images),
    BadInput("unknown-option", M, [*AB, "--keypoints", "5"], 2, r"unrecognized arguments: --keypoints 5",
             setup=images),
    BadInput("opencv-sift-with-orb", M, [*AB, "--detector", "orb"], 2,
             r"`--descriptor sift` \(OpenCV SIFT\) needs `--detector sift`", setup=images),
    # outputs (checked before any work)
    BadInput("out-onto-folder", M, [*AB, "--out", "{work}/pics.png"], 2, r"`--out` must be a file path, but .* is an "
             "existing folder", setup=_with(lambda in_dir: (in_dir.parent / "work" / "pics.png").mkdir())),
    BadInput("out-parent-is-file", M, [*AB, "--out", "{in}/notes.txt/m.png"], 2,
             r"`--out` cannot be created: .*notes\.txt' is a file, not a folder",
             setup=_with(_file("notes.txt", b"notes\n"))),
    BadInput("out-inside-input-image", M, [*AB, "--out", "{in}/a.png/m.png"], 2, r"`--out` lies inside the input",
             setup=images),
    BadInput("out-is-input-image", M, [*AB, "--out", "{in}/b.png"], 2, r"`--out` is the input .*b\.png",
             setup=images),
    BadInput("json-is-input-image", M, [*AB, "--json", "{in}/a.png"], 2, r"`--json` is the input .*a\.png",
             setup=images),
    BadInput("json-equals-out", M, [*AB, "--out", "{work}/m.png", "--json", "{work}/m.png"], 2,
             r"`--out` and `--json` must be different files", setup=images),
    BadInput("out-not-png", M, [*AB, "--out", "{work}/m.jpg"], 2, r"`--out` must be a \.png file. Received: ",
             setup=images),
    BadInput("json-onto-folder", M, [*AB, "--json", "{in}"], 2, r"`--json` must be a file path", setup=images),
    # descriptors
    BadInput("descriptor-missing-path", M, [*AB, "--descriptor", "{in}/nowhere/model"], 2,
             r"`--descriptor` .*nowhere/model' could not be loaded as a pipeline folder or a \.keras descriptor file",
             setup=images),
    BadInput("descriptor-garbage-keras", M, [*AB, "--descriptor", "{in}/junk.keras"], 2,
             r"`--descriptor` .*junk\.keras' could not be loaded as a \.keras descriptor file: it is not a zip archive",
             setup=_with(_file("junk.keras", b"PK\x03\x04 definitely not a keras archive"))),
    BadInput("descriptor-zip-but-not-a-model", M, [*AB, "--descriptor", "{in}/zip.keras"], 2,
             r"`--descriptor` .*zip\.keras' could not be loaded as a pipeline folder or a \.keras descriptor file: ",
             setup=_with(_zip_not_keras)),
    BadInput("descriptor-folder-without-pipeline", M, [*AB, "--descriptor", "{in}/empty_model"], 2,
             r"`--descriptor` .*empty_model' could not be loaded", setup=_with(_folder("empty_model"))),
    BadInput("descriptor-unknown-name", M, [*AB, "--descriptor", "hog"], 2,
             r"`descriptor` must be one of .*Received: descriptor='hog'", setup=images),
    BadInput("out-is-descriptor-file", M, [*AB, "--descriptor", "{in}/junk.keras", "--json", "{in}/junk.keras"], 2,
             r"`--json` is the input .*junk\.keras", setup=_with(_file("junk.keras", b"PK\x03\x04"))),
]


# --pairs LIST --out DIR: the list and the output folder are checked before any model is loaded
HEADER = b"image1,image2,homography\n"


def _pairs(data=HEADER + b"a.png,b.png,H\n", name="list.csv"):
    def setup(in_dir):
        images(in_dir)
        (in_dir / "H").write_text("1 0 0\n0 1 0\n0 0 1\n")
        (in_dir / name).write_bytes(data)
    return setup


def _results_folder(kind):
    def setup(in_dir):
        _pairs()(in_dir)
        folder = in_dir.parent / "work" / "res"
        folder.mkdir()
        (folder / "pairs.csv").write_text("old\n")
        if kind is not None:
            (folder / ".patch-descriptors.json").write_text('{"kind": "%s"}' % kind)
    return setup


LIST, RES = "{in}/list.csv", "{work}/res"
CASES += [
    BadInput("pairs-list-missing", M, ["--pairs", "{in}/nope.csv", "--out", RES], 2,
             r"`--pairs` pair list not found: .*nope\.csv' \(expected a CSV file with the header "
             r"image1,image2,homography\)", setup=images, subprocess=True),
    BadInput("pairs-list-empty", M, ["--pairs", LIST, "--out", RES], 2,
             r"`--pairs` pair list .*list\.csv' is empty; it must start with the header line", setup=_pairs(b"")),
    BadInput("pairs-list-missing-column", M, ["--pairs", LIST, "--out", RES], 2,
             r"must have a header line with the columns image1, image2, homography .*Missing: homography",
             setup=_pairs(b"image1,image2\na.png,b.png\n")),
    BadInput("pairs-list-headerless", M, ["--pairs", LIST, "--out", RES], 2,
             r"Missing: image1, image2, homography; first line: 'a.png,b.png,H'", setup=_pairs(b"a.png,b.png,H\n")),
    BadInput("pairs-list-repeated-column", M, ["--pairs", LIST, "--out", RES], 2,
             r"must name each column once. Repeated: image2",
             setup=_pairs(b"image1,image2,homography,image2\na,b,H,c\n")),
    BadInput("pairs-list-only-header", M, ["--pairs", LIST, "--out", RES], 2, r"holds no pair: only the header line",
             setup=_pairs(HEADER + b"\n\n")),
    BadInput("pairs-list-binary", M, ["--pairs", "{in}/a.png", "--out", RES], 2,
             r"`--pairs` pair list .*a\.png' must be UTF-8 text \(a CSV file\)", setup=images),
    BadInput("pairs-folder-without-sequences", M, ["--pairs", "{in}/empty", "--out", RES], 2,
             r"must hold sequence folders", setup=_with(_folder("empty"))),
    BadInput("pairs-without-out", M, ["--pairs", LIST], 2, r"`--pairs` needs `--out DIR`", setup=_pairs()),
    BadInput("pairs-and-images", M, [*AB, "--pairs", LIST, "--out", RES], 2,
             r"give either IMG1 IMG2 or `--pairs LIST`, not both", setup=_pairs()),
    BadInput("pairs-with-json", M, ["--pairs", LIST, "--out", RES, "--json", "{work}/s.json"], 2,
             r"`--json` is not used with `--pairs`", setup=_pairs()),
    BadInput("pairs-out-is-file", M, ["--pairs", LIST, "--out", "{in}/H"], 2,
             r"`--out` must be a folder, but .*H' is an existing file", setup=_pairs()),
    BadInput("pairs-out-holds-input", M, ["--pairs", LIST, "--out", "{in}"], 2, r"`--out` (is|contains) the input",
             setup=_pairs()),
    BadInput("pairs-out-not-ours", M, ["--pairs", LIST, "--out", RES], 2,
             r"already exists and was not written by this tool", setup=_results_folder(None)),
    BadInput("pairs-out-other-kind", M, ["--pairs", LIST, "--out", RES, "--overwrite"], 2,
             r"holds a dataset, not a match-results; refusing to replace it", setup=_results_folder("dataset")),
    BadInput("pairs-out-exists-no-overwrite", M, ["--pairs", LIST, "--out", RES], 2,
             r"already holds a match-results: pass --overwrite", setup=_results_folder("match-results")),
    BadInput("pairs-bad-option", M, ["--pairs", LIST, "--out", RES, "--max-keypoints", "0"], 2,
             r"`--max-keypoints` must be an integer >= 1", setup=_pairs()),
    BadInput("pairs-bad-descriptor", M, ["--pairs", LIST, "--out", RES, "--descriptor", "{in}/junk.keras"], 2,
             r"junk\.keras' could not be loaded as a \.keras descriptor file: it is not a zip archive",
             setup=_with(_pairs(), _file("junk.keras", b"PK\x03\x04 no"))),
    BadInput("overwrite-without-pairs", M, [*AB, "--overwrite"], 2,
             r"`--overwrite` only applies with `--pairs`", setup=images),
    BadInput("no-arguments", M, [], 2, r"arguments are required: image1, image2 \(or --pairs LIST\.csv --out DIR\)"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input(case, check_bad_input):
    check_bad_input(case)
