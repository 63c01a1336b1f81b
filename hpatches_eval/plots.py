"""The HPatches-paper figure (Balntas et al., CVPR 2017, Fig. "verification / matching / retrieval mAP").

Three panels side by side: patch verification, image matching, patch retrieval. One horizontal bar per
descriptor (each panel sorted by its own score, best on top, the value written at the bar's end) and markers for
the noise levels (green easy, orange hard, red tough):

* verification: bar = mean of the 6 imbalanced APs; markers: x = negatives from other sequences (``inter``,
  the paper's DIFFSEQ), o = negatives from the same sequence (``intra``, SAMESEQ);
* matching: bar = mean over e/h/t; markers: x = viewpoint sequences (``v_``), o = illumination sequences
  (``i_``) when the data has both, else one o per level;
* retrieval: bar = mean of the 21 (level, pool size) cells; markers: o = mean over the pool sizes per level.

The bar is the summary number of `hpatches_eval.results` (the coursework aggregation; the paper's MATLAB
aggregation differs in the AP and the retrieval pool, see docs). A multi-split results file contributes its
mean over the averaged splits, with the std as an error bar.

matplotlib is imported inside `plot_results` only: ``import hpatches_eval`` stays numpy/pandas-only.
"""

from __future__ import annotations

import os
from pathlib import Path

from hpatches_eval.output_safety import staged_file
from hpatches_eval.patch_types import NOISE_LEVELS

PANELS = (
    ("verification", "Patch Verification mAP [%]", "verif_{level}_{kind}_ap", ("inter", "intra")),
    ("matching", "Image Matching mAP [%]", "match_{level}_{kind}_map", ("v", "i")),
    ("retrieval", "Patch Retrieval mAP [%]", "retr_{level}_map", ()),
)
LEVEL_COLORS = {"e": "#2ca02c", "h": "#ff7f0e", "t": "#d62728"}
LEVEL_LABELS = {"e": "EASY", "h": "HARD", "t": "TOUGH"}
KIND_MARKERS = {"inter": "x", "intra": "o", "v": "x", "i": "o"}
KIND_LABELS = {"inter": "DIFFSEQ", "intra": "SAMESEQ", "v": "VIEWPT", "i": "ILLUM"}
FORMATS = ("png", "pdf", "svg")


def figure_entry(results, label: str) -> dict:
    """What the figure shows of one results object (`Results` or `MultiSplitResults`), as fractions.

    Returns:
        ``{"label", "bars": {task: value or None}, "errors": {task: std or None}, "cells": {key: value},
        "flagged": bool}``.
    """
    from hpatches_eval.multi_split import MultiSplitResults, figure_cells

    if isinstance(results, MultiSplitResults):
        combined = results.shown_combined
        bars, errors = combined["summary"]["mean"], combined["summary"]["std"]
        cells = combined["cells"]["mean"]
    else:
        bars, errors, cells = results.shown_summary, {}, figure_cells(results)
    return {
        "label": label,
        "bars": {task: bars.get(task) for task, _, _, _ in PANELS},
        "errors": {task: errors.get(task) for task, _, _, _ in PANELS},
        "cells": dict(cells),
        "flagged": bool(results.flags),
    }


def _markers(entry: dict, pattern: str, kinds: tuple) -> list[tuple[str, str, float]]:
    """``[(level, kind, value)]`` of the panel's markers present in ``entry`` (kind "" for one per level)."""
    cells = entry["cells"]
    out = []
    for level in NOISE_LEVELS:
        found = [(level, kind, cells[pattern.format(level=level, kind=kind)]) for kind in kinds
                 if cells.get(pattern.format(level=level, kind=kind)) is not None]
        if len(found) == len(kinds) and found:
            out += found
        else:
            key = pattern.replace("_{kind}", "").format(level=level)
            if cells.get(key) is not None:
                out.append((level, "", cells[key]))
    return out


def plot_results(entries: list[dict], out: str | os.PathLike, title: str | None = None) -> Path:
    """Draws the three-panel figure of ``entries`` (`figure_entry`) and writes it to ``out`` atomically.

    The format comes from the suffix of ``out`` (png, pdf, svg). The file is drawn into a hidden staging file
    next to ``out`` and renamed into place: an existing ``out`` is replaced only by a complete figure.

    Raises:
        ValueError: no entries, or an unsupported suffix.
        ImportError: matplotlib is not installed.
    """
    out = Path(out)
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"`out` must end in one of {['.' + f for f in FORMATS]}. Received: out={str(out)!r}")
    if not entries:
        raise ValueError("`entries` must hold at least one descriptor's results.")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    height = 1.6 + 0.45 * len(entries)
    fig, axes = plt.subplots(1, 3, figsize=(15, height), dpi=100)
    try:
        for axis, (task, heading, pattern, kinds) in zip(axes, PANELS):
            shown = [e for e in entries if e["bars"].get(task) is not None]
            shown.sort(key=lambda e: e["bars"][task])
            axis.set_title(heading, fontsize=11)
            axis.set_xlim(0, 100)
            axis.grid(axis="x", color="#dddddd", linewidth=0.6)
            axis.set_axisbelow(True)
            if not shown:
                axis.text(50, 0.5, "no data", ha="center", va="center", color="#888888")
                axis.set_yticks([])
                continue
            ys = range(len(shown))
            values = [100.0 * e["bars"][task] for e in shown]
            errors = [100.0 * e["errors"][task] if e["errors"].get(task) is not None else 0.0 for e in shown]
            axis.barh(list(ys), values, xerr=errors if any(errors) else None, color="#7f9fc9",
                      edgecolor="#4a6a94", height=0.7, error_kw={"ecolor": "#333333", "capsize": 3})
            for y, entry, value in zip(ys, shown, values):
                for level, kind, cell in _markers(entry, pattern, kinds):
                    axis.plot(100.0 * cell, y, linestyle="none", marker=KIND_MARKERS.get(kind, "o"),
                              markersize=7, markerfacecolor="none" if KIND_MARKERS.get(kind, "o") == "o" else None,
                              color=LEVEL_COLORS[level], markeredgewidth=1.6)
                axis.text(101.0, y, f"{value:.2f}", va="center", ha="left", fontsize=8, clip_on=False)
            axis.set_yticks(list(ys))
            axis.set_yticklabels([e["label"] + (" (!)" if e["flagged"] else "") for e in shown], fontsize=9)
            axis.set_ylim(-0.7, len(shown) - 0.3)
        handles = [Line2D([], [], linestyle="none", marker="s", color=LEVEL_COLORS[lv], label=LEVEL_LABELS[lv])
                   for lv in NOISE_LEVELS]
        handles += [Line2D([], [], linestyle="none", marker=KIND_MARKERS[k], color="#444444", markerfacecolor="none",
                           label=KIND_LABELS[k]) for k in ("inter", "intra", "v", "i")]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=9)
        if title:
            fig.suptitle(title, fontsize=12)
        fig.tight_layout(rect=(0, 0.4 / height, 1, 1 - 0.35 / height if title else 1))
        with staged_file(out) as temp:
            fig.savefig(temp, format=suffix)
    finally:
        plt.close(fig)
    return out
