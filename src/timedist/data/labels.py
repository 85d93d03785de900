"""Class labels as names: one rule for every source (.ts headers, .npz arrays, clip folders
and manifests, the estimators' ``y``).

A label's name is its text: bytes are decoded as UTF-8 (``b'cat'`` is ``cat``, never
``"b'cat'"``), numbers are written as Python writes them (``1``, ``1.5``, ``True``). A blank
name, or two labels with the same name (``b'cat'`` and ``'cat'``), is a ValueError naming
``where``: a class that cannot be told apart from another, or named by nothing, would be a
dead or ambiguous output.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._checks import shorten

__all__ = ["label_name", "label_names"]


def label_name(value: Any, where: str) -> str:
    """One label's name (see the module); ValueError naming ``where`` if it is blank or bytes
    that are not UTF-8."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars: 1, not np.int64(1)
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{where}: expected labels as text; got {shorten(value)}, bytes "
                             "that are not UTF-8") from None
    name = str(value)
    if not name.strip():
        raise ValueError(f"{where}: expected a non-blank label; got {shorten(name)}")
    return name


def label_names(values: Sequence[Any], where: str) -> list[str]:
    """The names of distinct label values, in their order; ValueError naming ``where`` if one
    is blank or two share a name."""
    names: dict[str, Any] = {}
    for value in values:
        name = label_name(value, where)
        if name in names:
            raise ValueError(f"{where}: labels {shorten(names[name])} and {shorten(value)} both "
                             f"read as {name!r}; expected labels that differ as text")
        names[name] = value
    return list(names)
