"""Series held in data frames (pandas; polars too, read through its own ``to_pandas``-free
API): the long layouts a table library writes, turned into one (T_i, C) array per series.

- **Long, indexed** (sktime's and aeon's ``pd-multiindex``): a pandas DataFrame whose index has
  two levels, (instance, time), and one column per channel.
- **Long, by columns**: a frame with an id column (``id``, ``instance``, ``series``,
  ``case_id``, ``sample``) and a time column (``time``, ``timepoint``, ``timestamp``, ``step``,
  ``t``), any case; every other column is a channel.

Instances keep the order in which they first appear (``y`` lists their labels in that order);
each one's rows are ordered by time. A frame in neither layout is a table of one series per
row (wide), read as an array. pandas and polars are never imported here: a frame is known by
its type's module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ID_COLUMNS", "LABEL_COLUMNS", "TIME_COLUMNS", "grouped_series", "long_series"]

ID_COLUMNS = ("id", "instance", "series", "case_id", "sample")
LABEL_COLUMNS = ("label", "class", "target")  # not "y": x, y, z are channels too
TIME_COLUMNS = ("time", "timepoint", "timestamp", "step", "t")


def _kind(frame: Any) -> str | None:
    module = type(frame).__module__.partition(".")[0]
    if module in ("pandas", "polars") and type(frame).__name__ == "DataFrame":
        return module
    return None


def _named(columns: list[str], names: tuple[str, ...]) -> str | None:
    found = [c for c in columns if str(c).strip().lower() in names]
    return found[0] if len(found) == 1 else None


def long_series(frame: Any, who: str) -> tuple[list[np.ndarray], list[Any]] | None:
    """(one (T_i, C) float64 array per series, the series' ids) of a long-format frame, or
    None when ``frame`` is not one (an array, a list, a wide frame). A channel column that is
    not numbers, a series without rows or a time given twice in one series is a ValueError
    naming ``who`` and the column or series."""
    kind = _kind(frame)
    if kind is None:
        return None
    if kind == "polars":
        columns = list(frame.columns)
        id_column, time_column = _named(columns, ID_COLUMNS), _named(columns, TIME_COLUMNS)
        if id_column is None or time_column is None:
            return None
        table = {c: np.asarray(frame.get_column(c).to_numpy()) for c in columns}
    else:
        levels = getattr(frame.index, "nlevels", 1)
        if levels > 2:
            raise ValueError(f"{who}: expected a row index of two levels (instance, time) for "
                             f"series in long format; got {levels} levels")
        if levels == 2:  # (instance, time) index
            ids = np.asarray(frame.index.get_level_values(0))
            times = np.asarray(frame.index.get_level_values(1))
            channels = list(frame.columns)
            table = {c: np.asarray(frame[c].to_numpy()) for c in channels}
            return grouped_series(ids, times, table, channels, who)
        columns = list(frame.columns)
        id_column, time_column = _named(columns, ID_COLUMNS), _named(columns, TIME_COLUMNS)
        if id_column is None or time_column is None:
            return None
        table = {c: np.asarray(frame[c].to_numpy()) for c in columns}
    channels = [c for c in columns if c not in (id_column, time_column)]
    return grouped_series(table[id_column], table[time_column], table, channels, who)


def grouped_series(ids: np.ndarray, times: np.ndarray, table: dict[Any, np.ndarray],
                   channels: list[Any], who: str) -> tuple[list[np.ndarray], list[Any]]:
    """(one (T_i, C) float64 array per series, the series' ids in the order they first
    appear) of rows given as ``ids`` (N,), ``times`` (N,) and ``table[channel]`` (N,); each
    series' rows ordered by time. ValueError naming ``who`` for a channel of non-numbers, an
    infinity or a time given twice in one series."""
    if not channels:
        raise ValueError(f"{who}: expected at least one channel column beside the id and time "
                         "columns; got none")
    values = np.empty((len(ids), len(channels)), dtype=np.float64)
    for j, column in enumerate(channels):
        try:
            values[:, j] = table[column].astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{who}: expected numbers in channel column {column!r}; got "
                             f"{table[column].dtype} values") from None
    if np.isinf(values).any():
        raise ValueError(f"{who}: expected finite values (NaN for a missing one); got "
                         "infinities")
    order: dict[Any, list[int]] = {}
    for row, key in enumerate(ids.tolist()):
        order.setdefault(key, []).append(row)
    series = []
    for key, rows in order.items():
        when = times[rows]
        by_time = np.argsort(when, kind="stable")
        ordered = when[by_time]
        if len(ordered) > 1 and bool((ordered[1:] == ordered[:-1]).any()):
            raise ValueError(f"{who}: expected each time once per series; series {key!r} "
                             "has a time twice")
        series.append(values[np.asarray(rows)[by_time]])
    return series, list(order)
