"""t-SNE plot of descriptors coloured by label: figure returned, png written, errors named."""

import numpy as np
import pytest

from descriptors.errors import ShapeError
from descriptors.visualization import embed_tsne, plot_tsne


def test_plot_tsne_writes_png_and_separates_clusters(tmp_path):
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 10
    labels = np.repeat([0, 1, 2], 10)
    codes = centres[labels] + rng.normal(scale=0.1, size=(30, 8))
    figure = plot_tsne(codes, labels, tmp_path / "tsne.png", label_names={0: "track a"}, perplexity=5)
    assert (tmp_path / "tsne.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = figure.axes[0]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["track a", "1", "2"]
    points = embed_tsne(codes, perplexity=5)
    spread = [np.linalg.norm(points[labels == k] - points[labels == k].mean(0), axis=1).mean() for k in range(3)]
    gaps = np.linalg.norm(points[labels == 0].mean(0) - points[labels == 1].mean(0))
    assert points.shape == (30, 2) and gaps > 2 * max(spread)


def test_tsne_errors():
    with pytest.raises(ShapeError, match=r"`descriptors` must have shape \(N>=4, D\)"):
        embed_tsne(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match=r"`labels` must have shape \(5,\)"):
        plot_tsne(np.zeros((5, 2)), np.zeros(4))
