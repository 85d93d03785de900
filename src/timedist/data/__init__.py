"""Data: the .ts reader, the archives' .tsv/.txt/.arff files, .npz files, own video clips,
variable-length datasets and their padding collate."""

from __future__ import annotations

from .archive import ARCHIVE_SUFFIXES, read_arff, read_ucr
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
from .dataset import (
    FLOAT32_MAX,
    Batch,
    SequenceDataset,
    Standardization,
    moments,
    pad_collate,
    safe_std,
    without_values,
    without_values_text,
)
from .fingerprint import clip_keys, comparable, exact_keys, fingerprint, overlap, sample_keys
from .labels import label_name, label_names
from .moving_digits import moving_digits, moving_digits_forecast
from .npz import load_npz, save_npz
from .task import Task
from .ts import TsFormatError, read_ts

# The sample files timedist reads, and how a message names them.
FILE_SUFFIXES = (".ts", ".ts.gz", ".npz", *ARCHIVE_SUFFIXES)
FILE_KINDS = ".ts, .npz, .tsv, .txt or .arff (.gz too)"
Samples = SequenceDataset | ClipDataset  # held in memory, or own videos streamed from disk

__all__ = [
    "ARCHIVE_SUFFIXES",
    "DATASETS",
    "FILE_KINDS",
    "FILE_SUFFIXES",
    "FLOAT32_MAX",
    "Batch",
    "Clip",
    "ClipDataset",
    "ClipError",
    "Samples",
    "SequenceDataset",
    "Standardization",
    "Task",
    "TsFormatError",
    "clip_keys",
    "comparable",
    "exact_keys",
    "find_clips",
    "find_inputs",
    "fingerprint",
    "forecast_windows",
    "label_name",
    "label_names",
    "load_dataset",
    "load_npz",
    "moments",
    "moving_digits",
    "moving_digits_forecast",
    "overlap",
    "pad_collate",
    "read_arff",
    "read_clip",
    "read_ts",
    "read_ucr",
    "safe_std",
    "sample_indices",
    "sample_keys",
    "save_npz",
    "without_values",
    "without_values_text",
]
