"""Argument and shape validation, and the one error template every public layer uses.

Every shape error reads ``"<Layer>: expected <pattern>; got shape <shape>[ <where>][. <hint>]"``,
for example ``"TimeDistributed(Conv2d): expected input (B, T, C, H, W) with C=3; got shape
(8, 3, 64, 64)"``. Raise them at the public boundary, before torch sees the bad tensor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import torch

__all__ = [
    "check_choice",
    "check_optional_positive_int",
    "format_shape",
    "layer_name",
    "shape_error",
    "shorten",
    "shorten_text",
    "standardize_tuple",
    "tracing",
    "type_error",
    "value_error",
]


def tracing() -> bool:
    """True while torch.compile, torch.export (and so ONNX's exporter) or torch.jit traces.

    Checks of tensor *values* (lengths in range, a mask's prefix form) and shortcuts decided on
    values ("nothing is padded") need the data on the host: they run in eager mode only. A
    traced graph takes the one value-independent path instead (selection with ``torch.where``,
    no ``nonzero``, no packing), so it stays exact for every batch it is later run on.
    """
    return bool(torch.compiler.is_compiling() or torch._C._is_tracing())


LIMIT = 200  # characters of a value shown in an error message
RUN_MARKER = ".timedist-run.json"  # proves a folder a timedist run (runs/marker.py); never data

# A decimal number as people write it in text (a .ts file, a config file): ASCII digits, an
# optional sign, point and exponent. (float() would also take '1_000', full-width digits and
# 'infinity'; YAML 1.1 reads '1e-3', without a point, as text.)
DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def shorten(value: object, limit: int = LIMIT) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters: a huge value
    (a YAML alias bomb, a megabyte-long line) never floods the terminal.

    >>> shorten("cat"), shorten(list(range(100)), 40)
    ("'cat'", '[0, 1, 2, 3, 4, ... (390 characters)')
    """
    return shorten_text(repr(value), limit)


def shorten_text(text: str, limit: int = LIMIT) -> str:
    """``text`` (already formatted) cut to about ``limit`` characters, saying how long it
    was."""
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 24, 8)]}... ({len(text)} characters)"


def middle_cut(word: str, limit: int = LIMIT) -> str:
    """``word`` (a path, say) with its middle cut when longer than ``limit``: it keeps its
    start and its end (the file name), saying how long it was.

    >>> middle_cut("/data/" + "x" * 300 + "/train.ts", 60)
    '/data/xxxx...(315 characters)...xxxxxxxxxxxxxxxxxxxxx/train.ts'
    """
    if len(word) <= limit:
        return word
    return f"{word[: max(limit // 2 - 20, 8)]}...({len(word)} characters)...{word[-(limit // 2):]}"


def format_shape(shape: Iterable[int]) -> str:
    """``(8, 3, 64, 64)``; a 1-tuple prints as ``(8,)`` like Python does."""
    dims = tuple(int(d) for d in shape)
    return str(dims)


def layer_name(wrapper: str, module: torch.nn.Module | None = None) -> str:
    """The name used at the start of every message: ``"TimeDistributed(Conv2d)"``."""
    return wrapper if module is None else f"{wrapper}({type(module).__name__})"


def shape_error(
    layer: str,
    expected: str,
    shape: Iterable[int],
    *,
    where: str = "",
    hint: str = "",
) -> ValueError:
    """Build (not raise) the ValueError for a tensor of the wrong shape.

    Args:
        layer: who complains, e.g. ``"TimeDistributed(Linear)"``.
        expected: the pattern, e.g. ``"input (B, T, ...) of rank >= 3"``.
        shape: the full received shape.
        where: which tensor, e.g. ``"at inputs[1]"`` (optional).
        hint: the obvious fix, when there is one (optional).
    """
    message = f"{layer}: expected {expected}; got shape {format_shape(shape)}"
    if where:
        message += f" {where}"
    if hint:
        message += f". {hint}"
    return ValueError(message)


def value_error(layer: str, expected: str, got: object, *, hint: str = "") -> ValueError:
    """Build the ValueError for a bad argument value: ``"<Layer>: expected <x>; got <value>"``."""
    message = f"{layer}: expected {expected}; got {shorten(got)}"
    if hint:
        message += f". {hint}"
    return ValueError(message)


def type_error(layer: str, expected: str, got: object) -> TypeError:
    """Build the TypeError for an argument of the wrong type: ``"... expected X; got float"``."""
    return TypeError(f"{layer}: expected {expected}; got {type(got).__name__}")


def check_choice(layer: str, name: str, value: object, choices: Sequence[object]) -> None:
    """Raise ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise value_error(layer, f"{name} to be one of {options}", value)


def check_optional_positive_int(layer: str, name: str, value: object) -> int | None:
    """Return ``value`` as an int (or None); raise TypeError/ValueError if it is not >= 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise type_error(layer, f"{name} to be an int or None", value)
    if value < 1:
        raise value_error(layer, f"{name} >= 1 or None", value)
    return value


def standardize_tuple(layer: str, name: str, value: object, rank: int) -> tuple[int, ...]:
    """An int or a ``rank``-tuple of ints >= 1 as a ``rank``-tuple (Keras' standardize_tuple)."""
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(values, (tuple, list)) or len(values) != rank or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in values
    ):
        raise value_error(layer, f"{name} to be an int or a tuple of {rank} ints", value)
    if min(values) < 1:
        raise value_error(layer, f"{name} >= 1", value)
    return tuple(values)
