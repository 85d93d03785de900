"""The cheap baseline every run reports beside its model, so a user sees at once whether the
model earned its training time.

- Classification: 1-nearest-neighbour with the Euclidean distance between z-normalized series
  (each series, per channel, to mean 0 and standard deviation 1 over its own steps; an image
  sequence as a whole; series of other lengths are first resampled linearly to the longest
  training length). The archive's classic baseline, computed in torch.
- Regression: the mean predictor (every prediction is the training mean), as RMSE in the
  data's units: the floor any model must beat.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import SequenceDataset, moments

__all__ = ["mean_predictor_rmse", "nearest_neighbour_predictions", "zscored_series"]


def zscored_series(dataset: SequenceDataset, length: int) -> Tensor:
    """(N, length * F): every series z-normalized per channel (an image sequence as a whole;
    missing values -> 0, constant channels -> 0) and resampled linearly to ``length`` steps,
    flattened."""
    rows = []
    for s in dataset.sequences:
        whole = s.dim() > 2  # (T_i, C, H, W): one scale for the clip, not one per pixel
        s = s.flatten(1)  # (T_i, F)
        axes = (0, 1) if whole else 0
        mean, std = moments(s, axes, keepdim=True)
        z = torch.nan_to_num((s.double() - mean) / std, nan=0.0).float()
        if len(z) != length:
            z = F.interpolate(z.T.unsqueeze(0), size=length, mode="linear",
                              align_corners=True)[0].T if len(z) > 1 else z.expand(length, -1)
        rows.append(z.flatten())
    return torch.stack(rows)


def nearest_neighbour_predictions(train: SequenceDataset, test: SequenceDataset,
                                  chunk: int = 1024) -> Tensor:
    """(N_test,) the class index of each test series' nearest training series (1-NN, Euclidean
    on z-normalized series; ties -> the first training series)."""
    length = int(train.lengths.max())
    reference, queries = zscored_series(train, length), zscored_series(test, length)
    nearest = [torch.cdist(queries[i : i + chunk].double(), reference.double()).argmin(1)
               for i in range(0, len(queries), chunk)]
    return train.targets[torch.cat(nearest)]


def rms(errors: Tensor) -> float:
    """The root mean square of ``errors`` (any shape) in float64, scaled by the largest error
    first, so errors near 1e-300 or 1e300 neither underflow to 0 nor overflow to inf."""
    errors = errors.double()
    largest = float(errors.abs().max()) if errors.numel() else 0.0
    if largest == 0.0 or not math.isfinite(largest):
        return float(errors.pow(2).mean().sqrt()) if errors.numel() else math.nan
    return largest * float((errors / largest).pow(2).mean().sqrt())


def mean_predictor_rmse(train_targets: Tensor, test_targets: Tensor) -> float:
    """RMSE of predicting the training mean for every test target (same units as given)."""
    mean = train_targets.double().mean(0)
    return rms(test_targets.double() - mean)
