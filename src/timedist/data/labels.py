"""Class labels as names: one rule for every source (.ts headers, .npz arrays, clip folders
and manifests, the estimators' ``y``).

A label's name is its text: bytes are decoded as UTF-8 (``b'cat'`` is ``cat``, never
``"b'cat'"``), numbers are written as Python writes them (``1``, ``1.5``, ``True``). A blank
name (nothing visible: spaces, zero-width or control characters only), or two labels that read
the same (``b'cat'`` and ``'cat'``; ``'cat'`` and ``'cat\u200b'``; an accent composed or not)
is a ValueError naming ``where``: a class that cannot be told apart from another, or named by
nothing, would be a dead or ambiguous output.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from .._checks import shorten

_INVISIBLE = ("Cc", "Cf", "Co", "Cn", "Zs", "Zl", "Zp")  # controls, format (zero-width), spaces


def _seen(name: str) -> str:
    """What a reader sees of ``name``: its visible characters, composed (NFKC)."""
    return "".join(c for c in unicodedata.normalize("NFKC", name)
                   if unicodedata.category(c) not in _INVISIBLE)


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
    if not _seen(name):
        raise ValueError(f"{where}: expected a non-blank label; got {shorten(name)}")
    return name


def label_names(values: Sequence[Any], where: str) -> list[str]:
    """The names of distinct label values, in their order; ValueError naming ``where`` if one
    is blank or two share a name."""
    names: dict[str, Any] = {}
    seen: dict[str, Any] = {}
    for value in values:
        name = label_name(value, where)
        if name in names or _seen(name) in seen:
            first = names.get(name, seen.get(_seen(name)))
            raise ValueError(f"{where}: labels {shorten(first)} and {shorten(value)} both "
                             f"read as {_seen(name)!r}; expected labels that differ in what "
                             "they show")
        names[name], seen[_seen(name)] = value, value
    return list(names)
