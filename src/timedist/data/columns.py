"""A table file as typed columns: the header told from data, and three parsers of a text table
(pyarrow's, in several threads, when it is installed; numpy's; row by row, which names a bad
value) that read the same numbers, plus Parquet through pyarrow. :mod:`timedist.data.tables`
turns the columns into series.

Numbers are ASCII decimals (``-1.5``, ``2e-3``); empty cells, ``?`` and ``NaN`` are missing;
anything else in a number column (``1_000``, ``0x10``, non-ASCII digits, infinities) is a
:class:`TsFormatError` naming the file, the line, the column, what was expected and what was
found. A fast parser that would take such a value is skipped for that file.
"""

from __future__ import annotations

import csv
import gzip
import math
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import DECIMAL
from .frames import ID_COLUMNS, LABEL_COLUMNS, TIME_COLUMNS
from .ts import TsFormatError, number, text_file

__all__ = ["Columns", "arrow_columns", "check_names", "columns_of", "first_line", "is_header",
           "is_number", "read_parquet_columns", "read_text_columns", "text_header"]

_DELIMITERS = (",", ";", "\t")


@dataclass
class Columns:
    """A table's columns: ``numbers`` (N, K) float64 for the columns named in ``numeric``,
    ``texts`` for the others (str objects; None where missing), and ``where(row)`` naming a
    data row (0-based) in messages."""

    names: list[str]
    numeric: list[str]
    numbers: np.ndarray
    texts: dict[str, np.ndarray]
    where: Callable[[int], str]
    left_out: list[str] = field(default_factory=list)  # index columns a DataFrame wrote

    def column(self, name: str) -> np.ndarray:
        """One column: float64 numbers, or text (str objects, None where missing)."""
        if name in self.texts:
            return self.texts[name]
        return self.numbers[:, self.numeric.index(name)]

    def values(self, name: str) -> np.ndarray:
        """One column as numbers: a column of text (a frame's ``object`` column, a Parquet
        string column) read as a file's cells are; a cell that is not a number is a
        TsFormatError naming its row and column."""
        if name not in self.texts:
            return self.column(name)
        return np.array([math.nan if v is None else number(v, f"{self.where(row)}, column "
                                                            f"{name!r}")
                         for row, v in enumerate(self.texts[name].tolist())], dtype=np.float64)

    def check_finite(self) -> None:
        """An infinity among the numbers is a TsFormatError naming its row and column."""
        infinite = np.argwhere(np.isinf(self.numbers))
        if len(infinite):
            row, j = (int(v) for v in infinite[0])
            raise TsFormatError(f"{self.where(row)}, column {self.numeric[j]!r}: expected a "
                                "finite number (NaN or null for a missing one); got "
                                f"{self.numbers[row, j]}")


def _missing(value: Any) -> bool:
    """None, NaN, and pandas' NA and NaT (which refuse ``==``)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and math.isnan(value)


def columns_of(names: list[str], arrays: list[np.ndarray], where: Callable[[int], str]
               ) -> Columns:
    """Columns from one numpy array per column (a frame's, a Parquet file's): numbers and
    booleans as float64; dates and times as int64 nanoseconds, NaT missing; integers past
    2**53, which float64 would round into one another, and everything else as text
    (stripped; None where missing)."""
    numeric: list[str] = []
    numbers: list[np.ndarray] = []
    texts: dict[str, np.ndarray] = {}
    for name, values in zip(names, arrays, strict=True):
        kind = values.dtype.kind
        if kind in "iu" and len(values) and np.abs(values.astype(np.float64)).max() > 2**53:
            values = values.astype(object)
        elif kind in "biuf":
            numeric.append(name)
            numbers.append(values.astype(np.float64))
            continue
        elif kind in "mM":
            numeric.append(name)
            numbers.append(np.where(np.isnat(values), np.nan,
                                    values.astype("int64").astype(np.float64)))
            continue
        texts[name] = np.array([None if _missing(v) else str(v).strip() or None
                                for v in values.tolist()], dtype=object)
    stacked = np.stack(numbers, 1) if numbers else np.empty((len(arrays[0]) if arrays else 0, 0))
    return Columns(names, numeric, stacked, texts, where)


def is_number(text: str) -> bool:
    """Whether a cell holds a number or a missing value (ASCII decimals, empty, ``?``,
    ``NaN``)."""
    text = text.strip()
    return bool(DECIMAL.fullmatch(text)) or text.lower() in ("", "?", "nan")


def _value_like(text: str) -> bool:
    """A number, a missing value or an infinity: what a line of data holds (an infinity is
    then an error naming it, not a column name)."""
    return is_number(text) or text.strip().lower().lstrip("+-") in ("inf", "infinity")


def is_header(fields: list[str]) -> bool:
    """Whether a text table's first line names its columns (see the module)."""
    first, rest = fields[0].strip(), [f.strip() for f in fields[1:]]
    if not rest:
        return not _value_like(first)
    if not all(_value_like(f) for f in rest) or not first:
        return True
    if first.lower() in (*LABEL_COLUMNS, *ID_COLUMNS, *TIME_COLUMNS):
        return True
    counted = [float(f) if DECIMAL.fullmatch(f) else math.nan for f in rest]
    return not is_number(first) and counted in (list(range(len(rest))),
                                                 list(range(1, len(rest) + 1)))


