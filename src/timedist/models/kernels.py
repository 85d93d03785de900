"""The rocket family's inner loops, fused: responses, comparisons and counts without the
(batch, kernels, biases, steps) tensors in memory.

Why fused: one MiniRocket member is ~10,000 comparisons and ~10,000 additions per series per
step. Eager torch writes each intermediate to memory and reads it back; on 2 CPU cores it
managed ~0.25 G comparisons per second (14-19 us per series per step), and merely writing the
responses out once costs more than aeon's whole numba transform. The same expressions compiled
by torch.compile (inductor: one C++ loop nest on CPU, one Triton kernel on CUDA) keep every
response in registers: 10-15 G comparisons per second here, 1.5 us per series per step
(docs/benchmarks.md). A hand-written C++/CUDA extension would need a compiler at install time
and a second code path for the GPU; inductor needs neither beyond what torch ships with, and
its CPU code is built with ``-ffp-contract=off`` (no fused multiply-add) and without unsafe
math, so a compiled response equals the eager one bit for bit.

Every function here is exact elementwise arithmetic in the input's dtype, each output summed in
a fixed order, so a series gets the same features alone or in any batch (float32 suffices: no
float64 is needed for batch invariance). ``TIMEDIST_COMPILE=0`` runs them eagerly (slow, same
results); eager is also used while a graph is being traced (ONNX, torch.export), and after a
failed compilation (one warning).

Shapes: ``taps`` (B, R, 9, T) are the nine dilated shifts of R rows (series or channel mixes)
from :func:`shifted`; ``rows`` index the row each kernel reads.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.fx.experimental import _config as fx_config

from .._checks import tracing

__all__ = ["compiled", "fused", "hydra_counts", "minirocket_response", "ppv_counts", "shifted",
           "tap_index"]

KERNEL = 9
GROUP = 4  # biases compared per pass over a response (measured: 2 -> 1.9, 4 -> 1.5 us)
# (3, 84): the positions of the three weight-2 taps of each MiniRocket kernel (the other six
# weigh -1), in the order of random_conv.minirocket_kernels.
TWOS = torch.tensor(list(itertools.combinations(range(KERNEL), 3))).T.contiguous()


class _Fused:
    """``fn`` compiled with torch.compile on first use; eager where compiling is off, while a
    graph is traced, or after a compilation failed.

    One graph serves every batch size, length and bias count (dynamic shapes). What would
    otherwise compile a graph per call pattern is removed here: a batch of one is run as two
    copies (sizes 0 and 1 are specialized), sizes that happen to coincide are not unified
    (no duck shapes), and the inputs are contiguous (strides are guarded). What remains is
    one graph per dtype x (one row or several) x kernels per Hydra group, within the limit.
    ``batched``: the positions of the arguments whose first dimension is the batch.
    ``eager``: the same arithmetic written for eager runs and traces (ONNX, torch.export),
    where ``fn``'s loops — written so the compiler keeps every value in registers — would
    each be a node of the graph; by default ``fn`` itself."""

    def __init__(self, fn: Callable[..., Any], batched: tuple[int, ...],
                 eager: Callable[..., Any] | None = None) -> None:
        self.fn, self.batched, self.eager = fn, batched, eager or fn
        self.compiled: Callable[..., Any] | None = None
        self.failed = False
        self.__name__ = fn.__name__

    @property
    def active(self) -> bool:
        """Whether the next call outside a trace runs compiled."""
        return not self.failed and os.environ.get("TIMEDIST_COMPILE", "1") != "0"

    def __call__(self, *args: Any) -> Any:
        if tracing() or not self.active:
            return self.eager(*args)
        if self.compiled is None:
            self.compiled = torch.compile(self.fn, dynamic=True)
        single = args[self.batched[0]].shape[0] == 1
        if single:
            args = tuple(torch.cat([a, a]) if i in self.batched else a
                         for i, a in enumerate(args))
        try:
            with torch._dynamo.config.patch(recompile_limit=32), \
                    fx_config.patch(use_duck_shape=False):  # type: ignore[attr-defined]
                result = self.compiled(*args)
        except Exception as error:
            result = self.eager(*args)  # a genuine error (bad input) raises here, unchanged
            self.failed = True
            warnings.warn(f"timedist: compiling {self.__name__} failed ({type(error).__name__}: "
                          f"{str(error).splitlines()[0] if str(error) else ''}); running it "
                          "eagerly, several times slower (set TIMEDIST_COMPILE=0 to skip the "
                          "attempt)", RuntimeWarning, stacklevel=2)
        if single:
            return tuple(r[:1] for r in result) if isinstance(result, tuple) else result[:1]
        return result


def fused(fn: Callable[..., Any], batched: tuple[int, ...] = (0,),
          eager: Callable[..., Any] | None = None) -> _Fused:
    """Wrap ``fn`` so it runs compiled (see :class:`_Fused`)."""
    return _Fused(fn, batched, eager)


def shifted(series: Tensor, dilation: int) -> tuple[Tensor, Tensor]:
    """The nine taps of a length-9 kernel at ``dilation`` ("same" zero padding) and their sum.

    series (B, R, T) -> taps (B, R, 9, T), tap j at step t reading series[t + (j - 4) d]
    (contiguous), and total (B, R, T), the taps summed
    in order 0..8."""
    steps, pad = series.shape[-1], 4 * dilation
    padded = F.pad(series, (pad, pad))
    # Copied out (9 writes per step and row, against ~10,000 comparisons): a contiguous input
    # compiles once for every dilation, a strided view once per stride.
    taps = torch.stack([padded[..., j * dilation : j * dilation + steps]
                        for j in range(KERNEL)], 2)
    total = taps[:, :, 0]
    for j in range(1, KERNEL):
        total = total + taps[:, :, j]
    return taps, total


def tap_index(rows: Tensor) -> Tensor:
    """(3, 84) indices into taps flattened to (B, R * 9, T): the weight-2 taps of each
    MiniRocket kernel k on row ``rows[k]``. rows (84,) int64."""
    return rows.unsqueeze(0) * KERNEL + TWOS.to(rows.device)


def minirocket_response(taps: Tensor, total: Tensor, rows: Tensor, index: Tensor) -> Tensor:
    """MiniRocket's 84 kernels (weights -1 and three 2s) as additions: with s the sum of the
    three weight-2 taps, the response is 2s - (total - s) = s + s + s - total.

    taps (B, R, 9, T), total (B, R, T), rows (84,), index (3, 84) from :func:`tap_index`
    -> (B, 84, T)."""
    flat = taps.flatten(1, 2)  # (B, R * 9, T)
    s = flat[:, index[0]] + flat[:, index[1]] + flat[:, index[2]]
    return s + s + s - total[:, rows]


def _window(steps: int, lo: Tensor, hi: Tensor, like: Tensor) -> Tensor:
    """(B, K, T) bool: lo <= t < hi, with lo, hi (B, K) float."""
    t = torch.arange(steps, device=like.device, dtype=like.dtype)
    return (t >= lo.unsqueeze(-1)) & (t < hi.unsqueeze(-1))


def _ppv_counts(taps: Tensor, total: Tensor, rows: Tensor, index: Tensor, bias: Tensor,
                lo: Tensor, hi: Tensor) -> Tensor:
    response = minirocket_response(taps, total, rows, index)  # (B, 84, T), never stored
    inside = _window(response.shape[-1], lo, hi, response)
    response = torch.where(inside, response, -torch.inf).unsqueeze(2)  # (B, 84, 1, T)
    grouped = bias.view(bias.shape[0], -1, GROUP)  # (84, Q / GROUP, GROUP)
    # GROUP separate reductions over T: inductor fuses them into one pass over the response.
    counts = [(response > grouped[None, :, :, g, None]).sum(-1, dtype=response.dtype)
              for g in range(GROUP)]
    return torch.stack(counts, -1).flatten(2)


_ppv_counts_fused = fused(_ppv_counts, batched=(0, 1, 5, 6))


def ppv_counts(taps: Tensor, total: Tensor, rows: Tensor, index: Tensor, bias: Tensor,
               lo: Tensor, hi: Tensor) -> Tensor:
    """How many steps of each MiniRocket response exceed each of its biases.

    taps (B, R, 9, T), total (B, R, T), rows (84,), index (3, 84) (:func:`tap_index`),
    bias (84, Q), lo, hi (B, 84) float: the steps lo <= t < hi are pooled -> (B, 84, Q)
    counts (floats). The biases are padded to a multiple of GROUP with +inf (never exceeded)
    here, outside the compiled graph, so one graph serves every Q."""
    count = bias.shape[1]
    padded = F.pad(bias, (0, -count % GROUP), value=torch.inf)
    counts: Tensor = _ppv_counts_fused(taps, total, rows, index, padded, lo, hi)
    return counts[..., :count]




def _hydra_counts(taps: Tensor, rows: Tensor, weight: Tensor, valid: Tensor
                  ) -> tuple[Tensor, Tensor]:
    series = taps[:, rows]  # (B, G, 9, T)
    responses = []  # one (B, G, T) per kernel: elementwise, so nothing forces a store
    for k in range(weight.shape[1]):
        response = weight[None, :, k, 0, None] * series[:, :, 0]
        for j in range(1, KERNEL):
            response = response + weight[None, :, k, j, None] * series[:, :, j]
        responses.append(response)
    top, bottom = responses[0], responses[0]
    for response in responses[1:]:
        top, bottom = torch.maximum(top, response), torch.minimum(bottom, response)
    winner = loser = torch.full_like(top, len(responses) - 1)  # the first of equals: k
    for k in range(len(responses) - 2, -1, -1):
        winner = torch.where(responses[k] == top, k, winner)
        loser = torch.where(responses[k] == bottom, k, loser)
    won, counted = top * valid.unsqueeze(1), valid.unsqueeze(1).expand_as(top)
    wins = [torch.where(winner == k, won, 0.0).sum(-1) for k in range(len(responses))]
    losses = [torch.where(loser == k, counted, 0.0).sum(-1) for k in range(len(responses))]
    return torch.stack(wins, -1), torch.stack(losses, -1)


def _hydra_counts_eager(taps: Tensor, rows: Tensor, weight: Tensor, valid: Tensor
                        ) -> tuple[Tensor, Tensor]:
    """:func:`_hydra_counts` with the kernels as one dimension (B, G, K, T): each response is
    the same products added in the same order, the same maximum, the same first of equals and
    the same sums over steps — equal bit for bit, in ~20 operations instead of ~300 (a traced
    graph of the default model had ~3,000 nodes, minutes to export)."""
    series = taps[:, rows].unsqueeze(2)  # (B, G, 1, 9, T)
    w = weight[None, :, :, :, None]  # (1, G, K, 9, 1)
    response = w[:, :, :, 0] * series[:, :, :, 0]
    for j in range(1, KERNEL):
        response = response + w[:, :, :, j] * series[:, :, :, j]  # (B, G, K, T)
    kernels = torch.arange(weight.shape[1], device=taps.device).view(1, 1, -1, 1)
    winner = response.argmax(2, keepdim=True)  # the first of equals
    loser = response.argmin(2, keepdim=True)
    top = response.amax(2, keepdim=True)
    won, counted = top * valid[:, None, None], valid[:, None, None].expand_as(top)
    wins = torch.where(winner == kernels, won, 0.0).sum(-1)
    losses = torch.where(loser == kernels, counted, 0.0).sum(-1)
    return wins, losses


_hydra_counts_fused = fused(_hydra_counts, batched=(0, 3), eager=_hydra_counts_eager)


def hydra_counts(taps: Tensor, rows: Tensor, weight: Tensor, valid: Tensor
                 ) -> tuple[Tensor, Tensor]:
    """Hydra's competition: per group, at every step, the kernel with the largest response
    collects it and the one with the smallest one count (the first of equals, both times).

    taps (B, R, 9, T), rows (G,) (the row each group reads), weight (G, K, 9), valid (B, T)
    float (1 on the steps that count) -> wins, losses (B, G, K)."""
    return _hydra_counts_fused(taps, rows, weight, valid)  # type: ignore[no-any-return]


def compiled() -> bool:
    """Whether the fused functions run compiled (so no response is ever stored whole)."""
    return _ppv_counts_fused.active and _hydra_counts_fused.active
