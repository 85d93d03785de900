"""One loader for whatever a user points at: :func:`load` turns a built-in dataset's name, a
sample file or a folder into the samples ``timedist fit`` trains on; :func:`read_file` is its
reader of one file, by its name's ending.

=========================================  ==============================================
``path``                                   read by
=========================================  ==============================================
a built-in dataset's name                  :func:`~timedist.data.load_dataset`
``.ts`` (``.gz``)                          :func:`~timedist.data.read_ts`
``.npz``                                   :func:`~timedist.data.load_npz`
``.csv``/``.tsv`` (``.gz``), ``.parquet``  :func:`~timedist.data.read_table` (a table with a
                                           header; without one, the UCR layout)
``.txt`` (``.gz``)                         :func:`~timedist.data.read_ucr`
``.arff`` (``.gz``)                        :func:`~timedist.data.read_arff`
a folder or manifest of recordings         :func:`~timedist.data.recordings.read_recordings`
a folder or manifest of video clips        :class:`~timedist.data.ClipDataset`
a pandas or polars DataFrame               :func:`~timedist.data.tables.frame_table`
=========================================  ==============================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .archive import ARCHIVE_SUFFIXES, read_arff, read_ucr
from .builtin import DATASETS, load_dataset
from .clips import (
    ClipDataset,
    check_clips,
    find_clips,
    frame_size,
    holds_recordings,
    is_manifest,
)
from .dataset import SequenceDataset
from .npz import load_npz
from .recordings import read_recordings
from .tables import TABLE_SUFFIXES, Table, frame_table, read_table
from .ts import read_ts

__all__ = ["CLIP_SIZE", "FILE_KINDS", "FILE_SUFFIXES", "load", "read_file"]

# The sample files timedist reads, and how a message names them.
FILE_SUFFIXES = tuple(dict.fromkeys((".ts", ".ts.gz", ".npz", *ARCHIVE_SUFFIXES,
                                     *TABLE_SUFFIXES)))
FILE_KINDS = ".ts, .npz, .csv, .tsv, .parquet, .txt or .arff (.gz too)"
CLIP_SIZE = 64  # the frame side clips are resized to at most, by default (pixels)


def read_file(path: str | Path, *, require_targets: bool = True,
              label_column: str | None = None) -> Table:
    """One sample file (see the module) as a :class:`~timedist.data.Table`: its samples, a
    table's label column and what was chosen reading it. ``require_targets``: a file to
    train or evaluate on (False: inputs to predict)."""
    path = Path(path)
    if path.name.endswith(TABLE_SUFFIXES):
        return read_table(path, label_column=label_column, require_targets=require_targets)
    if path.suffix == ".npz":
        return Table(load_npz(path, require_targets=require_targets), None)
    if path.name.endswith((".arff", ".arff.gz")):
        return Table(read_arff(path), None)
    if path.name.endswith(ARCHIVE_SUFFIXES):
        return Table(read_ucr(path), None)
    if path.name.endswith(FILE_SUFFIXES):
        return Table(read_ts(path, require_targets=require_targets), None)
    raise ValueError(f"{path}: expected a file ending in {FILE_KINDS}")


def load(path: str | Path | Any, *, split: str = "train", label_column: str | None = None,
         skip_bad: bool = False, frames: int = 16) -> SequenceDataset | ClipDataset:
    """The samples ``timedist fit --data path`` trains on, without training.

    ``path``: a built-in dataset's name, a sample file, or a folder (or ``.csv`` manifest) of
    recordings or video clips (see the module); or a pandas or polars DataFrame, wide or long,
    read as a table file is (:func:`~timedist.data.tables.frame_table`). ``split``: which
    part of a built-in dataset or of a folder with ``train/``, ``val/``, ``test/`` folders
    (``"train"``: the label folders when there are no split folders; a file is all one
    split). ``label_column``: a table's column of labels. ``skip_bad``: leave out unreadable
    recordings or clips (else the first one raises, naming it). ``frames``: per clip.

    Returns a :class:`SequenceDataset` of x_i (T_i, C) (or (T_i, C, H, W) frames) with its
    targets, or for clips a :class:`ClipDataset` streamed from disk ((frames, C, H, W) each,
    the shorter side resized to at most :data:`CLIP_SIZE`). Raises ValueError (a bad file's
    message names it, its line and column) or OSError.

    >>> from timedist.data import load
    >>> data = load("japanese-vowels")
    >>> len(data), data.step_shape
    (270, (12,))
    """
    if type(path).__name__ == "DataFrame":
        return frame_table(path, label_column=label_column).data
    text = str(path)
    if text in DATASETS:  # as the command line reads it: before a file of that name
        train, test = load_dataset(text)
        if split not in ("train", "test"):
            raise ValueError(f"split {split!r}: expected 'train' or 'test' for {text}")
        return train if split == "train" else test  # type: ignore[return-value]
    path = Path(path)
    if path.is_dir() or is_manifest(path):
        recordings = holds_recordings(path)
        found = find_clips(path, recordings=recordings)
        key = "all" if split == "train" and "all" in found else split
        if key not in found:
            held = ", ".join(k + "/" if k != "all" else "label folders" for k in found)
            raise ValueError(f"{path}: expected a {split}/ folder; it has {held}")
        if recordings:
            return read_recordings(found[key], name=str(path), skip_bad=skip_bad)[0]
        clips, _ = check_clips(found[key], skip_bad=skip_bad)
        classes = sorted({c.label for c in found.get("train") or found["all"]})
        size = min(*frame_size(clips[0]), CLIP_SIZE)
        return ClipDataset(clips, frames, size, classes=classes, name=str(path))
    return read_file(path, label_column=label_column).data

