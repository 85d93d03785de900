"""Data: the .ts reader, the archives' .tsv/.txt/.arff files, tables (.csv/.tsv/.parquet),
.npz files, own video clips, variable-length datasets and their padding collate."""

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
from .load import CLIP_SIZE, FILE_KINDS, FILE_SUFFIXES, load, read_file
from .moving_digits import moving_digits, moving_digits_forecast
from .npz import load_npz, save_npz
from .tables import LABEL_COLUMNS, TABLE_SUFFIXES, Table, frame_table, read_table
from .task import Task
from .ts import TsFormatError, read_ts

Samples = SequenceDataset | ClipDataset  # held in memory, or own videos streamed from disk

__all__ = [
    "ARCHIVE_SUFFIXES",
    "CLIP_SIZE",
    "DATASETS",
    "FILE_KINDS",
    "FILE_SUFFIXES",
    "FLOAT32_MAX",
    "LABEL_COLUMNS",
    "TABLE_SUFFIXES",
    "Batch",
    "Clip",
    "ClipDataset",
    "ClipError",
    "Samples",
    "SequenceDataset",
    "Standardization",
    "Table",
    "Task",
    "TsFormatError",
    "clip_keys",
    "comparable",
    "exact_keys",
    "find_clips",
    "find_inputs",
    "fingerprint",
    "forecast_windows",
    "frame_table",
    "label_name",
    "label_names",
    "load",
    "load_dataset",
    "load_npz",
    "moments",
    "moving_digits",
    "moving_digits_forecast",
    "overlap",
    "pad_collate",
    "read_arff",
    "read_clip",
    "read_file",
    "read_table",
    "read_ts",
    "read_ucr",
    "safe_std",
    "sample_indices",
    "sample_keys",
    "save_npz",
    "without_values",
    "without_values_text",
]
