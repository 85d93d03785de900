"""RocketModel: random convolution features and a ridge head fitted in closed form.

The default model for a user's own signals (classification and regression). Each member of
the ensemble draws its own random kernels (:mod:`timedist.models.random_conv`), standardizes
the features with training statistics, gives every feature family the same total weight, and
fits a ridge head whose penalty is chosen by exact leave-one-out error
(:func:`~timedist.models.ridge.ridge_cv`). A classifier's scores are turned into calibrated
log-probabilities with a temperature fitted on the leave-one-out scores; members are averaged
(log-probabilities for classes, values for regression). No gradient steps: ``fit`` takes seconds
on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_choice, shape_error, value_error
from ..data.task import Task
from .random_conv import HydraFeatures, MultiRocketFeatures, _resolved
from .ridge import RidgeStats, fit_temperature, ridge_cv

__all__ = ["FEATURES", "RocketModel", "Rows"]

FEATURES = ("minirocket+hydra", "minirocket", "multirocket", "hydra", "multirocket+hydra")
TASKS = (Task.CLASSIFICATION, Task.REGRESSION)
KEEP = 4_096  # samples whose leave-one-out scores choose the penalty when there are more
FEATURE_BATCH = 2**24  # feature elements computed at once while fitting (64 MB in float32)


def _blocks(kind: str, channels: int, length: int, num_features: int, seed: int) -> list[nn.Module]:
    blocks: list[nn.Module] = []
    if "minirocket" in kind:
        blocks.append(MultiRocketFeatures(channels, length, num_features=num_features,
                                          poolings=("ppv",), difference=False, seed=seed))
    if "multirocket" in kind:
        blocks.append(MultiRocketFeatures(channels, length, num_features=num_features // 8,
                                          seed=seed))
    if "hydra" in kind:  # 64 groups at the default size, fewer when features are cut
        groups = max(8, min(64, 2 * round(32 * num_features / 10_000)))
        blocks.append(HydraFeatures(channels, length, groups=groups, seed=seed))
    return blocks


class Rows(Protocol):
    """N training series read a batch at a time (a dataset, possibly larger than memory):
    ``rows(index)`` -> (x (B, T_b, C) float32, zero-padded to the batch's longest, lengths
    (B,)) on the CPU. :class:`~timedist.data.SequenceDataset` is one."""

    @property
    def channels(self) -> int: ...

    def __len__(self) -> int: ...

    def rows(self, index: Tensor) -> tuple[Tensor, Tensor]: ...


class _Padded:
    """Padded tensors x (N, T, C), lengths (N,) as :class:`Rows` (a slice is a view)."""

    def __init__(self, x: Tensor, lengths: Tensor) -> None:
        self.x, self.lengths = x, lengths

    def __len__(self) -> int:
        return len(self.x)

    def rows(self, index: Tensor) -> tuple[Tensor, Tensor]:
        return self.x[index], self.lengths[index]

    def span(self, start: int, stop: int) -> tuple[Tensor, Tensor]:
        return self.x[start:stop], self.lengths[start:stop]


def _span(source: Rows | _Padded, start: int, stop: int, device: torch.device
          ) -> tuple[Tensor, Tensor]:
    """Series ``start .. stop`` of ``source`` on ``device``."""
    if isinstance(source, _Padded):
        return source.span(start, stop)
    x, lengths = source.rows(torch.arange(start, stop))
    return x.to(device), lengths.to(device)


def batch_dtype(device: torch.device) -> torch.dtype:
    """The ridge statistics' per-batch products: float32 on a GPU (its float64 is slow; the
    totals stay float64), float64 on the CPU."""
    return torch.float32 if device.type == "cuda" else torch.float64


def _shard(n: int) -> range:
    """The samples this process transforms: all N, or its contiguous share when
    ``torch.distributed`` is initialized with several processes (each holding all N)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return range(n)
    rank, world = dist.get_rank(), dist.get_world_size()
    if n < world:
        raise value_error("RocketModel.fit", f"at least one sample per process ({world})", n)
    return range(n * rank // world, n * (rank + 1) // world)


class _Member(nn.Module):
    """One draw of kernels + its standardization + a linear head (+ a temperature)."""

    mean: Tensor
    scale: Tensor
    temperature: Tensor

    def __init__(self, kind: str, channels: int, length: int, outputs: int, num_features: int,
                 seed: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(_blocks(kind, channels, length, num_features, seed))
        sizes = [int(b.out_features) for b in self.blocks]  # type: ignore[arg-type]
        self.sizes = sizes
        total = sum(sizes)
        self.register_buffer("mean", torch.zeros(total))
        self.register_buffer("scale", torch.ones(total))
        self.register_buffer("temperature", torch.ones(()))
        self.head = nn.Linear(total, outputs)

    def raw(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(B, T, C) -> (B, features) before standardization (the blocks chunk the batch)."""
        return torch.cat([block(x, lengths) for block in self.blocks], 1)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        z = (self.raw(x, lengths) - self.mean) * self.scale
        # Accumulated in float64 so a series scores the same alone or in any batch.
        scores = F.linear(z.double(), self.head.weight.double(), self.head.bias.double())
        return (scores * self.temperature.double()).to(z.dtype)

    def _scale(self, std: Tensor) -> Tensor:
        """(F,) standardizing factors: each family the same total weight (a family of 1,000
        features counts as much as one of 10,000; otherwise the larger drowns the other in the
        ridge penalty), features constant on the training data weighted 0."""
        balance = torch.cat([torch.full((n,), (sum(self.sizes) / len(self.sizes) / n) ** 0.5)
                             for n in self.sizes]).to(std)
        return torch.where(std < 1e-6, 0.0, balance / std.clamp_min(1e-6))

    def _batches(self, source: Rows | _Padded, rows: range, progress: Callable[[int], None]
                 ) -> Iterator[tuple[int, Tensor]]:
        """(first row, raw features (B, F)) of the series ``rows`` of ``source`` in batches
        of about ``FEATURE_BATCH`` elements; ``progress(rows done)`` after each."""
        step = max(64, FEATURE_BATCH // sum(self.sizes))
        device = self.mean.device
        for start in range(rows.start, rows.stop, step):
            stop = min(rows.stop, start + step)
            yield start, self.raw(*_span(source, start, stop, device))
            progress(stop - rows.start)

    @torch.no_grad()
    def fit(self, source: Rows | _Padded, targets: Tensor, labels: Tensor | None,
            keep: Tensor, rows: range, progress: Callable[[int], None]) -> dict[str, Any]:
        """Fit on the N series of ``source``, targets (N, K) (labels (N,) for a classifier);
        report the penalty and the leave-one-out scores (M, K) of the rows ``keep`` (M,).

        Up to as many samples as features, the features are held and the ridge solved in its
        kernel form; beyond, they stream through :class:`RidgeStats` batch by batch and never
        exist whole (memory: F x F statistics, however many samples). ``rows``: the samples
        this process transforms (:func:`_shard`); with several processes each sums its own
        statistics and ``all_reduce`` adds them up, so every process solves the same system."""
        device = self.mean.device
        for block in self.blocks:
            if isinstance(block, MultiRocketFeatures):  # seeded: the same in every process
                block.fit_rows(lambda index: tuple(  # type: ignore[arg-type, return-value]
                    t.to(device) for t in source.rows(index)), len(source))
        shared = len(rows) < len(source)
        if not shared and len(source) <= sum(self.sizes):
            features = torch.cat([f for _, f in self._batches(source, rows, progress)])
            mean = features.mean(0)
            scale = self._scale(features.std(0, unbiased=False))
            fit = ridge_cv((features - mean) * scale, targets)
            loo, weight, bias = fit.loo[keep], fit.weight, fit.bias
        else:
            stats: RidgeStats | None = None
            for start, features in self._batches(source, rows, progress):
                if stats is None:
                    shift = features.mean(0)
                    if shared:  # one shift for all: the sums must be of the same values
                        dist.broadcast(shift, 0)
                    stats = RidgeStats(shift, targets.shape[1], keep,
                                       batch_dtype=batch_dtype(device))
                stats.add(features, targets[start:start + len(features)], start)
            assert stats is not None
            if shared:
                for tensor in stats.tensors():
                    dist.all_reduce(tensor)
                stats.n = len(source)
            mean, scale = stats.mean, self._scale(stats.std)
            fit = stats.solve(scale)
            loo, weight, bias = fit.loo.to(targets.dtype), fit.weight, fit.bias
        self.mean.copy_(mean)
        self.scale.copy_(scale)
        self.head.weight.copy_(weight.T)
        self.head.bias.copy_(bias)
        if labels is not None:
            self.temperature.fill_(fit_temperature(loo, labels[keep]))
            loo = loo * self.temperature
        return {"alpha": fit.alpha, "loo": loo}


class RocketModel(nn.Module):
    """An ensemble of random-convolution-feature models with ridge heads (fitted, not trained).

    Args:
        in_channels: C.
        length: the longest training series (sets the dilations; any length works later).
        num_outputs: classes (logits) or regression outputs.
        task: ``"classification"`` or ``"regression"`` (a :class:`~timedist.data.Task`).
        features: which families, one of ``FEATURES``: ``"minirocket+hydra"`` (default:
            MiniRocket's PPV features and Hydra's counts), ``"minirocket"``,
            ``"multirocket"`` (four poolings, series and its difference), ``"hydra"``,
            ``"multirocket+hydra"``.
        num_features: MiniRocket features per member (multirocket: the same total count).
        members: ensemble size (each member its own random kernels).
        seed: the first member's seed (member i uses seed + i).

    Call :meth:`fit` (closed form, no optimizer) before use; a ``state_dict`` holds everything.

    Shape: x (B, T, C), lengths (B,) or mask (B, T) -> (B, num_outputs): log-probabilities
    (classification; calibrated, use as logits) or values (regression).

    >>> import torch
    >>> x, y = torch.randn(20, 30, 2), torch.arange(20) % 2
    >>> x[y == 1] += torch.linspace(0, 3, 30)[:, None]  # class 1 drifts upwards
    >>> model = RocketModel(2, 30, 2, members=1, num_features=840).fit(x, y)
    >>> model(x).argmax(1).eq(y).all().item(), model(x[:3], lengths=torch.tensor([30, 9, 20])).shape
    (True, torch.Size([3, 2]))
    """

    def __init__(self, in_channels: int, length: int, num_outputs: int, *,
                 task: Task | str = Task.CLASSIFICATION, features: str = "minirocket+hydra",
                 num_features: int = 10_000, members: int = 3, seed: int = 0) -> None:
        super().__init__()
        check_choice("RocketModel", "task", task, TASKS)
        check_choice("RocketModel", "features", features, FEATURES)
        for name, value in (("in_channels", in_channels), ("length", length),
                            ("num_outputs", num_outputs), ("members", members),
                            ("num_features", num_features)):
            if value < 1:
                raise value_error("RocketModel", f"{name} >= 1", value)
        self.in_channels, self.length, self.num_outputs = in_channels, length, num_outputs
        self.task, self.features, self.num_features = Task(task), features, num_features
        self.seed = seed
        self.members = nn.ModuleList(_Member(features, in_channels, length, num_outputs,
                                             num_features, seed + i) for i in range(members))
        self.report: dict[str, Any] = {}

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, length={self.length}, "
                f"num_outputs={self.num_outputs}, task='{self.task}', "
                f"features={self.features!r}")

    def _lengths(self, x: Tensor, lengths: Tensor | None, mask: Tensor | None) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise shape_error("RocketModel", f"input (B, T, C) with C={self.in_channels}",
                              x.shape)
        return _resolved("RocketModel", x, lengths, mask)

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        lengths = self._lengths(x, lengths, mask)
        outputs = [member(x, lengths) for member in self.members]
        if self.task is Task.CLASSIFICATION:
            outputs = [o.log_softmax(-1) for o in outputs]
        return torch.stack(outputs).mean(0)

    @torch.no_grad()
    def fit(self, x: Tensor | Rows, y: Tensor, lengths: Tensor | None = None, *,
            progress: Callable[[int, int], None] | None = None) -> RocketModel:
        """Fit every member on training data: x (N, T, C) zero-padded, or :class:`Rows` (N
        series read a batch at a time: the data never has to be in memory at once), y (N,)
        class indices (classification) or (N,)/(N, num_outputs) floats, on the model's
        device; lengths (N,) or None (all T; tensors only). ``progress(done, total)`` is
        called as the samples' features are computed (``total``: N x members).

        Distributed: called in every process of an initialized ``torch.distributed`` group
        (gloo on CPUs, nccl on GPUs), each with all of x and y, every process transforms its
        share of the samples, the ridge statistics are summed with ``all_reduce`` and every
        process ends with the same model (``progress`` counts this process's share).

        Afterwards ``self.report`` holds each member's penalty and the ensemble's
        leave-one-out predictions (``loo``: (M, num_outputs), log-probabilities or values) of
        the samples ``rows`` (M,): every sample up to ``KEEP`` of them, else ``KEEP`` drawn at
        random (seeded), an unbiased estimate of the whole set's; ``share``: (start, stop) of
        the samples this process transformed."""
        if isinstance(x, Tensor):
            source: Rows | _Padded = _Padded(x, self._lengths(x, lengths, None))
            dtype = x.dtype
        elif x.channels != self.in_channels:
            raise value_error("RocketModel.fit", f"series of C={self.in_channels} channels",
                              f"{x.channels} channels")
        else:
            source, dtype = x, torch.float32
        n = len(source)
        if n != len(y):
            raise shape_error("RocketModel.fit", f"one target per sample (N={n})", y.shape)
        if self.task is Task.CLASSIFICATION:
            labels = y.long()
            targets = -torch.ones(n, self.num_outputs, device=y.device, dtype=dtype)
            targets[torch.arange(n), labels] = 1.0
        else:
            labels, targets = None, y.to(dtype).reshape(n, -1)
        keep = torch.arange(n)
        if n > KEEP:
            draw = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed))
            keep = draw[:KEEP].sort().values
        keep = keep.to(y.device)
        rows = _shard(n)
        reports = []
        for i, member in enumerate(self.members):
            def done(count: int, before: int = i * len(rows)) -> None:
                if progress is not None:
                    progress(before + count, len(rows) * len(self.members))
            reports.append(member.fit(source, targets, labels, keep,  # type: ignore[operator]
                                      rows, done))
        loo = [r["loo"] for r in reports]
        if self.task is Task.CLASSIFICATION:
            loo = [s.log_softmax(-1) for s in loo]
        self.report = {"alphas": [r["alpha"] for r in reports],
                       "loo": torch.stack(loo).mean(0), "rows": keep,
                       "share": (rows.start, rows.stop)}
        self.eval()
        return self
