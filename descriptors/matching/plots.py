"""Notebook plots of a sequence evaluation (matplotlib, an optional dependency: ``pip install matplotlib``)."""

from __future__ import annotations

import pandas as pd

from descriptors.matching.sequence_evaluation import thresholds_of

TITLES = {"all": "all pairs", "i": "illumination (i_*)", "v": "viewpoint (v_*)"}


def plot_mma(pairs: pd.DataFrame, panels=("all", "i", "v")):
    """Mean matching accuracy against the pixel threshold, one curve per method, one panel per pair kind.

    Args:
        pairs: the table of `evaluate_sequences`.
        panels: which of ``"all"``, ``"i"``, ``"v"`` to draw; kinds without pairs are skipped.

    Returns:
        A ``matplotlib.figure.Figure`` (not attached to pyplot; Jupyter displays it, ``fig.savefig`` saves it).

    Raises:
        ImportError: matplotlib is not installed.
    """
    from matplotlib.figure import Figure

    thresholds = thresholds_of(pairs)
    columns = [f"mma@{t}" for t in thresholds]
    chosen = [p for p in panels if p == "all" or (pairs["kind"] == p).any()]
    figure = Figure(figsize=(4.2 * max(len(chosen), 1), 3.6), layout="constrained")
    axes = figure.subplots(1, max(len(chosen), 1), squeeze=False)[0]
    for axis, panel in zip(axes, chosen):
        subset = pairs if panel == "all" else pairs[pairs["kind"] == panel]
        for method, rows in subset.groupby("method", sort=False):
            axis.plot(thresholds, rows[columns].mean().to_numpy(), marker="o", markersize=3,
                      label=f"{method} ({rows['matches'].mean():.0f} matches)")
        axis.set(title=TITLES.get(panel, panel), xlabel="threshold (px)", ylabel="MMA", ylim=(0, 1),
                 xlim=(min(thresholds), max(thresholds)))
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small", loc="lower right")
    return figure
