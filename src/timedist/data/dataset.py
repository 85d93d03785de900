"""Variable-length sequence datasets and the collate that pads a batch and returns lengths.

A :class:`SequenceDataset` keeps each sample at its own length — x_i (T_i, C) — instead of
padding everything to the longest; :func:`pad_collate` pads one batch and returns the lengths
that timedist's recurrent layers and masked ``TimeDistributed`` use to skip the padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset

from .._checks import shape_error

__all__ = ["Batch", "SequenceDataset", "Standardization", "pad_collate", "split_indices"]


class Standardization(NamedTuple):
    """Per-channel mean and std fitted on a training split; apply with :meth:`apply`.

    Shapes (C, 1, ..., 1): they broadcast over one step (C, *rest) of a sequence.
    """

    mean: Tensor
    std: Tensor

    def apply(self, x: Tensor) -> Tensor:
        """(T, C, *rest) -> standardized; missing values (NaN) become 0, the channel mean."""
        return torch.nan_to_num((x - self.mean) / self.std, nan=0.0)


class Batch(NamedTuple):
    """A padded batch: x (B, T_max, C) zero-padded, lengths (B,) int64, y (B,) or (B, ...)."""

    x: Tensor
    lengths: Tensor
    y: Tensor


class SequenceDataset(Dataset[tuple[Tensor, Tensor]]):
    """Samples (x_i (T_i, C, ...), y_i) of their own lengths; ``len()``, indexing, ``lengths``.

    Args:
        sequences: N tensors (T_i, C) — or (T_i, C, H, W) for image sequences — float; NaN
            marks a missing value.
        targets: (N,) int64 class indices, or (N,)/(N, ...) float regression targets.
        classes: the class names, in index order (classification), or None (regression).
        name: a label for messages and listings.
        standardization: applied to x on access (fitted on a training split), or None.
        target_scale: how regression targets were scaled (invert: y * std + mean), or None.
    """

    def __init__(self, sequences: Sequence[Tensor], targets: Tensor, *,
                 classes: Sequence[str] | None = None, name: str = "dataset",
                 standardization: Standardization | None = None,
                 target_scale: Standardization | None = None) -> None:
        if len(sequences) != len(targets):
            raise ValueError(f"{name}: expected one target per sequence; got {len(sequences)} "
                             f"sequences and {len(targets)} targets")
        step = tuple(sequences[0].shape[1:]) if sequences else ()
        bad = next((s for s in sequences if s.dim() < 2 or tuple(s.shape[1:]) != step), None)
        if bad is not None:
            raise shape_error(name, f"every sequence (T_i, C, ...) with one step {step}",
                              bad.shape)
        self.sequences = [s.float() for s in sequences]
        self.targets = targets
        self.classes = list(classes) if classes is not None else None
        self.name = name
        self.standardization = standardization
        self.target_scale = target_scale

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        lo, hi = (int(self.lengths.min()), int(self.lengths.max())) if len(self) else (0, 0)
        span = f"T={lo}" if lo == hi else f"T={lo}..{hi}"
        kind = f"{len(self.classes)} classes" if self.classes is not None else "regression"
        step = tuple(self.sequences[0].shape[1:]) if self.sequences else ()
        return f"SequenceDataset({self.name!r}, N={len(self)}, {span}, step {step}, {kind})"

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x = self.sequences[index]
        if self.standardization is not None:
            x = self.standardization.apply(x)
        return x, self.targets[index]

    @property
    def lengths(self) -> Tensor:
        """(N,) int64: T_i of every sample."""
        return torch.tensor([s.shape[0] for s in self.sequences], dtype=torch.long)

    @property
    def step_shape(self) -> tuple[int, ...]:
        """One step's shape: (C,) or (C, H, W)."""
        return tuple(self.sequences[0].shape[1:]) if self.sequences else ()

    @property
    def max_length(self) -> int:
        """The longest T_i (0 when empty)."""
        return max((s.shape[0] for s in self.sequences), default=0)

    @property
    def channels(self) -> int:
        """C."""
        return int(self.sequences[0].shape[-1]) if self.sequences else 0

    @property
    def task(self) -> str:
        return "classification" if self.classes is not None else "regression"

    def fit_standardization(self) -> Standardization:
        """Per-channel mean/std over every valid, non-missing value of this (training) split."""
        values = torch.cat(self.sequences).transpose(0, 1).flatten(1)  # (C, everything else)
        mean = torch.nanmean(values, dim=1)
        std = torch.nanmean((values - mean[:, None]) ** 2, dim=1).sqrt().clamp_min(1e-8)
        shape = (-1, *([1] * (self.sequences[0].dim() - 2)))
        return Standardization(mean.view(shape), std.view(shape))

    def with_standardization(self, standardization: Standardization | None) -> SequenceDataset:
        """The same samples, standardized on access with ``standardization`` (or raw: None)."""
        return SequenceDataset(self.sequences, self.targets, classes=self.classes,
                               name=self.name, standardization=standardization,
                               target_scale=self.target_scale)

    def subset(self, indices: Sequence[int]) -> SequenceDataset:
        """The samples at ``indices`` (same classes and standardization)."""
        index = torch.as_tensor(list(indices), dtype=torch.long)
        return SequenceDataset([self.sequences[i] for i in index.tolist()], self.targets[index],
                               classes=self.classes, name=self.name,
                               standardization=self.standardization,
                               target_scale=self.target_scale)

    def split(self, fraction: float, *, seed: int = 0) -> tuple[SequenceDataset, SequenceDataset]:
        """A seeded random (rest, held-out) split, e.g. a validation set of ``fraction``."""
        rest, held = split_indices(len(self), fraction, seed=seed, name=self.name)
        return self.subset(rest), self.subset(held)


def split_indices(size: int, fraction: float, *, seed: int = 0, name: str = "dataset"
                  ) -> tuple[list[int], list[int]]:
    """A seeded random split of ``range(size)``: (rest, held-out), each sorted; the held-out
    part has ``round(fraction * size)`` indices, at least 1."""
    if not 0 < fraction < 1:
        raise ValueError(f"{name}: expected 0 < fraction < 1; got {fraction}")
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed)).tolist()
    held = max(1, round(fraction * size))
    return sorted(order[held:]), sorted(order[:held])


def pad_collate(samples: Sequence[tuple[Tensor, Tensor]]) -> Batch:
    """[(x_i (T_i, C, ...), y_i)] -> Batch(x (B, T_max, C, ...) zero-padded, lengths (B,),
    y (B, ...))."""
    xs = [x for x, _ in samples]
    lengths = torch.tensor([x.shape[0] for x in xs], dtype=torch.long)
    x = torch.nn.utils.rnn.pad_sequence(xs, batch_first=True)
    return Batch(x, lengths, torch.stack([torch.as_tensor(y) for _, y in samples]))
