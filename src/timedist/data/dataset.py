"""Variable-length sequence datasets and the collate that pads a batch and returns lengths.

A :class:`SequenceDataset` keeps each sample at its own length — x_i (T_i, C) — instead of
padding everything to the longest; :func:`pad_collate` pads one batch and returns the lengths
that timedist's recurrent layers and masked ``TimeDistributed`` use to skip the padding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset

from .._checks import shape_error
from .task import Task

__all__ = ["FLOAT32_MAX", "Batch", "SequenceDataset", "Standardization", "channel_blocks",
           "moments", "pad_collate", "safe_std", "split_indices", "without_values",
           "without_values_text"]

FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def safe_std(std: Tensor, mean: Tensor) -> Tensor:
    """``std`` with constant (or empty) channels set to 1: a spread of 0, NaN, or below
    1e-12 of the mean's size (float64 rounding of a constant) divides nothing. Any genuine
    spread is kept, however small (values of 1e-40 keep their shape)."""
    constant = ~(std > 1e-12 * mean.abs()) | ~(std > 0) | ~torch.isfinite(std)
    return torch.where(constant, torch.ones_like(std), std)


def moments(values: Tensor | Callable[[], Iterable[Tensor]], dim: int | tuple[int, ...], *,
            ddof: int = 0, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """(mean, std) of ``values`` over ``dim`` in float64, ignoring NaN (missing values), for
    numbers of any float64 size: they are divided by their largest magnitude first, so
    squaring 1e300 never overflows. A channel with no values has mean 0; constant ones std 1
    (:func:`safe_std`).

    ``values``: a tensor, or a function returning the blocks of one, split along a reduced
    dim (each block is read three times; the whole never exists): data larger than memory.
    """
    blocks = values if callable(values) else lambda: (values,)  # type: ignore[return-value]
    top: Tensor | None = None
    for block in blocks():
        largest = torch.nan_to_num(block.double().abs(), nan=0.0, posinf=0.0).amax(
            dim, keepdim=True)
        top = largest if top is None else torch.maximum(top, largest)
    assert top is not None, "moments of no blocks"
    top = torch.where((top > 0) & torch.isfinite(top), top, torch.ones_like(top))
    present = total = square = torch.zeros_like(top)
    for block in blocks():
        unit = block.double() / top
        present = present + (~torch.isnan(unit)).sum(dim, keepdim=True)
        total = total + torch.nansum(unit, dim, keepdim=True)
    mean = total / present.clamp_min(1)  # 0 where a channel has no values
    for block in blocks():
        square = square + torch.nansum((block.double() / top - mean) ** 2, dim, keepdim=True)
    spread = (square / (present - ddof).clamp_min(1)).sqrt()
    mean, std = mean * top, safe_std(spread * top, mean * top)
    if not keepdim:
        mean, std = mean.squeeze(dim), std.squeeze(dim)
    return mean, std


def channel_blocks(sequences: Sequence[Tensor], values: int = 2**22) -> Iterator[Tensor]:
    """The values of ``sequences`` (each (T_i, C, ...)) per channel, as float64 blocks
    (C, n) of about ``values`` values each: statistics over data that never exists whole."""
    group: list[Tensor] = []
    size = 0
    for index, sequence in enumerate(sequences):
        group.append(sequence)
        size += sequence.numel()
        if size >= values or index == len(sequences) - 1:
            yield torch.cat([g.double() for g in group]).transpose(0, 1).flatten(1)
            group, size = [], 0


class Standardization(NamedTuple):
    """Per-channel mean and std fitted on a training split (float64); apply with
    :meth:`apply`.

    Shapes (C, 1, ..., 1): they broadcast over one step (C, *rest) of a sequence.
    """

    mean: Tensor
    std: Tensor

    def apply(self, x: Tensor) -> Tensor:
        """(T, C, *rest) raw -> standardized float32, computed in float64 from the raw
        values (an offset of 1e8 keeps a signal of amplitude 1e-3); missing values (NaN)
        become 0, the channel mean."""
        z = (x.double() - self.mean.double()) / self.std.double()
        return torch.nan_to_num(z, nan=0.0).float()


class Batch(NamedTuple):
    """A padded batch: x (B, T_max, C) zero-padded, lengths (B,) int64, y (B,) or (B, ...)."""

    x: Tensor
    lengths: Tensor
    y: Tensor


class SequenceDataset(Dataset[tuple[Tensor, Tensor]]):
    """Samples (x_i (T_i, C, ...), y_i) of their own lengths; ``len()``, indexing, ``lengths``.

    Args:
        sequences: N tensors (T_i, C) — or (T_i, C, H, W) for image sequences; NaN marks a
            missing value. float64 (and integer) values are kept in float64 until they are
            standardized, so large offsets keep their precision; others are stored as float32.
            Items are float32 either way.
        targets: (N,) int64 class indices, or (N,)/(N, ...) float regression targets (float64
            kept until scaled).
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
        self.sequences = [_stored(s) for s in sequences]
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
        """(x (T_i, C, ...) float32, standardized when the dataset has a standardization; y)."""
        x = self.sequences[index]
        x = self.standardization.apply(x) if self.standardization is not None else x.float()
        return x, self.targets[index]

    def rows(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """(x (B, T_b, C, ...) float32 zero-padded to the longest of them, lengths (B,)): the
        samples at ``index`` (B,) as :func:`pad_collate` batches them — how a model reads a
        dataset a batch at a time (``RocketModel.fit``), so it is never padded whole."""
        batch = pad_collate([self[i] for i in index.tolist()])
        return batch.x, batch.lengths

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
    def task(self) -> Task:
        """What the targets ask for (:meth:`Task.of`): classes, values or frames."""
        return Task.of(self.classes, self.targets)

    def fit_standardization(self) -> Standardization:
        """Per-channel mean/std (float64) over every valid, non-missing value of this
        (training) split; a channel with no values or one value gets mean 0 / std 1."""
        mean, std = moments(lambda: channel_blocks(self.sequences), 1)  # over (C, the rest)
        shape = (-1, *([1] * (self.sequences[0].dim() - 2)))
        return Standardization(mean.view(shape), std.view(shape))

    def check_representable(self) -> None:
        """Raise ValueError naming the first sample whose standardized values are beyond
        float32 (what the model computes in): a value far outside the training data's range,
        or raw values beyond 3.4e38 with no normalization."""
        scale = self.standardization
        if scale is not None and bool((scale.mean == 0).all()) and bool((scale.std == 1).all()):
            scale = None  # the identity: no normalization
        for index, sequence in enumerate(self.sequences):
            z = sequence.double() if scale is None else (
                (sequence.double() - scale.mean.double()) / scale.std.double())
            big = z.abs().nan_to_num(nan=0.0)
            if bool((big > FLOAT32_MAX).any()):
                where = tuple(int(i) for i in (big > FLOAT32_MAX).nonzero()[0])
                raise ValueError(
                    f"{self.name}: sample {index} holds {float(sequence[where]):.6g} at step "
                    f"{where[0]}, which is {float(z[where]):.3g} after "
                    + ("normalization" if scale is not None else "no normalization")
                    + ": beyond float32's range (3.4e38), which the model computes in"
                    + ("" if scale is not None else "; use --normalize channel or series"))

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


def _stored(sequence: Tensor) -> Tensor:
    """float64 and integers as float64 (exact until standardized), other values as float32."""
    if sequence.dtype == torch.float64:
        return sequence
    if sequence.is_floating_point() or sequence.dtype == torch.bool:
        return sequence.float()
    return sequence.double()


def without_values(sequences: Sequence[Tensor], *, constant: bool = False) -> list[int]:
    """The indices of the samples (each (T_i, C, ...), raw or normalized) a model sees only
    zeros of: every value missing (NaN) — or, with ``constant`` (normalized per series), every
    channel constant. Its answer there says nothing about the sample."""
    empty = []
    for i, x in enumerate(sequences):
        if not x.is_floating_point():
            continue
        columns = x.reshape(len(x), -1).double()
        valid = ~columns.isnan()
        if not valid.any():
            empty.append(i)
        elif constant:
            high = torch.where(valid, columns, -torch.inf).amax(0)
            low = torch.where(valid, columns, torch.inf).amin(0)
            if bool(((high == low) | ~valid.any(0)).all()):
                empty.append(i)
    return empty


def without_values_text(empty: Sequence[int], size: int, *, constant: bool = False,
                        unit: str = "samples") -> str:
    """What :func:`without_values` found, for a note or a warning: ``2 of 10 samples hold no
    values (every value missing)``."""
    what = ("every value missing, or every channel constant: zeros once normalized per series"
            if constant else "every value missing")
    return f"{len(empty)} of {size} {unit} hold no values ({what})"


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
