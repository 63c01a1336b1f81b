"""Results tables across backbones x losses x embedding sizes (Markdown text, from lists of result dicts)."""

from __future__ import annotations

KEY_COLUMNS = ("backbone", "loss", "embedding_dim")


def results_table(rows, metrics=None, digits: int = 3) -> str:
    """A Markdown table, one line per run, sorted by (backbone, loss, embedding_dim).

    Args:
        rows: dicts with the `KEY_COLUMNS` and metric values (e.g. "knn_f1", "recall@1", "map@20").
        metrics: metric columns in order; defaults to every other key of the first row.
        digits: decimals of float values. Defaults to 3.

    Returns:
        the table text.

    Raises:
        ValueError: a row without one of the key columns.
    """
    rows = list(rows)
    for row in rows:
        missing = [key for key in KEY_COLUMNS if key not in row]
        if missing:
            raise ValueError(f"`rows` must each have {KEY_COLUMNS}. Received a row without {missing}: {row!r}")
    if metrics is None:
        metrics = [key for key in rows[0] if key not in KEY_COLUMNS] if rows else []
    columns = list(KEY_COLUMNS) + list(metrics)

    def cell(value):
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in sorted(rows, key=lambda r: (str(r["backbone"]), str(r["loss"]), int(r["embedding_dim"]))):
        lines.append("| " + " | ".join(cell(row.get(column)) for column in columns) + " |")
    return "\n".join(lines)


def best_by(rows, metric: str, group: str) -> dict:
    """The best value of `metric` for each value of column `group` (e.g. the best kNN F1 of each backbone)."""
    best = {}
    for row in rows:
        key = row[group]
        if key not in best or row[metric] > best[key]:
            best[key] = row[metric]
    return best