def first_line(path: Path) -> tuple[list[str], str, int] | None:
    """(fields, delimiter, line number) of a text table's first line that is not blank, or
    None when there is none."""
    with text_file(path) as handle:
        numbered = ((i, line) for i, line in enumerate(handle, start=1) if line.strip())
        number_, line = next(numbered, (0, ""))
    if not number_:
        return None
    if path.name.endswith((".tsv", ".tsv.gz")):
        delimiter = "\t"
    else:
        delimiter = max(_DELIMITERS, key=line.count)
        delimiter = delimiter if line.count(delimiter) else ","
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter)), delimiter, number_


def text_header(path: Path) -> tuple[list[str], str, int] | None:
    """(column names, delimiter, line number) of a text table's header, or None when its
    first line is data (the UCR layout) or the file holds no line."""
    first = first_line(path)
    return first if first is not None and is_header(first[0]) else None


def _row_lines(path: Path, delimiter: str, header_line: int) -> Callable[[int], str]:
    def where(row: int) -> str:
        with text_file(path) as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            seen = -1
            for fields in reader:
                if reader.line_num > header_line and any(c.strip() for c in fields):
                    seen += 1
                    if seen == row:
                        return f"{path.name}, line {reader.line_num}"
        return f"{path.name}, data row {row + 1}"
    return where


def read_text_columns(path: Path, names: list[str], delimiter: str, header_line: int,
               text: set[str]) -> Columns:
    """The columns of a text table: numpy's parser, or row by row when it refuses the file."""
    where = _row_lines(path, delimiter, header_line)
    numeric = [n for n in names if n not in text]
    vocab: dict[int, dict[str, int]] = {j: {} for j, n in enumerate(names) if n in text}

    def coded(codes: dict[str, int]) -> Callable[[str], float]:
        return lambda cell: codes.setdefault(cell.strip(), len(codes))

    plain, decimal = _plain(path)
    fast = _read_arrow(path, names, delimiter, header_line, text, where) if decimal else None
    if fast is not None:
        return fast
    try:
        if not plain:
            raise ValueError("read row by row")
        with text_file(path) as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": said below
            for _ in range(header_line):
                handle.readline()
            table = np.loadtxt(handle, dtype=np.float64, delimiter=delimiter, quotechar='"',
                               comments=None, ndmin=2,
                               converters={j: coded(codes) for j, codes in vocab.items()})
        if table.shape[1] != len(names) or np.isinf(table).any():
            raise ValueError("read row by row")
    except ValueError:
        return _read_rows(path, names, delimiter, header_line, text, where)
    texts = {names[j]: np.array([c or None for c in codes], dtype=object)[
        table[:, j].astype(np.int64)] for j, codes in vocab.items()}
    keep = [j for j, n in enumerate(names) if n not in text]
    return Columns(names, numeric, table[:, keep], texts, where)


def _plain(path: Path) -> tuple[bool, bool]:
    """(whether the file is ASCII without ``_``, whether it holds no ``0x``): numpy's parser
    takes ``1_000`` and non-ASCII digits, pyarrow's hexadecimal numbers, where timedist takes
    ASCII decimals only (the row reader then names the value)."""
    try:
        with (gzip.open(path) if path.suffix == ".gz" else path.open("rb")) as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error):
        return False, False  # the row reader names the damage
    return data.isascii() and b"_" not in data, b"0x" not in data.lower()


