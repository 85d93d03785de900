"""The cheap baseline every run reports beside its model, so a user sees at once whether the
model earned its training time.

- Classification: 1-nearest-neighbour with the Euclidean distance between z-normalized series
  (each series, per channel, to mean 0 and standard deviation 1 over its own steps; an image
  sequence as a whole; series of other lengths are first resampled linearly to the longest
  training length). The archive's classic baseline, computed in torch.
- Regression: the mean predictor (every prediction is the training mean), as RMSE in the
  data's units: the floor any model must beat.

Measured on the training samples themselves, both leave each sample out (a series is never its
own nearest neighbour, nor part of the mean it is compared with): otherwise 1-NN scores 1.0
there whatever the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import SequenceDataset, moments, sample_keys

__all__ = ["mean_predictor_rmse", "nearest_neighbour_predictions", "same_samples",
           "zscored_series"]


def zscored_series(sequences: Sequence[Tensor], length: int) -> Tensor:
    """(N, length * F): every series (T_i, C, ...) z-normalized per channel (an image sequence
    as a whole; missing values -> 0, constant channels -> 0) and resampled linearly to
    ``length`` steps, flattened."""
    rows = []
    for s in sequences:
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


def same_samples(train: SequenceDataset, test: SequenceDataset) -> tuple[Tensor, Tensor]:
    """(train ids (N_train,), test ids (N_test,)): equal ids mean the same sample (same
    values, :func:`~timedist.data.sample_keys`); a test sample found nowhere in ``train`` has
    id -1."""
    ids: dict[bytes, int] = {}
    train_ids = [ids.setdefault(key, len(ids)) for key in sample_keys(train)]
    test_ids = [ids.get(key, -1) for key in sample_keys(test)]
    return torch.tensor(train_ids), torch.tensor(test_ids, dtype=torch.long)


def nearest_neighbour_predictions(train: SequenceDataset, test: SequenceDataset,
                                  chunk: int = 1024, *, leave_one_out: bool = False
                                  ) -> Tensor:
    """(N_test,) the class index of each test series' nearest training series (1-NN, Euclidean
    on z-normalized series; ties -> the first training series). ``leave_one_out``: a training
    sample identical to the test series (the same sample, when testing on training data) is
    never its neighbour. ``chunk``: training series z-normalized and compared at a time."""
    length = int(train.lengths.max())
    queries = zscored_series(test.sequences, length).double()
    train_ids, test_ids = same_samples(train, test) if leave_one_out else (None, None)
    best = torch.full((len(queries),), math.inf, dtype=torch.float64)
    nearest = torch.zeros(len(queries), dtype=torch.long)
    # The training series are z-normalized a block at a time: memory holds one block of them
    # (and its distances to every query), however many there are.
    for start in range(0, len(train), chunk):
        block = zscored_series(train.sequences[start : start + chunk], length).double()
        distances = torch.cdist(queries, block)  # (N_test, block)
        if train_ids is not None and test_ids is not None:
            same = test_ids[:, None] == train_ids[None, start : start + chunk]
            distances[same] = math.inf
        low, where = distances.min(1)  # the first of equal distances
        closer = low < best  # strictly: a tie keeps the earlier training series
        best = torch.where(closer, low, best)
        nearest = torch.where(closer, where + start, nearest)
    return train.targets[nearest]


def rms(errors: Tensor) -> float:
    """The root mean square of ``errors`` (any shape) in float64, scaled by the largest error
    first, so errors near 1e-300 or 1e300 neither underflow to 0 nor overflow to inf."""
    errors = errors.double()
    largest = float(errors.abs().max()) if errors.numel() else 0.0
    if largest == 0.0 or not math.isfinite(largest):
        return float(errors.pow(2).mean().sqrt()) if errors.numel() else math.nan
    return largest * float((errors / largest).pow(2).mean().sqrt())


def mean_predictor_rmse(train_targets: Tensor, test_targets: Tensor,
                        same: tuple[Tensor, Tensor] | None = None) -> float:
    """RMSE of predicting the training mean for every test target (N, ...) (same units as
    given). ``same`` (:func:`same_samples`): each test target is compared with the mean of the
    training targets of the other samples (leave-one-out, for testing on training data)."""
    train_targets = train_targets.double()
    if same is None:
        return rms(test_targets.double() - train_targets.mean(0))
    train_ids, test_ids = same
    flat = train_targets.reshape(len(train_ids), -1)  # (N_train, K)
    groups = int(train_ids.max()) + 2  # the last group: test samples not in train
    sums = torch.zeros(groups, flat.shape[1], dtype=torch.float64).index_add_(0, train_ids, flat)
    counts = torch.bincount(train_ids, minlength=groups).double()
    own = test_ids.where(test_ids >= 0, groups - 1)
    others = (len(train_ids) - counts[own]).clamp(min=1)
    means = (flat.sum(0) - sums[own]) / others[:, None]
    return rms(test_targets.double().reshape(len(test_ids), -1) - means)
