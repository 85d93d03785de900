"""Readers for the archives' own text files: UCR ``.tsv``/``.txt`` and UEA/Weka ``.arff``
(plain or gzipped), read as the ``.ts`` twins of the same data are.

**UCR** (``Coffee_TRAIN.tsv``; older copies ``.txt``): one series per line, the label first,
then the values, separated by tabs, commas or whitespace (whichever the line uses). Labels are
class names; a label written as a number (``1``, ``-1``, ``1.0000000e+00``) is named by its
integer when it is integral (``1``), so the classes read the same in every copy of a file, and
are ordered as numbers (``1 2 10``), else as text. Variable-length sets are padded at the end
with ``NaN``: trailing missing values shorten the series; a missing value inside one stays
missing (``NaN``, as in ``.ts``).

**ARFF** (the UEA archive beside ``.ts``; Weka): ``@relation``, ``@attribute`` lines, ``@data``.
Univariate files have one numeric attribute per step; multivariate ones one *relational*
attribute whose value is a quoted block of channels separated by ``\\n``, each channel's steps
separated by commas. The last attribute is the target: nominal (``{a,b,c}``: classes in that
order) or numeric (regression). ``?`` is missing; trailing missing steps (in every channel)
shorten the series. Comments start with ``%``.

Any other content is a :class:`TsFormatError` naming the file, the line and, for a value, its
column: what was expected and what was found.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from torch import Tensor

from .._checks import DECIMAL
from .dataset import SequenceDataset
from .labels import label_names
from .ts import TsFormatError, data_section, number, text_lines

__all__ = ["ARCHIVE_SUFFIXES", "class_label", "class_order", "class_targets", "read_arff",
           "read_ucr"]

ARCHIVE_SUFFIXES = (".tsv", ".tsv.gz", ".txt", ".txt.gz", ".arff", ".arff.gz")


def _trimmed(values: Tensor) -> Tensor:
    """(T, C) without the trailing steps where every channel is missing."""
    present = ~torch.isnan(values).all(1)
    last = int(present.nonzero().max()) + 1 if bool(present.any()) else 0
    return values[:last]


def class_order(names: list[str]) -> list[str]:
    """Classes ordered as numbers when every name is an integer (``-1 1 2 10``), else as text."""
    if all(re.fullmatch(r"[+-]?\d+", name) for name in names):
        return sorted(names, key=int)
    return sorted(names)


def class_label(text: str, where: str) -> str:
    """A UCR label's class name: a number written in ASCII decimals by its value (an integral
    one as an integer: ``1.0000000e+00`` is ``1``; ``1.50`` is ``1.5``), anything else as
    written. A blank label or one that reads as a missing value is an error."""
    text = text.strip()
    if not text or text.lower() in ("?", "nan", "inf", "+inf", "-inf", "infinity"):
        why = ("" if not text else " (not a finite number)" if "inf" in text.lower() else
               " (a missing value)")
        raise TsFormatError(f"{where}: expected a class label; got {text!r}{why}")
    if not DECIMAL.fullmatch(text):
        return text
    if re.fullmatch(r"[+-]?\d+", text):
        return str(int(text))  # exactly, past 2**53 too
    value = float(text)
    if not math.isfinite(value):
        raise TsFormatError(f"{where}: expected a class label; got {text!r} (not a finite "
                            "number)")
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def class_targets(labels: list[str], order: list[str], where: str) -> tuple[Tensor, list[str]]:
    """(class indices (N,), class names) of ``labels`` named in ``order`` (checked: blank or
    look-alike names are a TsFormatError naming ``where``)."""
    try:
        classes = label_names(order, where)
    except ValueError as error:  # blank or look-alike labels
        raise TsFormatError(str(error)) from None
    index = {label: i for i, label in enumerate(classes)}
    return torch.tensor([index[label] for label in labels], dtype=torch.long), classes


def _classified(sequences: list[Tensor], labels: list[str], order: list[str], name: str,
                where: str) -> SequenceDataset:
    targets, classes = class_targets(labels, order, where)
    return SequenceDataset(sequences, targets, classes=classes, name=name)


def read_ucr(path: str | Path, *, name: str | None = None) -> SequenceDataset:
    """A UCR ``.tsv``/``.txt`` file (plain or ``.gz``) as a :class:`SequenceDataset` of
    univariate series x_i (T_i, 1) with class labels (see the module for the format)."""
    path = Path(path)
    sequences: list[Tensor] = []
    labels: list[str] = []
    width: tuple[int, int] | None = None  # (values per line, its line)
    for number_, line in text_lines(path, strip=False):
        where = f"{path.name}, line {number_}"
        if not line.strip():
            continue
        separator = "\t" if "\t" in line else "," if "," in line else None
        fields = line.split(separator)  # a blank label keeps its column (tabs, commas)
        label = class_label(fields[0], f"{where}, column 1")
        if len(fields) < 2:
            raise TsFormatError(f"{where}: expected a label then the series' values; got "
                                f"{line[:40]!r}")
        values = [number(text, f"{where}, column {column}")
                  for column, text in enumerate(fields[1:], start=2)]
        if width is None:
            width = (len(values), number_)
        elif len(values) != width[0]:
            raise TsFormatError(f"{where}: expected {width[0]} values like line {width[1]} "
                                f"(shorter series end in NaN in the archive's files); got "
                                f"{len(values)}")
        series = _trimmed(torch.tensor(values, dtype=torch.float64)[:, None])
        if len(series) == 0:
            raise TsFormatError(f"{where}: expected at least one value; got only missing ones")
        sequences.append(series)
        labels.append(label)
    if not sequences:
        raise TsFormatError(f"{path.name}: expected series, one per line; found none")
    return _classified(sequences, labels, class_order(sorted(set(labels))), name or path.name,
                       path.name)


_ATTRIBUTE = re.compile(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s+(.*)", re.IGNORECASE)


def _fields(text: str, where: str) -> list[str]:
    """One ARFF line split at its top-level commas, as Weka reads it: a value that starts with
    a quote runs to the matching quote (a backslash escapes a quote or a backslash inside;
    ``\\n`` stays as written: it separates a relational value's channels); quotes inside an
    unquoted value are characters."""
    fields: list[str] = []
    current: list[str] = []
    quote, escaped = "", False
    for char in text:
        if quote:
            if escaped:
                current.append(char if char in "'\"\\" else "\\" + char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
            else:
                current.append(char)
        elif char in "'\"" and not "".join(current).strip():
            quote, current = char, []
        elif char == ",":
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quote:
        raise TsFormatError(f"{where}: expected a closing {quote}; the line ends first")
    fields.append("".join(current).strip())
    return fields


def read_arff(path: str | Path, *, name: str | None = None) -> SequenceDataset:
    """A UEA/Weka ``.arff`` file (plain or ``.gz``) as a :class:`SequenceDataset`: x_i
    (T_i, C) and class labels (a nominal last attribute, in its declared order) or regression
    targets (a numeric one). See the module for the format."""
    path = Path(path)
    kinds: list[str] = []  # "numeric" or "relational" per input attribute, then the target's
    classes: list[str] | None = None
    regression = False
    nested = False  # inside a relational attribute's declaration
    steps = 0  # the numeric steps a relational attribute declares
    in_data = False
    sequences: list[Tensor] = []
    targets: list[int | float] = []
    for number_, line in text_lines(path):
        where = f"{path.name}, line {number_}"
        if not line or line.startswith("%"):
            continue
        lowered = line.lower()
        if not in_data:
            if lowered.startswith("@relation"):
                continue
            if lowered.split()[0] == "@end":
                if nested and steps == 0:
                    raise TsFormatError(f"{where}: expected numeric steps inside the relational "
                                        "attribute; found none")
                nested = False
                continue
            if lowered.split()[0] == "@data":
                if lowered != "@data":
                    raise TsFormatError(f"{where}: expected '@data' alone on its line; got "
                                        f"{line[:40]!r}")
                if nested:
                    raise TsFormatError(f"{where}: expected '@end' to close the relational "
                                        "attribute before '@data'")
                if classes is None and not regression:
                    raise TsFormatError(f"{where}: expected a nominal or numeric target as the "
                                        "last @attribute; found none")
                if not kinds:
                    raise TsFormatError(f"{where}: expected the series' attributes before the "
                                        "target; found only the target")
                in_data = True
                continue
            found = _ATTRIBUTE.fullmatch(line)
            if found is None:
                raise TsFormatError(f"{where}: expected @relation, @attribute, @end or @data; "
                                    f"got {line[:40]!r}")
            kind = found.group(2).strip()
            if nested:
                if kind.lower() not in ("numeric", "real", "integer"):
                    raise TsFormatError(f"{where}: expected numeric steps inside a relational "
                                        f"attribute; got {kind[:40]!r}")
                steps += 1
                continue
            if classes is not None or regression:  # the target was not the last attribute
                kinds.append("numeric" if regression else "nominal")
                classes, regression = None, False
                if kinds[-1] == "nominal":
                    raise TsFormatError(f"{where}: expected the nominal class attribute last; "
                                        "another attribute follows it")
            if kind.lower() == "relational":
                kinds.append("relational")
                nested, steps = True, 0
            elif kind.startswith("{"):
                if not kind.endswith("}"):
                    raise TsFormatError(f"{where}: expected a nominal type {{a,b,c}}; got "
                                        f"{kind[:40]!r}")
                try:
                    classes = label_names(_fields(kind[1:-1], where), where)
                except ValueError as error:
                    raise TsFormatError(str(error)) from None
            elif kind.lower() in ("numeric", "real", "integer"):
                regression = True  # the target if it is the last attribute
            else:
                raise TsFormatError(f"{where}: expected a numeric, relational or nominal "
                                    f"attribute; got {kind[:40]!r}")
            continue
        fields = _fields(line, where)
        inputs = len(kinds)
        if len(fields) != inputs + 1:
            raise TsFormatError(f"{where}: expected {inputs + 1} values (the attributes); got "
                                f"{len(fields)}")
        if kinds and kinds[0] == "relational":
            if inputs != 1:
                raise TsFormatError(f"{where}: expected one relational attribute then the "
                                    f"target; got {inputs} input attributes")
            channels = [[number(v, f"{where}, channel {c}") for v in text.split(",")]
                        for c, text in enumerate(re.split(r"\\n|\n", fields[0]), start=1)]
            sizes = [len(channel) for channel in channels]
            if set(sizes) != {steps}:
                raise TsFormatError(f"{where}: expected channels of {steps} step"
                                    f"{'s' * (steps != 1)} each (the "
                                    f"relational attribute's); got lengths {sizes}")
            values = torch.tensor(channels, dtype=torch.float64).t()
        else:
            values = torch.tensor([number(v, f"{where}, column {c}")
                                   for c, v in enumerate(fields[:-1], start=1)],
                                  dtype=torch.float64)[:, None]
        series = _trimmed(values)
        if len(series) == 0:
            raise TsFormatError(f"{where}: expected at least one value; got only missing ones")
        if sequences and series.shape[1] != sequences[0].shape[1]:
            raise TsFormatError(f"{where}: expected {sequences[0].shape[1]} channels like the "
                                f"first sample; got {series.shape[1]}")
        target = fields[-1]
        if classes is not None:
            if target not in classes:
                raise TsFormatError(f"{where}: expected a class declared in the header "
                                    f"{classes}; got {target[:40]!r}")
            targets.append(classes.index(target))
        else:
            value = number(target, f"{where}, the target")
            if math.isnan(value):
                raise TsFormatError(f"{where}: expected a regression target; got {target!r}")
            targets.append(value)
        sequences.append(series)
    return data_section(path, in_data, sequences, targets, classes, name,
                        regression=classes is None)
