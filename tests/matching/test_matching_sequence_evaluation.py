"""Sequence evaluation on sequences the test makes: MMA, correct matches, homography accuracy, JSON, plot."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from descriptors.data.sequences import ImageSequence, write_image_sequence
from descriptors.errors import ConfigError
from descriptors.matching import ImageMatcher, evaluate_sequences, plot_mma, summarize, write_evaluation
from descriptors.matching.describers import OpenCVSiftDescriber


class ShuffledSift(OpenCVSiftDescriber):
    """Control: SIFT descriptors given to the wrong keypoints."""

    name = "shuffled"

    def describe(self, gray, keypoints, pyramid=None):
        out = super().describe(gray, keypoints, pyramid)
        return out[np.random.default_rng(0).permutation(len(out))]


def _sequences(base):
    height, width = base.shape
    rng = np.random.default_rng(1)
    homographies = []
    for k in range(5):
        h = np.eye(3)
        h[:2, :2] += rng.uniform(-0.08, 0.08, (2, 2))
        h[:2, 2] = rng.uniform(-20, 20, 2)
        h[2, :2] = rng.uniform(-1e-4, 1e-4, 2)
        homographies.append(h)
    viewpoint = [base] + [cv2.warpPerspective(base, h, (width, height)) for h in homographies]
    light = [np.clip(base * g, 0, 255).astype(np.uint8) for g in (1.0, 0.8, 0.6, 1.2, 0.9, 0.7)]
    return [ImageSequence("v_made", viewpoint, homographies), ImageSequence("i_made", light, [np.eye(3)] * 5)]


@pytest.fixture(scope="module")
def pair_table(astronaut_gray):
    small = cv2.resize(astronaut_gray, (320, 320), interpolation=cv2.INTER_AREA)
    matchers = {"sift": ImageMatcher("sift", max_keypoints=500),
                "shuffled": ImageMatcher(ShuffledSift(), max_keypoints=500)}
    return evaluate_sequences(_sequences(small), matchers, progress=False)


def test_pair_table_rows_and_metrics(pair_table):
    assert len(pair_table) == 2 * 2 * 5
    assert pair_table.groupby(["method", "kind"]).size().tolist() == [5, 5, 5, 5]
    assert pair_table["pair"].tolist()[:5] == ["1-2", "1-3", "1-4", "1-5", "1-6"]
    mma = pair_table[[f"mma@{t}" for t in range(1, 11)]].to_numpy()
    correct = pair_table[[f"correct@{t}" for t in range(1, 11)]].to_numpy()
    assert np.all(np.diff(mma, axis=1) >= 0) and np.all(np.diff(correct, axis=1) >= 0)
    np.testing.assert_allclose(mma, correct / np.maximum(pair_table[["matches"]].to_numpy(), 1))
    sift = pair_table[pair_table["method"] == "sift"]
    assert sift["mma@3"].min() > 0.8 and sift["corner_error"].max() < 3.0


def test_summaries_against_the_pair_table(pair_table):
    per_kind = summarize(pair_table, "kind")
    assert list(per_kind.index) == [("sift", "i"), ("sift", "v"), ("shuffled", "i"), ("shuffled", "v")]
    v_rows = pair_table[(pair_table["method"] == "sift") & (pair_table["kind"] == "v")]
    assert per_kind.loc[("sift", "v"), "mma@3"] == pytest.approx(v_rows["mma@3"].mean())
    assert per_kind.loc[("sift", "v"), "hacc@3"] == pytest.approx((v_rows["corner_error"] <= 3).mean())
    assert per_kind.loc[("sift", "i"), "hacc@1"] == 1.0 and per_kind.loc[("sift", "v"), "pairs"] == 5
    overall = summarize(pair_table, None)
    assert overall.loc["sift", "mma@3"] > overall.loc["shuffled", "mma@3"] + 0.7
    assert overall.loc["shuffled", "hacc@5"] < 0.5
    assert len(summarize(pair_table, "sequence")) == 4
    with pytest.raises(ConfigError, match="`by` must be None, 'kind' or 'sequence'. Received: by='pair'"):
        summarize(pair_table, "pair")


def test_json_and_plot(pair_table, tmp_path):
    path = write_evaluation(pair_table, tmp_path / "eval.json", extra={"command": "test"})
    data = json.loads(path.read_text())
    assert data["command"] == "test" and data["thresholds"] == list(range(1, 11))
    assert len(data["pairs"]) == 20 and {r["kind"] for r in data["per_kind"]} == {"i", "v"}
    infinite = np.isinf(pair_table["corner_error"]).sum()
    assert sum(r["corner_error"] is None for r in data["pairs"]) == infinite
    figure = plot_mma(pair_table)
    assert [a.get_title() for a in figure.axes] == ["all pairs", "illumination (i_*)", "viewpoint (v_*)"]
    assert len(figure.axes[0].lines) == 2
    np.testing.assert_allclose(figure.axes[2].lines[0].get_ydata(),
                               pair_table[(pair_table["method"] == "sift") & (pair_table["kind"] == "v")]
                               [[f"mma@{t}" for t in range(1, 11)]].mean().to_numpy())


def test_reads_sequence_folders_from_disk(tmp_path, astronaut_gray):
    small = cv2.resize(astronaut_gray, (160, 160), interpolation=cv2.INTER_AREA)
    for sequence in _sequences(small):
        write_image_sequence(tmp_path, sequence, ext=".png")
    table = evaluate_sequences(tmp_path, ImageMatcher("sift", max_keypoints=200), progress=False)
    assert isinstance(table, pd.DataFrame) and sorted(table["sequence"].unique()) == ["i_made", "v_made"]
    assert table["method"].unique().tolist() == ["opencv-sift"]
    with pytest.raises(ConfigError, match="`matchers` must have distinct names"):
        evaluate_sequences(tmp_path, [ImageMatcher("sift"), ImageMatcher("sift")], progress=False)
    with pytest.raises(FileNotFoundError, match="Sequences folder not found"):
        evaluate_sequences(tmp_path / "nothing", ImageMatcher("sift"), progress=False)
