"""Shape checks of a results JSON (``schema_version`` 1) before it is turned back into a `Results`.

A file that is valid JSON but not shaped like what `Results.to_dict` writes (a list, a missing ``summary``, a
retrieval row of the wrong length, an AP of 1.5, a flag without a code, ...) is refused with a `ValueError` that
names the first wrong entry, instead of failing somewhere inside pandas or printing nonsense.
"""

from __future__ import annotations

from hpatches_eval.patch_types import NOISE_LEVELS

SUMMARY_KEYS = ("verification", "matching", "retrieval", "mean")
NEGATIVES = ("inter", "intra")
_MATCHING_COLUMNS = ("seq", "level", "image", "ap", "sr")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, rule: str, value) -> None:
    raise ValueError(f"`{where}` must be {rule}. Received: {_short(value)}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fraction(where: str, value, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        _fail(where, "a number in [0, 1]" + (" or null" if allow_none else ""), value)


def _object(where: str, value) -> dict:
    if not isinstance(value, dict):
        _fail(where, "a JSON object", value)
    return value


def _check_grid(where: str, grid) -> tuple:
    grid = _object(where, grid)
    if not grid or any(level not in NOISE_LEVELS for level in grid):
        _fail(where, f"an object with levels among {list(NOISE_LEVELS)}", list(grid))
    columns = None
    for level, row in grid.items():
        row = _object(f"{where}.{level}", row)
        if not row or any(col not in NEGATIVES for col in row) or (columns is not None and set(row) != columns):
            _fail(f"{where}.{level}", f"an object with the same columns among {list(NEGATIVES)}", list(row))
        columns = set(row)
        for col, value in row.items():
            _fraction(f"{where}.{level}.{col}", value)
    return tuple(grid), tuple(sorted(columns))


def _check_matching(matching) -> None:
    records = _object("matching", matching).get("per_pair")
    if not isinstance(records, list) or not records:
        _fail("matching.per_pair", "a non-empty list of records", records)
    for i, record in enumerate(records):
        where = f"matching.per_pair[{i}]"
        if not isinstance(record, dict) or set(record) != set(_MATCHING_COLUMNS):
            _fail(where, f"an object with keys {list(_MATCHING_COLUMNS)}", record)
        if not isinstance(record["seq"], str) or not record["seq"]:
            _fail(f"{where}.seq", "a sequence name", record["seq"])
        if record["level"] not in NOISE_LEVELS:
            _fail(f"{where}.level", f"one of {list(NOISE_LEVELS)}", record["level"])
        if not isinstance(record["image"], int) or isinstance(record["image"], bool):
            _fail(f"{where}.image", "an integer", record["image"])
        _fraction(f"{where}.ap", record["ap"])
        _fraction(f"{where}.sr", record["sr"])


def _check_retrieval(retrieval) -> None:
    retrieval = _object("retrieval", retrieval)
    pools = retrieval.get("pools")
    if (not isinstance(pools, list) or not pools
            or any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in pools)):
        _fail("retrieval.pools", "a non-empty list of pool sizes", pools)
    table = _object("retrieval.map", retrieval.get("map"))
    if any(level not in table for level in NOISE_LEVELS) or any(
            level not in NOISE_LEVELS + ("mean",) for level in table):
        _fail("retrieval.map", f"an object with rows {list(NOISE_LEVELS)} (and 'mean')", list(table))
    for level, row in table.items():
        if not isinstance(row, list) or len(row) != len(pools):
            _fail(f"retrieval.map.{level}", f"a list of {len(pools)} numbers (one per pool)", row)
        for i, value in enumerate(row):
            _fraction(f"retrieval.map.{level}[{i}]", value)


def check_results_dict(data: dict) -> None:
    """Raises `ValueError` naming the first entry of ``data`` that a results file cannot hold.

    Args:
        data: a decoded results JSON with ``schema_version`` 1 (checked by the caller).
    """
    _object("params", data.get("params", {}))
    _object("timings", data.get("timings", {}))
    flags = data.get("flags", [])
    if not isinstance(flags, list):
        _fail("flags", "a list", flags)
    for i, flag in enumerate(flags):
        if not isinstance(flag, dict) or not isinstance(flag.get("code"), str) or not isinstance(
                flag.get("message"), str):
            _fail(f"flags[{i}]", 'an object with a "code" and a "message" text', flag)
    if "summary" not in data:
        _fail("summary", "present (every results file holds its summary)", None)
    summary = _object("summary", data["summary"])
    if set(summary) != set(SUMMARY_KEYS):
        _fail("summary", f"an object with keys {list(SUMMARY_KEYS)}", sorted(summary))
    for key, value in summary.items():
        _fraction(f"summary.{key}", value, allow_none=True)
    if "flat" in data:
        for key, value in _object("flat", data["flat"]).items():
            if key != "summary":
                _fraction(f"flat.{key}", value)
    if "verification" in data:
        verification = _object("verification", data["verification"])
        shapes = [_check_grid(f"verification.{key}", verification.get(key)) for key in ("auc", "ap")]
        if shapes[0] != shapes[1]:
            _fail("verification", "two grids (auc, ap) of the same levels and columns", shapes)
    if "matching" in data:
        _check_matching(data["matching"])
    if "retrieval" in data:
        _check_retrieval(data["retrieval"])
