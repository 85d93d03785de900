"""Series in tables: ``.csv``/``.tsv`` files with a header (plain or ``.gz``) and ``.parquet``
files (through pyarrow, the ``parquet`` extra).

Two layouts, told apart by the header:

- **Wide**: one series per row; every column but the label column is one step, in order. A
  shorter series ends in empty cells or ``NaN`` (trailing missing steps shorten it; a missing
  step inside one stays missing, as in ``.ts``).
- **Long**: an id column (:data:`~timedist.data.frames.ID_COLUMNS`: ``id``, ``instance``,
  ``series``, ``case_id``, ``sample``) and a time column (``time``, ``timepoint``,
  ``timestamp``, ``step``, ``t``): one row per step, one column per channel; rows in any order
  (each series is ordered by its times, series keep the order they first appear in). The
  label column holds one value per series.

Chosen for the user, each said in a line (:attr:`Table.chose`):

- **the label column**: ``label_column`` (``--label-column``) when given, else the one column
  named ``label``, ``class`` or ``target`` (any case; two such columns are an error: which
  one is meant is unclear), else, for a wide table that must be labelled, the first
  column. A table read without labels (inputs to predict) has a label
  column only when it is given or named so.
- **classes or targets**: labels that are all numbers, one of them fractional, are regression
  targets; anything else is classes, an integral number named by its integer as the UCR
  reader does (``1.0`` is class ``1``).
- **a first column without a name** (the row index pandas writes) is left out, and so is an id
  column of a wide table.
- **the delimiter** of a ``.csv``: comma, semicolon or tab, whichever its header holds most.

A text file whose first line is data, not a header, has the UCR archive's layout and is read by
:func:`~timedist.data.read_ucr`. The first line is a header when a field after the first is
not a number, when its first field is blank (a row index) or a column name timedist knows
(``label``, ``id``, ``time``, ...), or when it is text followed by the column numbers 0..n-1
or 1..n (``activity,0,1,2``).

The columns are read by :mod:`timedist.data.columns` (pyarrow's parser, numpy's, or row by
row); a bad value, a ragged row or a bad layout is a :class:`TsFormatError` naming the file,
the line, the column, what was expected and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .._checks import DECIMAL
from .archive import class_label, class_order, class_targets, read_ucr
from .columns import (
    Columns,
    check_names,
    columns_of,
    first_line,
    is_header,
    is_number,
    read_parquet_columns,
    read_text_columns,
    text_header,
)
from .dataset import SequenceDataset
from .frames import ID_COLUMNS, LABEL_COLUMNS, TIME_COLUMNS, grouped_series
from .ts import TsFormatError

__all__ = ["LABEL_COLUMNS", "TABLE_SUFFIXES", "Table", "frame_table", "read_recording",
           "read_table", "text_header"]

TABLE_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
_SHOWN = 8  # columns listed in a message


@dataclass
class Table:
    """A table read: its series (``data``), the label column used (None: none, or a file
    without a header), what was chosen reading it, one line each (``chose``), and the
    series' ids with the column that holds them (a long table's, or a wide table's id
    column; None without one)."""

    data: SequenceDataset
    label_column: str | None
    chose: list[str] = field(default_factory=list)
    ids: list[str] | None = None
    id_column: str | None = None


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def read_recording(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """One recording of a ``.csv``/``.tsv`` (plain or ``.gz``; a header is optional) or
    ``.parquet`` file: rows are steps, columns channels. Returns its (T, C) float64 values
    and what was recognised, one line each: a header, a time column (left out; its times
    must increase). Missing values are NaN (trailing ones are left to
    :func:`~timedist.data.recordings.recording_values`). TsFormatError names the file, line
    and column."""
    path = Path(path)
    said = []
    if path.name.endswith(".parquet"):
        columns = read_parquet_columns(path)
    else:
        first = first_line(path)
        if first is None:
            raise TsFormatError(f"{path.name}: expected rows of steps; got an empty file")
        fields, delimiter, line = first
        header = is_header(fields)
        names = fields if header else [str(j + 1) for j in range(len(fields))]
        if header:
            check_names(names, path.name)
        time = _named(names, TIME_COLUMNS) if header else None
        columns = read_text_columns(path, names, delimiter, line if header else line - 1,
                                    {time} if time else set())
        if header:
            said.append("a header")
    time = _named(columns.names, TIME_COLUMNS, path.name, "time")
    channels = [n for n in columns.names if n != time and n.strip()]
    if len(channels) < len(columns.names) - (time is not None):
        said.append("a row index (column 1, without a name; left out)")
    if not channels or not len(columns.numbers):
        raise TsFormatError(f"{path.name}: expected rows of steps, a column of numbers per "
                            f"channel; got {'no channel column' if not channels else 'no rows'}")
    if time is not None:
        when = _times(columns, time)
        backwards = np.flatnonzero(~(when[1:] > when[:-1]))
        if len(backwards):
            row = int(backwards[0]) + 1
            raise TsFormatError(f"{columns.where(row)}, column {time!r}: expected times in "
                                f"increasing order; got {_shown(when[row].item())!r} after "
                                f"{_shown(when[row - 1].item())!r}")
        said.append(f"a time column ({time!r}, left out)")
    return np.stack([columns.values(n) for n in channels], 1), said


def _named(names: list[str], choices: tuple[str, ...], who: str = "", what: str = ""
           ) -> str | None:
    """The one column named one of ``choices`` (any case), or None; two are a TsFormatError
    naming them (``what`` they would hold) when ``who`` is given."""
    found = [n for n in names if n.strip().lower() in choices]
    if len(found) > 1 and who:
        raise TsFormatError(f"{who}: expected one {what} column; got {_listed(found)}"
                            + (" (choose one with --label-column NAME)" if what == "label"
                               else " (rename the others)"))
    return found[0] if len(found) == 1 else None


def _targets(labels: np.ndarray, column: str, where: Callable[[int], str]
             ) -> tuple[torch.Tensor, list[str] | None, str]:
    """(targets, classes or None for regression, what they are) of one label per series."""
    texts: list[str] = []
    for row, value in enumerate(labels.tolist()):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise TsFormatError(f"{where(row)}, column {column!r}: expected a label; got a "
                                "missing one")
        texts.append(repr(value) if isinstance(value, float) else str(value).strip())
    infinite = next((row for row, t in enumerate(texts) if DECIMAL.fullmatch(t)
                     and math.isinf(float(t))), None)
    if infinite is not None:
        raise TsFormatError(f"{where(infinite)}, column {column!r}: expected a finite label; "
                            f"got {texts[infinite][:40]!r}")
    if all(DECIMAL.fullmatch(t) for t in texts) and any(
            float(t) != int(float(t)) for t in texts):
        values = torch.tensor([float(t) for t in texts], dtype=torch.float64)
        return values, None, "regression targets (numbers, some fractional)"
    named: dict[str, str] = {}
    for text in dict.fromkeys(texts):  # each distinct label once; a bad one is found again
        try:
            named[text] = class_label(text, "")
        except TsFormatError:
            class_label(text, f"{where(texts.index(text))}, column {column!r}")
    names = [named[text] for text in texts]
    targets, classes = class_targets(names, class_order(sorted(set(names))), column)
    return targets, classes, f"{len(classes)} classes"


def _label_column(names: list[str], given: str | None, who: str, *, first: str | None,
                  labelled: bool) -> tuple[str | None, str]:
    """(the label column, why) — see the module."""
    if given is not None:
        if given in names:
            return given, "--label-column"
        if labelled:
            raise TsFormatError(f"{who}: --label-column {given!r}: expected one of its "
                                f"columns ({_listed(names)}); got no column of that name")
    named = _named(names, LABEL_COLUMNS, who, "label")
    if named is not None:
        return named, "named so"
    if labelled and first is not None:
        return first, f"the first column; none is named {', '.join(LABEL_COLUMNS)}"
    if labelled:
        raise TsFormatError(f"{who}: expected a label column (one named "
                            f"{', '.join(LABEL_COLUMNS)}, or --label-column NAME); got the "
                            f"columns {_listed(names)}")
    return None, ""


def _wide(columns: Columns, label: str | None, skipped: list[str], who: str
          ) -> tuple[list[torch.Tensor], np.ndarray | None, str, list[Any]]:
    steps = [n for n in columns.names if n != label and n not in skipped]
    if not steps:
        raise TsFormatError(f"{who}: expected a column per step beside the label column; got "
                            "none")
    if any(n in columns.texts for n in steps):  # numbers held as text (a frame's objects)
        values = np.stack([columns.values(n) for n in steps], 1)
    else:
        at = [columns.numeric.index(n) for n in steps]
        values = columns.numbers if at == list(range(columns.numbers.shape[1])) else (
            columns.numbers[:, at])
    present = ~np.isnan(values)
    lengths = values.shape[1] - np.argmax(present[:, ::-1], 1)
    empty = np.flatnonzero(~present.any(1))
    if len(empty):
        raise TsFormatError(f"{columns.where(int(empty[0]))}: expected at least one value; got "
                            "only missing ones")
    series = [torch.from_numpy(values[i, :n, None]) for i, n in enumerate(lengths.tolist())]
    labels = columns.column(label) if label is not None else None
    return series, labels, f"a wide table: one series per row, {len(steps)} steps", []


def _times(columns: Columns, name: str) -> np.ndarray:
    """A time column as float64: numbers, or dates and times (ISO 8601 text, or a frame's or
    Parquet file's own) as nanoseconds. A missing, infinite or unreadable time is a
    TsFormatError naming its row."""
    column = columns.column(name)
    if column.dtype == object:
        cells = column.tolist()
        try:
            if all(c is None or is_number(c) for c in cells):
                column = columns.values(name)
            else:
                column = np.array([np.datetime64("NaT") if c is None else np.datetime64(c, "ns")
                                   for c in cells])
                column = np.where(np.isnat(column), np.nan, column.astype("int64"))
        except ValueError:
            row = next(i for i, c in enumerate(cells) if c is not None and not is_number(c)
                       and not _is_date(c))
            raise TsFormatError(f"{columns.where(row)}, column {name!r}: expected a time (a "
                                f"number, or an ISO date and time); got {cells[row][:40]!r}"
                                ) from None
    bad = np.flatnonzero(~np.isfinite(column.astype(np.float64)))
    if len(bad):
        row = int(bad[0])
        got = "a missing one" if np.isnan(column[row]) else repr(_shown(column[row]))
        raise TsFormatError(f"{columns.where(row)}, column {name!r}: expected a time; got {got}")
    return column.astype(np.float64)


def _is_date(text: str) -> bool:
    try:
        np.datetime64(text, "ns")
    except ValueError:
        return False
    return True


def _long(columns: Columns, ids: str, times: str, label: str | None, who: str
          ) -> tuple[list[torch.Tensor], np.ndarray | None, str, list[Any]]:
    keys = columns.column(ids)
    missing = next((i for i, k in enumerate(keys.tolist()) if k is None or k != k), None)
    if missing is not None:
        raise TsFormatError(f"{columns.where(missing)}, column {ids!r}: expected a series id; "
                            "got a missing one")
    when = _times(columns, times)
    channels = [n for n in columns.names if n not in (ids, times, label)]
    table = {n: columns.values(n) for n in channels}
    try:
        series, order = grouped_series(keys, when, table, channels, who)
    except ValueError as error:
        raise TsFormatError(str(error)) from None
    _, first, inverse = np.unique(keys.astype(str), return_index=True, return_inverse=True)
    labels = None
    if label is not None:
        values = columns.column(label)
        same = values[first][inverse]
        differs = np.flatnonzero(~((same == values) | ((same != same) & (values != values))))
        if len(differs):
            row = int(differs[0])
            raise TsFormatError(f"{columns.where(row)}, column {label!r}: expected one label per "
                                f"series ({_shown(values[first[inverse[row]]])!r} for "
                                f"series {_shown(keys[row])!r}); got {_shown(values[row])!r}")
        labels = values[np.sort(first)]
    return ([torch.from_numpy(np.ascontiguousarray(s)) for s in series], labels,
            f"a long table: series by {ids!r}, steps by {times!r}, {len(channels)} "
            f"channel{'s' * (len(channels) > 1)}", order)


@dataclass
class _Layout:
    """What a table's column names say: its id and time columns (both: long), its label
    column and why, the columns left out, and those choices in words."""

    names: list[str]
    ids: str | None
    times: str | None
    label: str | None
    why: str
    skipped: list[str]
    chose: list[str]

    @property
    def long(self) -> bool:
        return self.ids is not None and self.times is not None

    @property
    def text(self) -> set[str]:
        """The columns read as text (labels, ids, times, left out)."""
        return {n for n in (self.label, self.ids, self.times, *self.skipped) if n is not None}


def _layout(names: list[str], label_column: str | None, require_targets: bool, who: str,
            delimiter: str | None = None) -> _Layout:
    """What the names say (see the module); ``delimiter``: a text file's."""
    blank = check_names(names, who)
    if len(names) == 1 and label_column is None:
        raise TsFormatError(f"{who}: expected columns separated by {delimiter!r}; the header "
                            f"has one: {names[0][:60]!r}" if delimiter else
                            f"{who}: expected a column per step (and one of labels); got one "
                            f"column, {names[0][:60]!r}")
    chose = []
    skipped = [names[0]] if blank else []
    if blank:
        chose.append("column 1 has no name: a row index, left out")
    ids = _named(names, ID_COLUMNS, who, "series id")
    times = _named(names, TIME_COLUMNS, who, "time")
    long = ids is not None and times is not None
    if times is not None and not long:
        raise TsFormatError(f"{who}: column {times!r} holds times, but no column names the "
                            f"series ({', '.join(ID_COLUMNS)}): a long table needs both; a "
                            "wide table's steps have other names")
    rest = [n for n in names if n not in skipped]
    if not long and ids is not None:
        skipped.append(ids)
        chose.append(f"column {ids!r} names the series: left out")
    label, why = _label_column(rest, label_column, who, labelled=require_targets,
                               first=None if long or not rest else rest[0])
    return _Layout(names, ids, times if long else None, label, why, skipped, chose)


def _assembled(columns: Columns, layout: _Layout, require_targets: bool, who: str,
               name: str) -> Table:
    if len(columns.numbers) == 0:
        raise TsFormatError(f"{who}: expected rows of series after the header; got none")
    label = layout.label
    if layout.long:
        assert layout.ids is not None and layout.times is not None
        series, labels, kind, ids = _long(columns, layout.ids, layout.times, label, who)
    else:
        series, labels, kind, ids = _wide(columns, label, layout.skipped, who)
        if layout.ids is not None:
            ids = columns.column(layout.ids).tolist()
    chose = [f"{who}: {kind}", *layout.chose, *(
        f"column {c!r} is the DataFrame's index (pandas' metadata): left out"
        for c in columns.left_out)]
    if label is not None and require_targets:
        assert labels is not None
        targets, classes, what = _targets(labels, label, columns.where)
        chose.append(f"labels from column {label!r} ({layout.why}): {what}")
    else:
        targets, classes = torch.zeros(len(series), dtype=torch.float64), None
        if label is not None:
            chose.append(f"column {label!r} holds labels ({layout.why}): left out")
    data = SequenceDataset(series, targets, classes=classes, name=name)
    shown = [_shown(i) for i in ids] if layout.ids is not None else None
    return Table(data, label, chose, shown, layout.ids)


def _shown(value: Any) -> str:
    """A cell as a person wrote it: ``7`` for the float 7.0, text as it is."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_table(path: str | Path, *, label_column: str | None = None,
               require_targets: bool = True, name: str | None = None) -> Table:
    """A ``.csv``/``.tsv``/``.parquet`` table of series (see the module) as a
    :class:`SequenceDataset` of x_i (T_i, C) with class labels or regression targets (zeros
    when read without labels), and what was chosen reading it."""
    path = Path(path)
    who = path.name
    if path.name.endswith(".parquet"):
        columns = read_parquet_columns(path)
        layout = _layout(columns.names, label_column, require_targets, who)
    else:
        header = text_header(path)
        if header is None:  # the UCR layout, or an empty file (named so there)
            data = read_ucr(path, name=name)
            return Table(data, None, [f"{path.name}: no header: the first column holds the "
                                      "labels, the others the steps (the UCR archive's layout)"])
        names, delimiter, first_line = header
        layout = _layout(names, label_column, require_targets, who, delimiter)
        columns = read_text_columns(path, names, delimiter, first_line, layout.text)
    return _assembled(columns, layout, require_targets, who, name or who)


def frame_table(frame: Any, *, label_column: str | None = None, require_targets: bool = True,
                name: str = "DataFrame") -> Table:
    """A pandas or polars DataFrame of series, wide or long, read as a table file is (see
    the module; a pandas index of two levels is (instance, time)), as a :class:`Table`.
    Messages name rows by position (``iloc``)."""
    kind = type(frame).__module__.partition(".")[0]
    if kind not in ("pandas", "polars") or type(frame).__name__ != "DataFrame":
        raise TypeError(f"{name}: expected a pandas or polars DataFrame; got "
                        f"{type(frame).__name__}")
    if kind == "pandas":
        levels = frame.index.nlevels
        if levels > 2:
            raise ValueError(f"{name}: expected a row index of one level, or two (instance, "
                             f"time); got {levels} levels")
        if levels == 2:
            index = [n if n is not None else d for n, d in zip(frame.index.names,
                                                               ("instance", "time"), strict=True)]
            if set(index) & {str(c) for c in frame.columns}:
                raise ValueError(f"{name}: expected index levels named unlike its columns; "
                                 f"{', '.join(sorted(set(index) & set(map(str, frame.columns))))}"
                                 " is both")
            frame = frame.rename_axis(index).reset_index()
    names = [str(c) for c in frame.columns]
    check_names(names, name)
    arrays = [np.asarray(frame.iloc[:, j].to_numpy() if kind == "pandas" else
                         frame.get_column(column).to_numpy())
              for j, column in enumerate(frame.columns)]
    columns = columns_of(names, arrays, lambda row: f"{name}, row {row} (iloc)")
    columns.check_finite()
    layout = _layout(names, label_column, require_targets, name, None)
    return _assembled(columns, layout, require_targets, name, name)
