"""Data: the .ts reader, .npz files, own video clips, variable-length datasets and their
padding collate."""

from __future__ import annotations

from .builtin import DATASETS, forecast_windows, load_dataset
from .clips import Clip, ClipDataset, ClipError, find_clips, read_clip, sample_indices
from .dataset import Batch, SequenceDataset, Standardization, pad_collate
from .moving_digits import moving_digits, moving_digits_forecast
from .npz import load_npz, save_npz
from .ts import TsFormatError, read_ts

__all__ = [
    "DATASETS",
    "Batch",
    "Clip",
    "ClipDataset",
    "ClipError",
    "SequenceDataset",
    "Standardization",
    "TsFormatError",
    "find_clips",
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
