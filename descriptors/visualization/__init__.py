"""Plots of descriptors (matplotlib, Agg canvas; never changes the global backend)."""

from descriptors.visualization.tsne import embed_tsne, plot_tsne

__all__ = ["embed_tsne", "plot_tsne"]