def _read_arrow(path: Path, names: list[str], delimiter: str, header_line: int,
                text: set[str], where: Callable[[int], str]) -> Columns | None:
    """pyarrow's parser (several threads) when pyarrow is installed; None without it or when
    it finds what the row-by-row reader must name (a ragged row, text where numbers go)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pc
    except ImportError:
        return None
    try:
        table = pc.read_csv(
            path, read_options=pc.ReadOptions(column_names=names, skip_rows=header_line),
            parse_options=pc.ParseOptions(delimiter=delimiter),
            convert_options=pc.ConvertOptions(
                column_types={n: pa.string() for n in text}, null_values=["", "?", "NaN", "nan"],
                strings_can_be_null=True, quoted_strings_can_be_null=True))
    except (pa.ArrowException, OSError):  # damaged gzip, undecodable text: said row by row
        return None
    for name, kind in zip(table.column_names, table.schema.types, strict=True):
        if pa.types.is_boolean(kind) or (pa.types.is_temporal(kind) and (
                name.strip().lower() not in TIME_COLUMNS)):
            return None  # words or dates where numbers go: the row reader names them
    columns = arrow_columns(table, path.name, where)
    if columns is None or set(columns.texts) - text or np.isinf(columns.numbers).any():
        return None
    return columns


def arrow_columns(table: Any, who: str, where: Callable[[int], str]) -> Columns | None:
    """A pyarrow table's columns (:func:`columns_of`), or None when one holds something
    other than numbers, dates and times, or text."""
    import pyarrow as pa

    arrays = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_decimal(kind) or pa.types.is_null(kind):
            column = column.cast(pa.float64())
        elif pa.types.is_temporal(kind):
            column = column.cast(pa.timestamp("ns") if pa.types.is_date(kind) else kind)
        elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(
                kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return None
        if column.null_count and (pa.types.is_integer(column.type) or pa.types.is_boolean(
                column.type)):
            column = column.cast(pa.float64())  # nulls as NaN (integers past 2**53 rounded)
        arrays.append(column.to_numpy(zero_copy_only=False))
    return columns_of(list(table.column_names), arrays, where)


def _read_rows(path: Path, names: list[str], delimiter: str, header_line: int,
               text: set[str], where: Callable[[int], str]) -> Columns:
    """Row by row: empty cells, ``?`` and ``NaN`` are missing; anything else that is not a
    number in a number column is a TsFormatError naming its line and column."""
    width = len(names)
    numbers_at = [j for j, n in enumerate(names) if n not in text]
    texts_at = [j for j, n in enumerate(names) if n in text]
    rows: list[np.ndarray] = []
    cells: list[list[str | None]] = []
    with text_file(path) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for fields in reader:
            line = reader.line_num
            if line <= header_line or not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line (a row of empty cells is a row of missing values)
            at = f"{path.name}, line {line}"
            if len(fields) != width:
                raise TsFormatError(f"{at}: expected {width} fields like the header (line "
                                    f"{header_line}; a shorter series ends in empty cells or "
                                    f"NaN); got {len(fields)}")
            values = [fields[j] for j in numbers_at]
            try:
                joined = "".join(values)
                if not joined.isascii() or "_" in joined:
                    raise ValueError  # float() takes these; an archive file's values do not
                row = np.array(values, dtype=np.float64)
                if np.isinf(row).any():
                    raise ValueError
            except ValueError:
                row = np.array([number(fields[j], f"{at}, column {j + 1} ({names[j]!r})")
                                for j in numbers_at], dtype=np.float64)
            rows.append(row)
            cells.append([fields[j].strip() or None for j in texts_at])
    numbers = np.stack(rows) if rows else np.empty((0, len(numbers_at)))
    texts = {names[j]: np.array([c[i] for c in cells], dtype=object)
             for i, j in enumerate(texts_at)}
    return Columns(names, [names[j] for j in numbers_at], numbers, texts, where)


def read_parquet_columns(path: Path) -> Columns:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(f"{path.name}: reading .parquet files needs pyarrow: pip install "
                          "'timedist[tables]'") from None
    try:
        schema = pq.read_schema(path)
        check_names([n if n.strip() else "_" for n in schema.names], path.name)
        index = [c for c in (schema.pandas_metadata or {}).get("index_columns", [])
                 if isinstance(c, str) and c in schema.names]  # a DataFrame's own index
        if len(index) == 2:  # (instance, time): a long frame's columns, kept
            index = []
        table = pq.read_table(path, columns=[n for n in schema.names if n not in index])
        table = table.rename_columns([{"__index_level_0__": "instance",
                                       "__index_level_1__": "time"}.get(n, n)
                                      for n in table.column_names])
    except (pa.ArrowException, OSError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TsFormatError(f"{path.name}: expected a Parquet file; {message}") from None
    columns = arrow_columns(table, path.name, lambda row: f"{path.name}, row {row + 1}")
    if columns is None:
        kinds = [f"{n!r} ({t})" for n, t in zip(table.column_names, table.schema.types,
                                                strict=True)]
        raise TsFormatError(f"{path.name}: expected columns of numbers or text; got "
                            f"{', '.join(kinds)[:200]}")
    columns.check_finite()
    columns.left_out = index
    return columns


def check_names(names: list[str], who: str) -> list[int]:
    """The blank names' places (only the first column may have none: a row index); a name
    given twice is a TsFormatError."""
    blank = [i for i, n in enumerate(names) if not n.strip()]
    if blank not in ([], [0]):
        raise TsFormatError(f"{who}: expected a name for every column; column {blank[-1] + 1} "
                            "has none")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise TsFormatError(f"{who}: expected each column name once; got {twice!r} twice")
    return blank
