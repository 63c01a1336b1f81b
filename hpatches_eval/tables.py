"""Plain-text tables of a `Results` or a multi-split result (what ``python -m hpatches_eval`` and ``... show
results.json`` print).

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


def _number(value, percent: bool = True) -> str:
    if value is None:
        return "      -"
    return f"{value * 100.0:7.2f}" if percent else f"{value:.6f}"


def format_multi_split(multi) -> str:
    """Tables of a `hpatches_eval.multi_split.MultiSplitResults`: the summary per split, the mean and std over
    the averaged splits (values in %), then every split's flags (named by split)."""
    params = multi.params
    combined = multi.shown_combined
    flags = multi.flags
    parts = [
        f"HPatches evaluation over splits {', '.join(multi.splits)}: descriptor {params.get('descriptor')!r}, "
        f"distance {params.get('distance')}, AP {params.get('ap')}; mean and std (n-1) over "
        f"{', '.join(multi.mean_over)} (n={combined.get('n')})\n"
    ]
    keys = ("verification", "matching", "retrieval", "mean")
    header = f"{'split':<10}" + "".join(f"{key:>14}" for key in keys)
    lines = [header, "-" * len(header)]
    for name, results in multi.per_split.items():
        summary = results.shown_summary
        codes = list(dict.fromkeys(str(flag.get("code")) for flag in results.flags))
        marker = f"  ! {', '.join(codes)}" if codes else ""
        lines.append(f"{name:<10}" + "".join(f"{_number(summary.get(key)):>14}" for key in keys) + marker)
    lines.append("-" * len(header))
    means, stds = combined["summary"]["mean"], combined["summary"]["std"]
    lines.append(f"{'mean':<10}" + "".join(f"{_number(means.get(key)):>14}" for key in keys))
    lines.append(f"{'std':<10}" + "".join(f"{_number(stds.get(key)):>14}" for key in keys))
    parts.append("Summary (coursework) per split, %\n" + "\n".join(lines) + "\n")
    cells_mean, cells_std = combined["cells"]["mean"], combined["cells"]["std"]
    if cells_mean:
        rows = [f"{'cell':<22}{'mean':>9}{'std':>9}", "-" * 40]
        rows += [f"{key:<22}{_number(value):>9}{_number(cells_std.get(key)):>9}"
                 for key, value in cells_mean.items()]
        parts.append(f"Per level over {', '.join(multi.mean_over)} (%)\n" + "\n".join(rows) + "\n")
    codes = list(dict.fromkeys(str(flag.get("code")) for flag in flags))
    cells = [f"{key} {means[key]:.6f}" + (f" +- {stds[key]:.6f}" if stds.get(key) is not None else "")
             for key in keys if means.get(key) is not None]
    marker = f" [FLAGGED: {', '.join(codes)}]" if codes else ""
    parts.append(f"Summary over {', '.join(multi.mean_over)}: " + (", ".join(cells) or "nothing evaluated")
                 + marker + "\n")
    for flag in flags:
        parts.append(f"WARNING [{flag.get('code')}]: {flag.get('message')}\n")
    return "\n".join(parts)
