"""Reader for the UEA/UCR ``.ts`` time-series format (plain or gzipped).

What the archive's files and the readers of aeon and sktime accept: comment lines starting with
``#`` or ``%`` (anywhere), blank lines, a UTF-8 byte-order mark, Windows line ends, header tags
in any case (``@problemName`` = ``@problemname``) with any spacing, unknown tags (skipped), then
``@data``. Header tags: ``@univariate``, ``@dimension(s)``, ``@equalLength``,
``@seriesLength``, ``@missing``, ``@timeStamps false``, ``@classLabel true a b c`` (or
``false``), ``@targetLabel true`` (regression). After ``@data`` every line is one sample:
channels separated by ``:``, values by ``,``, the class label or regression target last. Values
are decimal numbers in ASCII (``-1.5``, ``2e-3``); ``?``, ``NaN`` and empty values are missing
(NaN). Channels of one sample have the same length; samples may differ, except that a numeric
``@seriesLength`` fixes every sample's length unless ``@equalLength false``. A header declares
``@classLabel true`` or ``@targetLabel true``, never both. Anything else is a
:class:`TsFormatError` naming the file and the line.
"""

from __future__ import annotations

import gzip
import math
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import torch
from torch import Tensor

from .._checks import DECIMAL
from .dataset import SequenceDataset
from .labels import label_names

__all__ = ["TsFormatError", "data_section", "number", "read_ts", "text_file", "text_lines"]

_MISSING = ("?", "nan", "")
_INFINITE = re.compile(r"[+-]?inf(inity)?", re.IGNORECASE)
_BOOLEAN_TAGS = ("univariate", "equallength", "missing", "timestamps", "targetlabel")


class TsFormatError(ValueError):
    """A malformed .ts file; the message names the file, the line and what was expected."""


@dataclass
class _Header:
    tags: dict[str, str] = field(default_factory=dict)
    classes: list[str] | None = None
    regression: bool = False

    @property
    def labelled(self) -> bool:
        return self.classes is not None or self.regression


@contextmanager
def text_file(path: Path) -> Iterator[TextIO]:
    """A UTF-8 text file opened to read, plain or gzipped (``.gz``), its byte-order mark
    dropped; a file that is not UTF-8 or not the gzip it is named, found while reading in the
    ``with`` block, is a TsFormatError naming it."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:  # type: ignore[operator]
            yield handle
    except UnicodeDecodeError as error:
        raise TsFormatError(f"{path.name}: expected a UTF-8 text file; got bytes that are not "
                            f"({error.reason})") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:  # zlib: a damaged body
        raise TsFormatError(f"{path.name}: expected a gzip-compressed file; {error}"
                            ) from None


def text_lines(path: Path, *, strip: bool = True) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 text file, plain or gzipped (:func:`text_file`): stripped
    of surrounding whitespace, or (``strip=False``) only of its line end."""
    with text_file(path) as handle:
        for index, line in enumerate(handle, start=1):
            yield index, line.strip() if strip else line.rstrip("\r\n")


def number(text: str, where: str) -> float:
    """One value as written in an archive file: a decimal number, or missing (``?``, ``NaN``,
    empty: NaN); anything else, infinities included, is a TsFormatError naming ``where``."""
    text = text.strip()
    if text.lower() in _MISSING:
        return math.nan
    if not DECIMAL.fullmatch(text) and not _INFINITE.fullmatch(text):
        raise TsFormatError(f"{where}: expected a number, '?' or NaN; got {text[:40]!r}")
    value = float(text)
    if math.isinf(value):
        raise TsFormatError(f"{where}: expected a finite number ('?' or NaN for a missing "
                            f"value); got {text!r}")
    return value


def _boolean(key: str, words: list[str], where: str) -> bool:
    if len(words) != 1 or words[0].lower() not in ("true", "false"):
        raise TsFormatError(f"{where}: expected @{key} true or false; got "
                            f"{' '.join(words)!r}")
    return words[0].lower() == "true"


def _header_line(header: _Header, line: str, where: str) -> bool:
    """Read one header line into ``header``; True when it is ``@data``."""
    if not line.startswith("@"):
        raise TsFormatError(f"{where}: expected '#', '%', '@' metadata or '@data'; got "
                            f"{line[:40]!r}")
    spelled, *words = line[1:].split()
    key = spelled.lower()
    if key == "data":
        return True
    given = header.tags.get(key)
    value = " ".join(words)
    if given is not None and given.lower() != value.lower():  # which one is meant is unclear
        raise TsFormatError(f"{where}: expected @{spelled} once; given before as {given[:40]!r}, "
                            f"here {value[:40]!r}")
    if key == "classlabel":
        if not words:
            raise TsFormatError(f"{where}: expected @classLabel true <labels> or false")
        if _boolean(key, words[:1], where):
            if header.regression:
                raise TsFormatError(f"{where}: expected @classLabel or @targetLabel, not both")
            if len(words) < 2:
                raise TsFormatError(f"{where}: expected the class labels after @classLabel "
                                    "true; got none")
            try:  # a label declared twice is one; two that look alike are an error
                header.classes = label_names(list(dict.fromkeys(words[1:])), where)
            except ValueError as error:
                raise TsFormatError(str(error)) from None
        header.tags[key] = value
        return False
    if key in _BOOLEAN_TAGS:
        true = _boolean(key, words, where)
        if key == "targetlabel":
            if true and header.classes is not None:
                raise TsFormatError(f"{where}: expected @classLabel or @targetLabel, not both")
            header.regression = true
        elif key == "timestamps" and true:
            raise TsFormatError(f"{where}: expected @timeStamps false; files with time stamps "
                                "are not supported (export the values only)")
        header.tags[key] = str(true).lower()
        return False
    if key == "serieslength" and not (value.isascii() and value.isdigit() and int(value) > 0):
        raise TsFormatError(f"{where}: expected @seriesLength <steps>, a positive integer; got "
                            f"{value[:40]!r}")
    header.tags[key] = value  # problemname, dimensions, serieslength, unknown tags
    return False


