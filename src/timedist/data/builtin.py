"""Built-in datasets, shipped inside the package (nothing is downloaded).

``load_dataset(name)`` returns (train, test) :class:`SequenceDataset` s with a per-channel
standardization fitted on the training split only (and stored on both, for predict to reuse).
See the data notice (``files/NOTICE.md``) for sources and licences.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch

from .dataset import SequenceDataset, Standardization
from .moving_digits import moving_digits, moving_digits_forecast
from .task import Task
from .ts import read_ts

__all__ = ["DATASETS", "DatasetInfo", "forecast_windows", "load_dataset"]


def _file(name: str) -> Path:
    return Path(str(resources.files("timedist.data") / "files" / name))


def _uea(problem: str) -> tuple[SequenceDataset, SequenceDataset]:
    return (read_ts(_file(f"{problem}_TRAIN.ts.gz"), name=problem),
            read_ts(_file(f"{problem}_TEST.ts.gz"), name=problem))


def _series(name: str, column: int = 1) -> torch.Tensor:
    with open(_file(name), newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return torch.tensor([float(row[column]) for row in rows])


def forecast_windows(series: torch.Tensor, *, lookback: int, horizon: int, test_size: int,
                     name: str) -> tuple[SequenceDataset, SequenceDataset]:
    """Sliding windows over a 1-D series, split chronologically.

    Train windows lie entirely in the first ``len(series) - test_size`` points; test windows
    predict points in the last ``test_size`` (their lookback may reach back into training
    history). Each sample is x (lookback, 1) -> y (horizon,). The scaling is fitted on the
    training part only; targets are scaled with it too (invert with ``y * std + mean``).
    """
    cut = len(series) - test_size
    if cut < lookback + horizon or test_size < horizon:
        raise ValueError(f"{name}: expected a series longer than lookback + horizon + test_size;"
                         f" got {len(series)} points for lookback={lookback}, horizon={horizon}, "
                         f"test_size={test_size}")
    train_part = series[:cut]
    scale = Standardization(train_part.mean().view(1), train_part.std().view(1))
    scaled = (series - scale.mean) / scale.std

    def windows(starts: range) -> SequenceDataset:
        xs = [scaled[s : s + lookback].unsqueeze(-1) for s in starts]
        ys = torch.stack([scaled[s + lookback : s + lookback + horizon] for s in starts])
        return SequenceDataset(xs, ys, name=name, target_scale=scale)

    return (windows(range(0, cut - lookback - horizon + 1)),
            windows(range(cut - lookback, len(series) - lookback - horizon + 1)))


@dataclass(frozen=True)
class DatasetInfo:
    """One built-in dataset: its task, what a sample is, and where it comes from."""

    task: str
    sample: str
    source: str
    load: Callable[[], tuple[SequenceDataset, SequenceDataset]]
    standardize: bool = True


DATASETS: dict[str, DatasetInfo] = {
    "japanese-vowels": DatasetInfo(
        "classification, 9 speakers", "(T=7..29, C=12) LPC cepstra",
        "UCI (Kudo, Toyama, Shimbo 1999), CC BY 4.0", lambda: _uea("JapaneseVowels")),
    "basic-motions": DatasetInfo(
        "classification, 4 activities", "(T=100, C=6) accelerometer + gyroscope",
        "UEA archive (Bagnall et al. 2018)", lambda: _uea("BasicMotions")),
    "sunspots": DatasetInfo(
        "forecasting, next year", "(T=20, C=1) -> (1,) yearly sunspot activity",
        "statsmodels, public domain",
        lambda: forecast_windows(_series("sunspots.csv"), lookback=20, horizon=1,
                                 test_size=40, name="sunspots")),
    "airline": DatasetInfo(
        "forecasting, next month", "(T=12, C=1) -> (1,) monthly passengers",
        "Box & Jenkins, public domain",
        lambda: forecast_windows(_series("Airline.csv"), lookback=12, horizon=1,
                                 test_size=24, name="airline")),
    "moving-digits": DatasetInfo(
        "classification, digit x direction (40)", "(T=8, C=1, 32, 32) one moving digit",
        "generated from MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0",
        lambda: (moving_digits("train"), moving_digits("test", count=1000)), standardize=False),
    "moving-digits-forecast": DatasetInfo(
        "forecasting, next 5 frames", "(T=5, C=1, 32, 32) -> (5, 1, 32, 32), two digits",
        "generated from MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0",
        lambda: (moving_digits_forecast("train"), moving_digits_forecast("test", count=400)),
        standardize=False),
}


def load_dataset(name: str) -> tuple[SequenceDataset, SequenceDataset]:
    """(train, test) of a built-in dataset; sensor and speech data come standardized per
    channel with statistics of the training split (``train.standardization``), forecasting
    windows scaled by the training part of the series (``train.target_scale``), moving-digit
    clips as pixels in [0, 1]."""
    if name not in DATASETS:
        raise ValueError(f"load_dataset: expected one of {', '.join(DATASETS)}; got {name!r}")
    train, test = DATASETS[name].load()
    if train.task is Task.CLASSIFICATION and DATASETS[name].standardize:
        scale = train.fit_standardization()
        train, test = train.with_standardization(scale), test.with_standardization(scale)
    return train, test
