"""Random convolution features (the ROCKET family, Dempster et al.) in torch, honouring lengths.

Two feature maps of (B, T, C) signals, each a module with fixed (seeded) kernels and biases
fitted on training data, so they travel in a ``state_dict``:

- :class:`MultiRocketFeatures`: MiniRocket's 84 kernels of length 9 with weights in {-1, 2}
  (three 2s), at exponentially spaced dilations, each with several biases taken at quantiles of
  its response to a random training sample; per (kernel, dilation, bias) up to four poolings
  of ``conv - bias`` over the valid steps (MultiRocket): PPV (the proportion of positive
  values), MPV (their mean), MIPV (their mean position) and LSPV (the longest run of positive
  values), on the series and on its first difference. Multivariate: each (kernel, dilation)
  sums a random subset of 1..9 channels.
- :class:`HydraFeatures`: groups of random kernels compete at every step (Hydra): per group
  the kernel with the largest response collects that response, the one with the smallest a
  count; on the series and its first difference, at dilations 1, 2, 4, ...

Lengths: a padded batch (B, T_max, C) with ``lengths`` (B,) gives every sample the features it
would get alone (its padding reads as zeros, which is the convolutions' own padding); MIPV,
LSPV and Hydra's counts are fractions of the sample's length, so series of different lengths
are comparable. These are written from the papers' descriptions, not ported code.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .._checks import shape_error, tracing, value_error
from ..masking import lengths_to_mask, resolve_lengths
from .kernels import compiled, hydra_counts, minirocket_response, ppv_counts, shifted, tap_index

__all__ = ["HydraFeatures", "MultiRocketFeatures", "dilation_schedule", "minirocket_kernels"]

KERNEL = 9  # kernel length of MiniRocket and Hydra
POOLINGS = ("ppv", "mpv", "mipv", "lspv")
_GOLDEN = (math.sqrt(5) + 1) / 2


def minirocket_kernels() -> Tensor:
    """(84, 9): every kernel -1 everywhere and 2 at one of the C(9, 3) = 84 choices of three
    positions (each sums to 0: an offset of the input does not change the response)."""
    weights = torch.full((84, KERNEL), -1.0)
    for k, positions in enumerate(itertools.combinations(range(KERNEL), 3)):
        weights[k, list(positions)] = 2.0
    return weights


def dilation_schedule(length: int, per_kernel: int, max_dilations: int = 32
                      ) -> tuple[list[int], list[int]]:
    """(dilations, biases per dilation) for series of ``length`` steps and ``per_kernel``
    features per kernel: up to ``max_dilations`` dilations spaced exponentially from 1 to
    (length - 1) / 8 (the kernel's span stays within the series), the features spread evenly.

    >>> dilations, features = dilation_schedule(150, 119)  # MiniRocket's 10,000 // 84 = 119
    >>> dilations
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 18]
    >>> features, sum(features)
    ([30, 15, 12, 12, 4, 8, 8, 4, 4, 4, 3, 3, 3, 3, 3, 3], 119)
    """
    count = max(1, min(per_kernel, max_dilations))
    top = math.log2(max(length - 1, KERNEL - 1) / (KERNEL - 1))
    spaced = (2 ** torch.linspace(0, top, count, dtype=torch.float64)).long()
    dilations, repeats = torch.unique(spaced, return_counts=True)
    features = (repeats.double() * (per_kernel / count)).long()
    for i in range(per_kernel - int(features.sum())):
        features[i % len(features)] += 1
    return dilations.tolist(), features.tolist()


def _difference(x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """First difference along time of (B, C, T) with padding kept at zero; new lengths."""
    shorter = (lengths - 1).clamp_min(1)
    d = torch.diff(x, dim=-1) if x.shape[-1] > 1 else torch.zeros_like(x)
    return d * lengths_to_mask(shorter, d.shape[-1]).unsqueeze(1), shorter


def _quantiles(values: Tensor, valid: Tensor, q: Tensor) -> Tensor:
    """Row-wise linear-interpolated quantiles over valid entries: values, valid (R, T), q (R, Q)
    -> (R, Q)."""
    filled = values.masked_fill(~valid, math.inf)
    ordered = filled.sort(dim=-1).values
    n = valid.sum(-1, keepdim=True).clamp_min(1)
    position = q * (n - 1)
    low = position.floor().long()
    high = torch.minimum(low + 1, n - 1)
    weight = position - low
    lo, hi = ordered.gather(-1, low), ordered.gather(-1, high)
    return lo + weight * (hi - lo)


def _mixed(x: Tensor, channels: Tensor) -> tuple[Tensor, Tensor]:
    """The distinct channel sums that kernels read: x (B, C, T), channels (G, C) 0/1 ->
    rows (B, R, T) and index (G,) int64, group g reading rows[:, index[g]].

    A kernel applied to every chosen channel and summed equals the kernel on the channels' sum,
    so the channels are mixed first (C operations per output instead of C x 9). The sum is
    taken in float64 and rounded once, so it is the same for a series alone or in any batch
    (a float32 matmul rounds differently for different batch sizes, and a response compared
    with a bias taken from that very response would flip). One channel: nothing to mix."""
    if x.shape[1] == 1:
        return x, torch.zeros(len(channels), dtype=torch.long, device=x.device)
    if tracing():  # a traced graph cannot depend on how many subsets are distinct
        distinct, index = channels, torch.arange(len(channels), device=x.device)
    else:
        distinct, index = torch.unique(channels, dim=0, return_inverse=True)
    rows = torch.einsum("bct,rc->brt", x.double(), distinct.double()).to(x.dtype)
    return rows, index


WORKING_SET = 1 << 22  # elements of the largest intermediate tensor per chunk (measured best)


def _in_chunks(transform: Callable[[Tensor, Tensor], Tensor], x: Tensor, lengths: Tensor,
               per_series: int) -> Tensor:
    """``transform`` over chunks of the batch, so its intermediates stay near WORKING_SET
    elements (twice as fast as one pass at T=1500: docs/benchmarks.md)."""
    size = max(1, WORKING_SET // max(per_series, 1))
    if tracing() or len(x) <= size:  # a traced graph takes any B in one piece
        return transform(x, lengths)
    return torch.cat([transform(x[i : i + size], lengths[i : i + size])
                      for i in range(0, len(x), size)])


def _resolved(name: str, x: Tensor, lengths: Tensor | None, mask: Tensor | None) -> Tensor:
    """(B,) int64 lengths of x (B, T, ...) on its device: validated ``lengths`` or prefix
    ``mask`` (integers in [1, T]; errors name ``name``), or T for every sample."""
    checked = resolve_lengths(name, mask, lengths, x.shape[0], x.shape[1])
    if checked is None:
        return torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=x.device)
    return checked.to(x.device)


def _checked_input(name: str, x: Tensor, lengths: Tensor | None, channels: int
                   ) -> tuple[Tensor, Tensor]:
    if x.dim() != 3 or x.shape[-1] != channels:
        raise shape_error(name, f"input (B, T, C) with C={channels}", x.shape)
    lengths = _resolved(name, x, lengths, None)
    if tracing() or bool((lengths < x.shape[1]).any()):  # padding reads as zeros, whatever
        # it holds (eager mode skips the copy when nothing is padded)
        x = torch.where(lengths_to_mask(lengths, x.shape[1]).unsqueeze(-1), x, 0.0)
    return x.transpose(1, 2), lengths


class MultiRocketFeatures(nn.Module):
    """MiniRocket / MultiRocket features of (B, T, C) signals.

    Args:
        in_channels: C.
        length: the training series length (sets the dilations; any length is accepted later).
        num_features: about how many (kernel, dilation, bias) combinations per representation
            (rounded down to a multiple of 84).
        poolings: a subset of ``POOLINGS``; ``("ppv",)`` is MiniRocket.
        difference: also transform the first difference of the series (MultiRocket).
        seed: draws the channel subsets and which training samples set the biases.

    Call :meth:`fit` on training data before use (it sets the biases).

    Shape: x (B, T, C), lengths (B,) -> (B, out_features) with out_features =
    combinations x len(poolings) x (2 if difference else 1).

    >>> import torch
    >>> f = MultiRocketFeatures(1, 50, num_features=168).fit(torch.randn(10, 50, 1))
    >>> f(torch.randn(4, 50, 1)).shape
    torch.Size([4, 1344])
    """

    def __init__(self, in_channels: int, length: int, *, num_features: int = 6_250,
                 poolings: tuple[str, ...] = POOLINGS, difference: bool = True,
                 seed: int = 0) -> None:
        super().__init__()
        self.kernels: Tensor  # (84, 1, 9), a buffer
        unknown = [p for p in poolings if p not in POOLINGS]
        if unknown or not poolings:
            raise value_error("MultiRocketFeatures", f"poolings among {POOLINGS}", poolings)
        self.in_channels, self.length, self.seed = in_channels, length, seed
        self.poolings, self.difference = tuple(poolings), difference
        per_kernel = max(1, num_features // 84)
        g = torch.Generator().manual_seed(seed)
        self.representations = 2 if difference else 1
        self.dilations: list[list[int]] = []
        self.counts: list[list[int]] = []
        for r in range(self.representations):
            dilations, counts = dilation_schedule(max(length - r, 2), per_kernel)
            self.dilations.append(dilations)
            self.counts.append(counts)
            # (D, 84, C): the random channel subset each (dilation, kernel) sums
            self.register_buffer(f"channels{r}", self._channel_masks(len(dilations), g))
            self.register_buffer(f"bias{r}", torch.zeros(84 * sum(counts)))
        self.register_buffer("kernels", minirocket_kernels().unsqueeze(1))  # (84, 1, 9)
        self.out_features = 84 * per_kernel * len(self.poolings) * self.representations

    def _channel_masks(self, dilations: int, g: torch.Generator) -> Tensor:
        """(dilations, 84, C) 0/1: the channels each (dilation, kernel) sums."""
        channels = self.in_channels
        most = min(channels, 9)
        sizes = (2 ** (torch.rand(dilations, 84, generator=g) * math.log2(most + 1))).long()
        # A random order of the channels per (dilation, kernel), its first `size` chosen: one
        # draw for all (a randperm per pair cost 40 ms of a 0.4 s fit).
        rank = torch.rand(dilations, 84, channels, generator=g).argsort(-1).argsort(-1)
        return (rank < sizes.clamp(1, most).unsqueeze(-1)).float()

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, length={self.length}, "
                f"out_features={self.out_features}, poolings={self.poolings}")

    def _inputs(self, x: Tensor, lengths: Tensor) -> list[tuple[Tensor, Tensor]]:
        inputs = [(x, lengths)]
        if self.difference:
            inputs.append(_difference(x, lengths))
        return inputs

    @torch.no_grad()
    def fit(self, x: Tensor, lengths: Tensor | None = None) -> MultiRocketFeatures:
        """Set the biases from training data x (N, T, C): for each (kernel, dilation), the
        response to one random training sample at low-discrepancy quantiles."""
        x, lengths = _checked_input("MultiRocketFeatures", x, lengths, self.in_channels)
        whole = self._inputs(x, lengths)
        return self._fit_biases(lambda r, picks: (whole[r][0][picks], whole[r][1][picks]),
                                len(x))

    @torch.no_grad()
    def fit_rows(self, rows: Callable[[Tensor], tuple[Tensor, Tensor]], count: int
                 ) -> MultiRocketFeatures:
        """:meth:`fit` on ``count`` training series read a few at a time: ``rows(index)`` ->
        (x (B, T_b, C) zero-padded, lengths (B,)) of the series at ``index`` — the same biases
        as ``fit`` on them all, which never have to be in memory together."""
        def picked(r: int, picks: Tensor) -> tuple[Tensor, Tensor]:
            x, lengths = _checked_input("MultiRocketFeatures", *rows(picks), self.in_channels)
            return self._inputs(x, lengths)[r]
        return self._fit_biases(picked, count)

    def _fit_biases(self, picked: Callable[[int, Tensor], tuple[Tensor, Tensor]], count: int
                    ) -> MultiRocketFeatures:
        """The biases, each (kernel, dilation) from the training series ``picks`` drawn for it:
        ``picked(representation, picks)`` -> those series (84, C, T') and their lengths."""
        g = torch.Generator().manual_seed(self.seed + 1)
        for r in range(len(self.dilations)):
            biases = []
            quantile = 1
            for i, (d, count_d) in enumerate(zip(self.dilations[r], self.counts[r],
                                                 strict=True)):
                picks = torch.randint(count, (84,), generator=g)
                series, valid_lengths = picked(r, picks)
                # Kernel k's response to series picks[k]: its channels' sum (mixed as in
                # forward: float64, rounded once), then the kernel, as in forward.
                chosen = getattr(self, f"channels{r}")[i]  # (84, C)
                mixed = torch.einsum("kct,kc->kt", series.double(),
                                     chosen.double()).to(series.dtype)  # (84, T)
                taps, total = shifted(mixed.unsqueeze(0), d)
                rows = torch.arange(84, device=series.device)
                response = minirocket_response(taps, total, rows, tap_index(rows))[0]
                valid = lengths_to_mask(valid_lengths, series.shape[-1])
                q = (torch.arange(quantile, quantile + 84 * count_d, dtype=torch.float64)
                     * _GOLDEN % 1).view(84, count_d).to(series.dtype)
                quantile += 84 * count_d
                biases.append(_quantiles(response, valid, q).flatten())
            getattr(self, f"bias{r}").copy_(torch.cat(biases))
        return self

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        x, lengths = _checked_input("MultiRocketFeatures", x, lengths, self.in_channels)
        rows = 1 if self.in_channels == 1 else 84
        if self.poolings == ("ppv",) and compiled():  # counted without the responses
            per_series = 84 + rows * 10
        else:  # responses compared with all biases of a (kernel, dilation) at once
            per_series = 84 * max(max(counts) for counts in self.counts) + rows * 10
        return _in_chunks(self._features, x, lengths, per_series * x.shape[-1])

    def _features(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (B, C, T) with zero padding, lengths (B,) -> (B, out_features)."""
        features: list[Tensor] = []
        for r, (series, valid_lengths) in enumerate(self._inputs(x, lengths)):
            per_pooling: dict[str, list[Tensor]] = {p: [] for p in self.poolings}
            start = 0
            bias_all = getattr(self, f"bias{r}")
            for i, (d, count) in enumerate(zip(self.dilations[r], self.counts[r], strict=True)):
                rows, index = _mixed(series, getattr(self, f"channels{r}")[i])
                taps, total = shifted(rows, d)
                bias = bias_all[start : start + 84 * count].view(84, count)
                start += 84 * count
                # MiniRocket's alternation: half the (kernel, dilation) pairs pool over the
                # steps their kernel sees entirely (no padding), the rest over every step.
                inner = ((torch.arange(84, device=x.device) + i) % 2 == 1)
                lo, hi = _pooled_range(valid_lengths, inner, 4 * d)
                if self.poolings == ("ppv",):
                    counts = ppv_counts(taps, total, index, tap_index(index), bias,
                                        lo.to(x.dtype), hi.to(x.dtype))
                    per_pooling["ppv"].append((counts / (hi - lo).unsqueeze(-1)).flatten(1))
                    continue
                response = minirocket_response(taps, total, index, tap_index(index))
                pooled = _pool(response, bias, lo, hi, self.poolings)
                for p, value in zip(self.poolings, pooled, strict=True):
                    per_pooling[p].append(value.flatten(1))
            features.extend(torch.cat(per_pooling[p], 1) for p in self.poolings)
        return torch.cat(features, 1)


def _pooled_range(lengths: Tensor, inner: Tensor, margin: int) -> tuple[Tensor, Tensor]:
    """The steps each (sample, kernel) pools over: lengths (B,), inner (K,) bool -> lo, hi
    (B, K) int64: [margin, length - margin) where ``inner`` and that is not empty, else all
    valid steps [0, length)."""
    lo = torch.where(inner, margin, 0).unsqueeze(0)  # (1, K)
    hi = lengths.unsqueeze(1) - lo  # (B, K)
    empty = hi <= lo
    return torch.where(empty, 0, lo), torch.where(empty, lengths.unsqueeze(1), hi)


def _pool(response: Tensor, bias: Tensor, lo: Tensor, hi: Tensor, poolings: tuple[str, ...]
          ) -> list[Tensor]:
    """Pool ``response - bias`` over the steps lo <= t < hi.

    response (B, K, T), bias (K, Q), lo, hi (B, K) int64 (:func:`_pooled_range`). Returns one
    (B, K, Q) tensor per pooling name.
    """
    t = torch.arange(response.shape[-1], device=response.device)
    valid = (t >= lo.unsqueeze(-1)) & (t < hi.unsqueeze(-1))  # (B, K, T)
    count = (hi - lo).to(response.dtype).unsqueeze(-1)  # (B, K, 1)
    # Steps outside the pooled range read -inf: never positive, 0 after clamping.
    masked = response.masked_fill(~valid, -math.inf).unsqueeze(2)  # (B, K, 1, T)
    positive = masked > bias.unsqueeze(-1)  # (B, K, Q, T)
    hits = positive.sum(-1, dtype=response.dtype)  # (B, K, Q)
    out = []
    for name in poolings:
        if name == "ppv":
            out.append(hits / count)
        elif name == "mpv":
            above = (masked - bias.unsqueeze(-1)).clamp_min(0)
            out.append(above.sum(-1) / hits.clamp_min(1))
        elif name == "mipv":  # mean position from the range's start, as a fraction
            total = positive.to(response.dtype) @ t.to(response.dtype)
            mean = (total - lo.unsqueeze(-1) * hits) / hits.clamp_min(1) / count
            out.append(torch.where(hits > 0, mean, -1.0))
        else:  # lspv: the longest run of positive steps, as a fraction of the range
            steps32 = t.to(torch.int32)
            last_off = torch.where(positive, -1, steps32).cummax(-1).values
            out.append((steps32 - last_off).amax(-1).to(response.dtype) / count)
    return out


class HydraFeatures(nn.Module):
    """Hydra features of (B, T, C) signals: competing random kernels, counted.

    Args:
        in_channels: C.
        length: the training series length (sets the dilations 1, 2, 4, ... up to
            (length - 1) / 8).
        groups: groups of kernels per dilation (half on the series, half on its difference).
        kernels: kernels per group.
        seed: draws the kernels and the channel subsets.

    No fitting needed. Features are sqrt of the counts per step (the Hydra paper's transform).

    Shape: x (B, T, C), lengths (B,) -> (B, out_features), out_features = dilations x groups x
    kernels x 2.

    >>> import torch
    >>> HydraFeatures(3, 100, groups=8)(torch.randn(2, 100, 3)).shape
    torch.Size([2, 512])
    """

    weight: Tensor  # (dilations, 2, groups / 2 * kernels, 1, 9)
    channels: Tensor  # (dilations, 2, groups / 2, C): the channels each group sums

    def __init__(self, in_channels: int, length: int, *, groups: int = 64, kernels: int = 8,
                 seed: int = 0) -> None:
        super().__init__()
        if groups < 2 or groups % 2:
            raise value_error("HydraFeatures", "an even number of groups >= 2", groups)
        self.in_channels, self.length = in_channels, length
        self.groups, self.kernels = groups, kernels
        top = int(math.log2(max(length - 1, KERNEL - 1) / (KERNEL - 1)))
        self.dilations = [2**i for i in range(top + 1)]
        g = torch.Generator().manual_seed(seed)
        half = groups // 2
        weight = torch.randn(len(self.dilations), 2, half * kernels, KERNEL, generator=g)
        weight = weight - weight.mean(-1, keepdim=True)
        weight = weight / weight.abs().sum(-1, keepdim=True)
        # Multivariate: each group reads the sum of a random subset of channels.
        per_group = min(max(in_channels // 2, 2), 8, in_channels)
        masks = torch.zeros(len(self.dilations), 2, half, in_channels)
        for index in itertools.product(range(len(self.dilations)), range(2), range(half)):
            masks[index][torch.randperm(in_channels, generator=g)[:per_group]] = 1.0
        self.register_buffer("channels", masks)
        self.register_buffer("weight", weight.unsqueeze(3))
        self.out_features = len(self.dilations) * groups * kernels * 2

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, length={self.length}, groups={self.groups}, "
                f"kernels={self.kernels}, out_features={self.out_features}")

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        x, lengths = _checked_input("HydraFeatures", x, lengths, self.in_channels)
        rows = 1 if self.in_channels == 1 else self.groups // 2
        per_series = rows * 10 + (0 if compiled() else self.groups // 2 * self.kernels)
        return _in_chunks(self._features, x, lengths, per_series * x.shape[-1])

    def _features(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x (B, C, T) with zero padding, lengths (B,) -> (B, out_features)."""
        inputs = [(x, lengths), _difference(x, lengths)]
        half, k = self.groups // 2, self.kernels
        features: list[Tensor] = []
        for i, d in enumerate(self.dilations):
            for r, (series, valid_lengths) in enumerate(inputs):
                rows, index = _mixed(series, self.channels[i, r])
                taps, _ = shifted(rows, d)
                # Winners are found at every step; padded steps then add nothing.
                valid = lengths_to_mask(valid_lengths, series.shape[-1]).to(x.dtype)  # (B, T)
                weight = self.weight[i, r].view(half, k, KERNEL).to(x.dtype)
                wins, losses = hydra_counts(taps, index, weight, valid)  # (B, G, K) each
                scale = valid_lengths.to(x.dtype).view(-1, 1, 1)
                features += [wins / scale, losses / scale]
        return torch.cat([f.flatten(1) for f in features], 1).clamp_min(0).sqrt()
