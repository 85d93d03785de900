"""Data: the .ts reader, .npz files, variable-length datasets and their padding collate."""

from __future__ import annotations

from .builtin import DATASETS, forecast_windows, load_dataset
from .dataset import Batch, SequenceDataset, Standardization, pad_collate
from .moving_digits import moving_digits, moving_digits_forecast
from .npz import load_npz, save_npz
from .ts import TsFormatError, read_ts

__all__ = [
    "DATASETS",
    "Batch",
    "SequenceDataset",
    "Standardization",
    "TsFormatError",
    "forecast_windows",
    "load_dataset",
    "load_npz",
    "moving_digits",
    "moving_digits_forecast",
    "pad_collate",
    "read_ts",
    "save_npz",
]
