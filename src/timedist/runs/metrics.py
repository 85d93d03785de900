"""A run's ``metrics.csv``: one row per epoch (one row for a fit in one step)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

__all__ = ["metrics_text", "read_metrics"]


def read_metrics(path: Path) -> list[dict[str, str]]:
    """The rows of a ``metrics.csv`` (empty if there is none yet)."""
    if not path.is_file():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def metrics_text(rows: list[dict[str, Any]]) -> str:
    """``rows`` (one per epoch) as the text of ``metrics.csv``; columns in order of first
    appearance."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
