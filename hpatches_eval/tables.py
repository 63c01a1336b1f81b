"""Plain-text tables of a `Results` (what ``python -m hpatches_eval`` and ``... show results.json`` print)."""

from __future__ import annotations

import pandas as pd

LEVEL_NAMES = {"e": "Easy", "h": "Hard", "t": "Tough", "mean": "Mean"}


def _table(frame: pd.DataFrame, title: str, percent: bool = True) -> str:
    shown = frame.rename(index=LEVEL_NAMES) * (100.0 if percent else 1.0)
    body = shown.to_string(float_format=lambda v: f"{v:7.2f}" if percent else f"{v:.4f}")
    width = max(len(line) for line in body.splitlines())
    return f"{title}\n{'-' * max(width, len(title))}\n{body}\n"


def format_results(results) -> str:
    """All tables of ``results`` (values in %, as the official printer) followed by the summary line."""
    params = results.params
    parts = [
        f"HPatches evaluation: descriptor {params.get('descriptor')!r}, split {params.get('split')!r}, "
        f"distance {params.get('distance')}, AP {params.get('ap')}\n"
    ]
    if results.verification_ap is not None:
        parts.append(_table(results.verification_auc, "Verification: balanced ROC-AUC (%)"))
        parts.append(_table(results.verification_ap, "Verification: imbalanced AP (%)"))
    if results.matching is not None:
        by_level = results.matching_by_level.rename(columns={"map": "mAP", "msr": "success rate"})
        parts.append(_table(by_level, "Matching: mean over sequences x images (%)"))
        parts.append(_table(results.matching_by_category, "Matching mAP by sequence type: i = illum, v = view (%)"))
    if results.retrieval is not None:
        parts.append(_table(results.retrieval, "Retrieval: mAP per pool size (%)"))
    summary = results.summary
    cells = [f"{key} {value:.6f}" for key, value in summary.items() if value is not None]
    parts.append("Summary (coursework): " + (", ".join(cells) if cells else "nothing evaluated") + "\n")
    for flag in results.flags:
        parts.append(f"WARNING [{flag.get('code')}]: {flag.get('message')}\n")
    return "\n".join(parts)