def _sample(header: _Header, line: str, where: str) -> tuple[Tensor, str | None]:
    """One data line -> (values (T, C), the label text or None)."""
    fields = line.split(":")
    if header.labelled and len(fields) < 2:
        raise TsFormatError(f"{where}: expected channels then a label after ':'; got "
                            f"{line[:40]!r}")
    channel_fields = fields[:-1] if header.labelled else fields
    channels = []
    for text in channel_fields:
        words = text.split(",")
        if len(words) > 1 and not words[-1].strip():  # a trailing comma
            words = words[:-1]
        channels.append([number(v, where) for v in words])
    sizes = [len(c) for c in channels]
    if len(set(sizes)) != 1:
        raise TsFormatError(f"{where}: expected channels of equal length within a sample; "
                            f"got lengths {sizes}")
    dims = header.tags.get("dimensions") or header.tags.get("dimension")
    if dims is not None and dims.isdigit() and len(channels) != int(dims):
        raise TsFormatError(f"{where}: expected {dims} channels (@dimensions); got "
                            f"{len(channels)}")
    if header.tags.get("univariate") == "true" and len(channels) != 1:
        raise TsFormatError(f"{where}: expected 1 channel (@univariate true); got "
                            f"{len(channels)}")
    values = torch.tensor(channels, dtype=torch.float64).t()  # (T_i, C), exact as written
    return values, (fields[-1].strip() if header.labelled else None)


def read_ts(path: str | Path, *, require_targets: bool = False, name: str | None = None
            ) -> SequenceDataset:
    """Read a .ts file into a :class:`SequenceDataset`.

    Samples keep their own length: x_i is (T_i, C). Class labels become indices into
    ``dataset.classes`` (the ``@classLabel`` order); regression targets (``@targetLabel true``)
    a float tensor (N,). Errors (:class:`TsFormatError`, a ValueError) name the file and the
    line: a value that is not a number, infinite values, channels of unequal length in a
    sample, a wrong channel count, an undeclared label, a missing target, unequal lengths
    where ``@equalLength true`` says otherwise, no ``@data`` section or no samples — and, with
    ``require_targets`` (a training or evaluation file), a header that declares neither class
    labels nor regression targets (unlabelled samples get target 0 otherwise), and a tag given
    twice with different values. ``name``: the dataset's name, which later errors show
    (default: the file's name; ``@problemName`` is not a file a user could look for).
    """
    path = Path(path)
    header = _Header()
    sequences: list[Tensor] = []
    targets: list[float | int] = []
    in_data = False
    first_length: tuple[int, int] | None = None  # (length, line) of the first sample
    for line_number, line in text_lines(path):
        where = f"{path.name}, line {line_number}"
        if not line or line.startswith(("#", "%")):
            continue
        if not in_data:
            in_data = _header_line(header, line, where)
            if in_data and require_targets and not header.labelled:
                raise TsFormatError(f"{where}: expected '@classLabel true <labels>' or "
                                    "'@targetLabel true' in the header of a labelled file; "
                                    "found neither")
            continue
        values, label = _sample(header, line, where)
        declared = header.tags.get("serieslength")
        if declared is not None and header.tags.get("equallength") != "false" \
                and len(values) != int(declared):
            raise TsFormatError(f"{where}: expected {int(declared)} steps (@seriesLength); got "
                                f"{len(values)}")
        if header.tags.get("equallength") == "true":
            if first_length is None:
                first_length = (len(values), line_number)
            elif len(values) != first_length[0]:
                raise TsFormatError(f"{where}: expected {first_length[0]} steps like line "
                                    f"{first_length[1]} (@equalLength true); got {len(values)}")
        if header.classes is not None:
            if label not in header.classes:
                raise TsFormatError(f"{where}: expected a label declared in @classLabel "
                                    f"{header.classes}; got {label!r}")
            targets.append(header.classes.index(label))
        elif header.regression:
            target = number(label or "", where)
            if math.isnan(target):
                raise TsFormatError(f"{where}: expected a regression target; got {label!r}")
            targets.append(target)
        else:
            targets.append(0)
        sequences.append(values)
    return data_section(path, in_data, sequences, targets, header.classes, name,
                        regression=header.regression)


def data_section(path: Path, found: bool, sequences: list[Tensor], targets: list[int | float],
                 classes: list[str] | None, name: str | None, *, regression: bool
                 ) -> SequenceDataset:
    """The samples read after a file's ``@data`` line (``found``: whether there was one) as a
    dataset: regression targets (float64), or class indices (with ``classes``; zeros for
    unlabelled samples)."""
    if not found:
        raise TsFormatError(f"{path.name}: expected an '@data' line before the samples; "
                            "found none")
    if not sequences:
        raise TsFormatError(f"{path.name}: expected samples after '@data'; found none")
    dtype = torch.float64 if regression else torch.long
    return SequenceDataset(sequences, torch.tensor(targets, dtype=dtype), classes=classes,
                           name=name or path.name)
