"""Folders of recordings: one series per file, laid out as own videos are (``<label>/<file>``,
optionally under ``train/``, ``val/``, ``test/``, or a manifest ``path,label``; see
:func:`~timedist.data.clips.find_clips` with ``recordings=True``), read into memory as a
:class:`SequenceDataset`.

A recording is a ``.csv``/``.tsv`` (plain or ``.gz``) or ``.parquet`` file whose rows are
steps and columns channels (:func:`~timedist.data.tables.read_recording`: a header and a time
column are recognised), or a ``.npy`` array (T,) or (T, C). Recordings may differ in length,
not in channels. A bad file is a :class:`TsFormatError` naming it, or with ``skip_bad`` is
left out and listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from .archive import class_order, class_targets
from .clips.discovery import Clip, ClipError
from .dataset import SequenceDataset
from .tables import read_recording
from .ts import TsFormatError

__all__ = ["read_recordings", "recording_values"]


def recording_values(path: Path) -> tuple[np.ndarray, list[str]]:
    """One recording's (T, C) float64 values and what was recognised reading it (see the
    module): trailing steps missing in every channel shorten it, a missing value inside stays
    NaN. TsFormatError names the file."""
    said: list[str] = []
    if path.name.lower().endswith(".npy"):
        values = _npy(path)
    else:
        values, said = read_recording(path)
    present = ~np.isnan(values).all(1)
    if not present.any():
        raise TsFormatError(f"{path.name}: expected at least one value; got only missing ones")
    return values[: int(np.flatnonzero(present)[-1]) + 1], said


def _npy(path: Path) -> np.ndarray:
    """A ``.npy`` recording (T,) or (T, C) as (T, C) float64, finite or NaN."""
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        why = ("it holds Python objects, which are not read" if "pickle" in str(error) else
               str(error).splitlines()[0])
        raise TsFormatError(f"{path.name}: expected a .npy array of numbers; {why}") from None
    if array.ndim not in (1, 2) or array.dtype.kind not in "biuf" or not len(array):
        raise TsFormatError(f"{path.name}: expected an array of numbers (T,) or (T, C); got "
                            f"{array.dtype} of shape {array.shape}")
    values: np.ndarray = array.reshape(len(array), -1).astype(np.float64)
    if np.isinf(values).any():
        raise TsFormatError(f"{path.name}: expected finite values (NaN for a missing one); got "
                            "infinities")
    return values


def _named(error: Exception, path: Path, root: Path | None) -> str:
    """The error's message naming the file by its path under ``root`` (or in full)."""
    shown = str(path.relative_to(root)) if root is not None and path.is_relative_to(
        root) else str(path)
    text = str(error)
    return shown + text[len(path.name):] if text.startswith(path.name) else f"{shown}: {text}"


def read_recordings(items: Sequence[Clip], *, name: str, labelled: bool = True,
                    skip_bad: bool = False, root: Path | None = None
                    ) -> tuple[SequenceDataset, list[tuple[Clip, str]], list[str]]:
    """(x_i (T_i, C) with the items' labels as classes (numbers ordered as numbers; zeros
    when not ``labelled``), the bad items with their reasons (only with ``skip_bad``: else the
    first one raises), what was recognised reading them, one line each). ``root``: messages
    name files by their path under it."""
    series: list[torch.Tensor] = []
    labels: list[str] = []
    bad: list[tuple[Clip, str]] = []
    said: dict[str, int] = {}
    first: tuple[int, Path] | None = None  # (channels, file)
    for item in items:
        try:
            values, recognised = recording_values(item.path)
            if first is not None and values.shape[1] != first[0]:
                raise TsFormatError(f"{item.path.name}: expected {first[0]} "
                                    f"channel{'s' * (first[0] != 1)} like "
                                    f"{_named(ValueError(''), first[1], root).rstrip(': ')}; "
                                    f"got {values.shape[1]}")
        except (TsFormatError, ClipError, OSError) as error:
            message = _named(error, item.path, root)
            if not skip_bad:
                raise TsFormatError(message) from None
            bad.append((item, message))
            continue
        first = first or (values.shape[1], item.path)
        for line in recognised:
            said[line] = said.get(line, 0) + 1
        series.append(torch.from_numpy(values))
        labels.append(item.label)
    if not series:
        raise TsFormatError(f"{name}: expected readable recordings; all {len(items)} are bad "
                            f"(the first: {bad[0][1]})")
    lines = [f"{name}: {count} of {len(series)} recordings with {what}"
             for what, count in said.items()]
    if not labelled:
        return (SequenceDataset(series, torch.zeros(len(series), dtype=torch.float64),
                                name=name), bad, lines)
    targets, classes = class_targets(labels, class_order(sorted(set(labels))), name)
    return SequenceDataset(series, targets, classes=classes, name=name), bad, lines
