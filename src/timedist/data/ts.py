"""Reader for the UEA/UCR ``.ts`` time-series format (plain or gzipped).

Header lines start with ``#`` (comments) or ``@`` (metadata: ``@problemName``,
``@univariate``, ``@dimensions``, ``@equalLength``, ``@classLabel true a b c`` or
``@targetLabel true``, then ``@data``). After ``@data`` every line is one sample: channels
separated by ``:``, values by ``,``, the class label or regression target last. ``?`` and
``NaN`` are missing values. Channels of one sample have the same length; samples may differ.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor

from .dataset import SequenceDataset

__all__ = ["TsFormatError", "read_ts"]


class TsFormatError(ValueError):
    """A malformed .ts file; the message names the file, the line and what was expected."""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
        for number, line in enumerate(handle, start=1):
            yield number, line.strip()


def _value(text: str, where: str) -> float:
    text = text.strip()
    if text in ("?", "NaN", "nan", ""):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise TsFormatError(f"{where}: expected a number, '?' or NaN; got {text!r}") from None


def read_ts(path: str | Path) -> SequenceDataset:
    """Read a .ts file into a :class:`SequenceDataset`.

    Samples keep their own length: x_i is (T_i, C). Class labels become indices into
    ``dataset.classes`` (the ``@classLabel`` order); regression targets (``@targetLabel true``)
    a float tensor. Errors (:class:`TsFormatError`, a ValueError) name the line: channels of
    unequal length in a sample, a wrong channel count, an undeclared label, a non-numeric value,
    a missing ``@data`` section.
    """
    path = Path(path)
    meta: dict[str, str] = {}
    classes: list[str] | None = None
    regression = False
    sequences: list[Tensor] = []
    targets: list[float | int] = []
    in_data = False
    for number, line in _lines(path):
        where = f"{path.name}, line {number}"
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise TsFormatError(f"{where}: expected '#', '@' metadata or '@data'; got "
                                    f"{line[:40]!r}")
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                in_data = True
            elif key == "classlabel":
                words = value.split()
                if words and words[0].lower() == "true":
                    classes = words[1:]
            elif key == "targetlabel":
                regression = value.split()[:1] == ["true"] or value.strip().lower() == "true"
            else:
                meta[key] = value.strip()
            continue
        fields = line.split(":")
        labelled = classes is not None or regression
        channel_fields = fields[:-1] if labelled else fields
        if labelled and len(fields) < 2:
            raise TsFormatError(f"{where}: expected channels then a label after ':'; got "
                                f"{line[:40]!r}")
        channels = [[_value(v, where) for v in field.split(",")] for field in channel_fields]
        sizes = {len(c) for c in channels}
        if len(sizes) != 1:
            raise TsFormatError(f"{where}: expected channels of equal length within a sample; "
                                f"got lengths {[len(c) for c in channels]}")
        dims = meta.get("dimensions")
        if dims is not None and len(channels) != int(dims):
            raise TsFormatError(f"{where}: expected {dims} channels (@dimensions); got "
                                f"{len(channels)}")
        sequences.append(torch.tensor(channels, dtype=torch.float32).t())  # (T_i, C)
        if classes is not None:
            label = fields[-1].strip()
            if label not in classes:
                raise TsFormatError(f"{where}: expected a label declared in @classLabel "
                                    f"{classes}; got {label!r}")
            targets.append(classes.index(label))
        elif regression:
            targets.append(_value(fields[-1], where))
        else:
            targets.append(0)
    if not in_data:
        raise TsFormatError(f"{path.name}: expected an '@data' line before the samples; "
                            "found none")
    dtype = torch.float32 if regression else torch.long
    return SequenceDataset(sequences, torch.tensor(targets, dtype=dtype), classes=classes,
                           name=meta.get("problemname", path.name.split(".")[0]))
