"""t-SNE view of embeddings (scikit-learn TSNE, a matplotlib figure without pyplot, optionally saved as PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from descriptors.errors import ShapeError


def tsne_figure(embeddings, labels, path=None, seed: int = 0, perplexity: float = 30.0, class_names=None,
                title: str = "t-SNE of the embeddings", max_iter: int = 1000):
    """2-D t-SNE scatter of the embeddings coloured by label.

    Args:
        embeddings: (N, D) float.
        labels: (N,) int class labels.
        path: when given, the figure is written there as PNG (temp file + rename).
        seed: `random_state` of the TSNE. Defaults to 0.
        perplexity: TSNE perplexity, lowered to (N - 1) / 3 for small N. Defaults to 30.
        class_names: optional names of the labels for the legend.
        title: figure title.
        max_iter: TSNE iterations (at least 250). Defaults to 1000.

    Returns:
        the `matplotlib.figure.Figure`.

    Raises:
        ShapeError: embeddings not (N, D) with N >= 4, or labels not (N,).

    Shape:
        embeddings (N, D), labels (N,).
    """
    from matplotlib.figure import Figure
    from sklearn.manifold import TSNE

    embeddings, labels = np.asarray(embeddings, dtype=np.float64), np.asarray(labels)
    if embeddings.ndim != 2 or len(embeddings) < 4 or labels.shape != (len(embeddings),):
        raise ShapeError(
            f"`embeddings` must be (N, D) with N >= 4 and labels (N,). Received: {embeddings.shape}, {labels.shape}"
        )
    perplexity = min(float(perplexity), (len(embeddings) - 1) / 3.0)
    points = TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca",
                  max_iter=max_iter).fit_transform(embeddings)
    figure = Figure(figsize=(6, 6))
    axes = figure.add_subplot()
    for index, label in enumerate(np.unique(labels)):
        rows = labels == label
        name = class_names[int(label)] if class_names is not None else str(label)
        axes.scatter(points[rows, 0], points[rows, 1], s=6, color=f"C{index % 10}", label=name)
    axes.set_title(title)
    axes.set_xticks([])
    axes.set_yticks([])
    if len(np.unique(labels)) <= 20:
        axes.legend(markerscale=2, fontsize=7, loc="best")
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.stem}.tmp.png")
        figure.savefig(temp, dpi=100, format="png")
        os.replace(temp, path)
    return figure
