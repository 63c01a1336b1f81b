"""t-SNE maps of descriptors coloured by patch track or sequence (scikit-learn + matplotlib Agg)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from descriptors.errors import ShapeError


def embed_tsne(descriptors, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """2-D t-SNE coordinates of descriptors (`sklearn.manifold.TSNE`, PCA init, fixed ``seed``).

    The perplexity is lowered to ``(N - 1) / 3`` for small N (scikit-learn needs perplexity < N).

    Raises:
        ShapeError: ``descriptors`` is not (N, D) with N >= 4.

    Shape:
        (N, D) -> float32 (N, 2).
    """
    from sklearn.manifold import TSNE

    descriptors = np.asarray(descriptors, np.float32)
    if descriptors.ndim != 2 or len(descriptors) < 4:
        raise ShapeError(f"`descriptors` must have shape (N>=4, D). Received: descriptors.shape={descriptors.shape}")
    perplexity = min(float(perplexity), (len(descriptors) - 1) / 3.0)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(descriptors).astype(np.float32)


def plot_tsne(descriptors, labels, out_png=None, label_names=None, title=None, perplexity: float = 30.0,
              seed: int = 0, point_size: float = 12.0):
    """Scatter plot of the t-SNE map, one colour per label (track id or sequence index); saves a png if asked.

    Args:
        descriptors: (N, D) descriptors.
        labels: (N,) integer label of each point (e.g. its track or its sequence).
        out_png: when given, the figure is written there (temp file + rename).
        label_names: optional names for the legend (label value -> name), shown for up to 20 labels.
        title: figure title.
        perplexity, seed: see `embed_tsne`.
        point_size: marker size.

    Returns:
        the `matplotlib.figure.Figure` (on an Agg canvas).

    Raises:
        ShapeError: ``labels`` is not (N,).
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != np.shape(descriptors)[0]:
        raise ShapeError(f"`labels` must have shape ({np.shape(descriptors)[0]},). Received: labels.shape={labels.shape}")
    points = embed_tsne(descriptors, perplexity, seed)
    figure = Figure(figsize=(6, 6))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    values = np.unique(labels)
    cmap = matplotlib.colormaps["tab20" if len(values) <= 20 else "turbo"]
    for index, value in enumerate(values):
        sel = labels == value
        name = label_names.get(value, str(value)) if isinstance(label_names, dict) else str(value)
        axes.scatter(points[sel, 0], points[sel, 1], s=point_size, color=cmap(index / max(len(values) - 1, 1)),
                     label=name)
    if len(values) <= 20:
        axes.legend(fontsize="small", markerscale=1.5, loc="best")
    axes.set_xticks([])
    axes.set_yticks([])
    axes.set_title(title or f"t-SNE of {len(points)} descriptors, {len(values)} labels")
    if out_png is not None:
        out_png = Path(out_png)
        out_png.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_png.with_name(f".tmp-{os.getpid()}-{out_png.name}")
        figure.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, out_png)
    return figure
