"""Data: the .ts reader, .npz files, own video clips, variable-length datasets and their
padding collate."""

from __future__ import annotations

from .builtin import DATASETS, forecast_windows, load_dataset
from .clips import (
    Clip,
    ClipDataset,
    ClipError,
    find_clips,
    find_inputs,
    read_clip,
    sample_indices,
)
from .dataset import Batch, SequenceDataset, Standardization, pad_collate
from .moving_digits import moving_digits, moving_digits_forecast
from .npz import load_npz, save_npz
from .ts import TsFormatError, read_ts

FILE_SUFFIXES = (".ts", ".ts.gz", ".npz")  # the sample files timedist reads
Samples = SequenceDataset | ClipDataset  # held in memory, or own videos streamed from disk

__all__ = [
    "DATASETS",
    "FILE_SUFFIXES",
    "Batch",
    "Clip",
    "ClipDataset",
    "ClipError",
    "Samples",
    "SequenceDataset",
    "Standardization",
    "TsFormatError",
    "find_clips",
    "find_inputs",
    "forecast_windows",
    "load_dataset",
    "load_npz",
    "moving_digits",
    "moving_digits_forecast",
    "pad_collate",
    "read_clip",
    "read_ts",
    "sample_indices",
    "save_npz",
]
