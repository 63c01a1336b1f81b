"""Plain-text tables of a `Results` (what ``python -m hpatches_eval`` and ``... show results.json`` print).

Numbers are never printed bare: a table that a flag concerns carries a ``! flagged: <codes>`` line, the summary
line ends with ``[FLAGGED: <codes>]`` when there is any flag, and every flag follows as a ``WARNING [code]:``
line. The summary line shows `Results.shown_summary`: for a loaded file, the numbers the file holds.
"""

from __future__ import annotations

import pandas as pd

LEVEL_NAMES = {"e": "Easy", "h": "Hard", "t": "Tough", "mean": "Mean"}
# flags that concern one task only; any other flag (collapsed descriptors, unknown codes) concerns every table
FLAG_TASKS = {
    "verification_skipped": "verification",
    "retrieval_no_distractors": "retrieval",
    "retrieval_short_pools": "retrieval",
    "stored_summary_mismatch": "summary",
}


def flag_codes(flags, task: str) -> list[str]:
    """Codes of the ``flags`` that concern ``task`` (``"verification"``, ``"matching"``, ``"retrieval"``)."""
    codes = []
    for flag in flags:
        code = str(flag.get("code"))
        if FLAG_TASKS.get(code, task) == task and code not in codes:
            codes.append(code)
    return codes


def _table(frame: pd.DataFrame, title: str, flagged: list[str], percent: bool = True) -> str:
    shown = frame.rename(index=LEVEL_NAMES) * (100.0 if percent else 1.0)
    body = shown.to_string(float_format=lambda v: f"{v:7.2f}" if percent else f"{v:.4f}")
    width = max(len(line) for line in body.splitlines())
    note = f"! flagged: {', '.join(flagged)} (see the warnings below)\n" if flagged else ""
    return f"{title}\n{'-' * max(width, len(title))}\n{body}\n{note}"


def format_results(results) -> str:
    """All tables of ``results`` (values in %, as the official printer), the summary line, then the flags."""
    params = results.params
    flags = list(results.flags)
    parts = [
        f"HPatches evaluation: descriptor {params.get('descriptor')!r}, split {params.get('split')!r}, "
        f"distance {params.get('distance')}, AP {params.get('ap')}\n"
    ]
    if results.verification_ap is not None:
        flagged = flag_codes(flags, "verification")
        parts.append(_table(results.verification_auc, "Verification: balanced ROC-AUC (%)", flagged))
        parts.append(_table(results.verification_ap, "Verification: imbalanced AP (%)", flagged))
    if results.matching is not None:
        flagged = flag_codes(flags, "matching")
        by_level = results.matching_by_level.rename(columns={"map": "mAP", "msr": "success rate"})
        parts.append(_table(by_level, "Matching: mean over sequences x images (%)", flagged))
        parts.append(_table(results.matching_by_category, "Matching mAP by sequence type: i = illum, v = view (%)",
                            flagged))
    if results.retrieval is not None:
        parts.append(_table(results.retrieval, "Retrieval: mAP per pool size (%)", flag_codes(flags, "retrieval")))
    summary = results.shown_summary
    cells = [f"{key} {value:.6f}" for key, value in summary.items() if value is not None]
    codes = list(dict.fromkeys(str(flag.get("code")) for flag in flags))
    marker = f" [FLAGGED: {', '.join(codes)}]" if codes else ""
    parts.append("Summary (coursework): " + (", ".join(cells) if cells else "nothing evaluated") + marker + "\n")
    for flag in flags:
        parts.append(f"WARNING [{flag.get('code')}]: {flag.get('message')}\n")
    return "\n".join(parts)
