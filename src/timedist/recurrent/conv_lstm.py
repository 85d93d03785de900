"""ConvLSTM1d/2d/3d: Keras' ConvLSTM as one rank-generic module and three thin variants.

Gates i, f, c, o (Keras' order). The input convolution uses the layer's stride, padding and
dilation; the recurrent convolution always uses "same" padding and stride 1, so the state has
the spatial size of the input convolution's output. "same" pads like Keras/TensorFlow (the odd
pixel goes to the end), so even kernels work.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_choice, shape_error, standardize_tuple, type_error, value_error
from ..folding import fold, unfold
from ..masking import lengths_to_mask
from .base import SequenceLayer
from .scan import masked_scan

__all__ = ["ConvLSTM", "ConvLSTM1d", "ConvLSTM2d", "ConvLSTM3d"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) zero padding that gives ceil(size / stride) outputs, the extra at the end."""
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
              dilation: tuple[int, ...]) -> tuple[Tensor, tuple[int, ...]]:
    """x (N, C, *spatial) and the conv ``padding`` that together give "same".

    Symmetric padding is left to the convolution (no copy); only the asymmetric case (even
    kernels, some strides) pads x explicitly (F.pad lists the last dim first).
    """
    sizes = [same_padding(n, k, s, d)
             for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation, strict=True)]
    if all(before == after for before, after in sizes):
        return x, tuple(before for before, _ in sizes)
    pads = [p for before, after in reversed(sizes) for p in (before, after)]
    return F.pad(x, pads), (0,) * len(sizes)


class ConvLSTM(SequenceLayer, nn.Module):
    """A convolutional LSTM over (B, T, C, *spatial) sequences; use ConvLSTM1d/2d/3d.

    Args:
        rank: number of spatial dims (1, 2 or 3).
        in_channels, out_channels: C and F (Keras' ``filters``).
        kernel_size, stride, dilation: int or ``rank``-tuple (stride > 1 with dilation > 1 is
            refused, as in Keras).
        padding: "same" (default), "valid", or an int/tuple of symmetric zero padding — for the
            input convolution only.
        bias, batch_first, return_sequences, return_state, go_backwards, stateful: as for
            ``timedist.LSTM``.
        dropout, recurrent_dropout: fraction of input / state pixels dropped in training; one
            mask per sequence, reused at every step (Keras' semantics).

    ``forward(x, hx=None, *, lengths=None, mask=None)``; ``hx = (h0, c0)``.

    Shape (S = the input's spatial dims, S' = the input convolution's output size):
        - Input x: (B, T, C, *S) (channels-first like torch.nn.ConvNd), (T, B, C, *S) if not
          batch_first; lengths (B,) or a prefix mask (B, T).
        - Output: (B, T, F, *S') with ``return_sequences`` (padded steps are 0), else
          (B, F, *S') — each sample's last valid step.
        - States h, c: (B, F, *S') each; ``return_state=True`` gives ``(output, (h, c))``.
    """

    def __init__(
        self,
        rank: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        *,
        stride: int | tuple[int, ...] = 1,
        padding: str | int | tuple[int, ...] = "same",
        dilation: int | tuple[int, ...] = 1,
        bias: bool = True,
        batch_first: bool = True,
        return_sequences: bool = True,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
    ) -> None:
        nn.Module.__init__(self)
        check_choice(f"ConvLSTM{rank}d", "rank", rank, (1, 2, 3))
        self.rank = rank
        name = self._name
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise value_error(name, f"{arg} to be an int >= 1", value)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = standardize_tuple(name, "kernel_size", kernel_size, rank)
        self.stride = standardize_tuple(name, "stride", stride, rank)
        self.dilation = standardize_tuple(name, "dilation", dilation, rank)
        if max(self.stride) > 1 and max(self.dilation) > 1:
            raise value_error(name, "stride 1 when dilation > 1 (as Keras)",
                              {"stride": stride, "dilation": dilation})
        if isinstance(padding, str):
            check_choice(name, "padding", padding, ("same", "valid"))
            self.padding: str | tuple[int, ...] = padding
        else:
            self.padding = (padding,) * rank if isinstance(padding, int) else tuple(padding)
            if len(self.padding) != rank or min(self.padding) < 0:
                raise value_error(name, f"padding 'same', 'valid' or {rank} ints >= 0", padding)
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(rate) < 1.0:
                raise value_error(name, f"{arg} in [0, 1)", rate)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.batch_first = bool(batch_first)
        self._set_options(return_sequences, return_state, go_backwards, stateful)
        gates = 4 * out_channels
        self.weight_ih = nn.Parameter(torch.empty(gates, in_channels, *self.kernel_size))
        self.weight_hh = nn.Parameter(torch.empty(gates, out_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(gates)) if bias else None
        self.reset_parameters()

    @property
    def _name(self) -> str:
        return f"ConvLSTM{self.rank}d"

    @property
    def feature_dim(self) -> int:
        """The channel dim of every output (where Bidirectional concatenates)."""
        return -(self.rank + 1)

    def reset_parameters(self) -> None:
        """Keras' initialisation: glorot-uniform input kernel, orthogonal recurrent kernel,
        zero bias with the forget gate's at 1 (``unit_forget_bias``)."""
        nn.init.xavier_uniform_(self.weight_ih)
        nn.init.orthogonal_(self.weight_hh)
        if self.bias is not None:
            with torch.no_grad():
                self.bias.zero_()
                self.bias[self.out_channels : 2 * self.out_channels] = 1.0

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"]
        for arg, default in (("stride", (1,) * self.rank), ("padding", "same"),
                             ("dilation", (1,) * self.rank), ("dropout", 0.0),
                             ("recurrent_dropout", 0.0)):
            if getattr(self, arg) != default:
                parts.append(f"{arg}={getattr(self, arg)!r}")
        if self.bias is None:
            parts.append("bias=False")
        if not self.batch_first:
            parts.append("batch_first=False")
        return ", ".join(parts + self._options_repr())

    # -- shape logic ---------------------------------------------------------------------------

    def _pattern(self) -> str:
        lead = ("B", "T") if self.batch_first else ("T", "B")
        return "(" + ", ".join((*lead, "C", *_SPATIAL[self.rank])) + ")"

    def output_spatial(self, spatial: tuple[int, ...]) -> tuple[int, ...]:
        """S' for input spatial size S: ceil(S / stride) for "same", else the conv formula."""
        if self.padding == "same":
            return tuple(math.ceil(n / s) for n, s in zip(spatial, self.stride, strict=True))
        pads = self.padding if isinstance(self.padding, tuple) else (0,) * self.rank
        return tuple((n + 2 * p - (k - 1) * d - 1) // s + 1 for n, p, k, d, s in zip(
            spatial, pads, self.kernel_size, self.dilation, self.stride, strict=True))

    def validate_input(self, x: Tensor) -> tuple[int, int]:
        """Check x (B, T, C, *S); return (B, T)."""
        if not isinstance(x, Tensor):
            raise type_error(self._name, f"input x to be a Tensor {self._pattern()}", x)
        expected = f"input {self._pattern()} with C={self.in_channels}"
        if x.dim() != self.rank + 3 or x.shape[2] != self.in_channels:
            hint = "Add the time dimension (x.unsqueeze(1))" if x.dim() == self.rank + 2 else ""
            raise shape_error(self._name, expected, x.shape, hint=hint)
        if min(self.output_spatial(tuple(x.shape[3:]))) < 1 or x.shape[self._time_dim()] == 0:
            raise shape_error(self._name, f"{expected}, T >= 1 and spatial dims at least the "
                              f"kernel {self.kernel_size} (padding={self.padding!r})", x.shape)
        tdim = self._time_dim()
        return x.shape[1 - tdim], x.shape[tdim]

    def expected_state_shape(self, batch: int, spatial: tuple[int, ...]) -> tuple[int, ...]:
        """h and c: (B, F, *S') for input spatial size S."""
        return (batch, self.out_channels, *self.output_spatial(spatial))

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> Any:
        """The output's shape(s) for an input of ``input_shape`` (nothing is computed)."""
        b, t = (input_shape[0], input_shape[1]) if self.batch_first else input_shape[1::-1]
        state = torch.Size(self.expected_state_shape(b, tuple(input_shape[3:])))
        lead = (b, t) if self.batch_first else (t, b)
        out = torch.Size((*lead, *state[1:])) if self.return_sequences else state
        return (out, (state, state)) if self.return_state else out

    def _check_hx(self, hx: Any, x: Tensor, batch: int) -> None:
        shape = self.expected_state_shape(batch, tuple(x.shape[3:]))
        if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise type_error(self._name, "hx = (h0, c0)", hx)
        for name, tensor in zip(("h0", "c0"), hx, strict=True):
            if not isinstance(tensor, Tensor):
                raise type_error(self._name, f"{name} to be a Tensor", tensor)
            if tuple(tensor.shape) != shape:
                raise shape_error(self._name, f"{name} (B, F, *S') = {shape}", tensor.shape)

    def _state_batch(self, state: Any) -> int:
        return int(state[0].shape[0])

    # -- the recurrence ------------------------------------------------------------------------

    def _fused(self) -> bool:
        """One conv over cat([x_t, h]) per step is possible when both convs share geometry."""
        return self.padding == "same" and max(self.stride) == 1 and max(self.dilation) == 1

    def _input_conv(self, x: Tensor) -> Tensor:
        """The input convolution of all steps at once: x (B, T, C, *S) -> (B, T, 4F, *S')."""
        conv = _CONV[self.rank]
        items = fold(x)  # (B*T, C, *S), a view
        padding: tuple[int, ...]
        if isinstance(self.padding, tuple):
            padding = self.padding
        elif self.padding == "valid":
            padding = (0,) * self.rank
        else:
            items, padding = _pad_same(items, self.kernel_size, self.stride, self.dilation)
        y = conv(items, self.weight_ih, self.bias, self.stride, padding, self.dilation)
        return unfold(y, (x.shape[0], x.shape[1]))

    def _dropout_mask(self, like: Tensor, rate: float) -> Tensor | None:
        if not (self.training and rate > 0):
            return None
        return F.dropout(torch.ones_like(like), rate, training=True)

    def _run(self, x: Tensor, hx: Any, lengths: Tensor | None, steps: int) -> tuple[Tensor, Any]:
        xb = x if self.batch_first else x.transpose(0, 1)  # (B, T, C, *S)
        batch = xb.shape[0]
        shape = self.expected_state_shape(batch, tuple(xb.shape[3:]))
        h, c = (xb.new_zeros(shape), xb.new_zeros(shape)) if hx is None else hx
        valid = None if lengths is None else lengths_to_mask(lengths, steps)
        if valid is not None:  # padded steps selected away, not multiplied: NaN there stays out
            step_shape = (batch, steps) + (1,) * (xb.dim() - 2)
            xb = torch.where(valid.view(step_shape), xb, 0.0)  # of outputs and of gradients
        input_mask = self._dropout_mask(xb[:, 0], self.dropout)
        if input_mask is not None:
            xb = xb * input_mask.unsqueeze(1)
        inputs = xb if self._fused() else self._input_conv(xb)  # the input conv of all steps
        cell = self._cell(self._dropout_mask(h, self.recurrent_dropout))
        (h, c), out = masked_scan(cell, (h, c), (inputs.transpose(0, 1),),
                                  None if valid is None else valid.t())
        return (out.transpose(0, 1) if self.batch_first else out), (h, c)

    def _cell(self, state_mask: Tensor | None) -> Any:
        """``cell((h, c), x_t) -> (h, c)``: one step from x_t (B, C, *S) (fused) or from the
        input convolution's gates (B, 4F, *S'); states (B, F, *S')."""
        conv = _CONV[self.rank]
        unit = (1,) * self.rank  # the recurrent conv: stride 1, dilation 1
        fused = self._fused()
        weight = torch.cat([self.weight_ih, self.weight_hh], dim=1) if fused else self.weight_hh

        def cell(state: tuple[Tensor, Tensor], x_t: Tensor) -> tuple[Tensor, Tensor]:
            h, c = state
            h_in = h if state_mask is None else h * state_mask
            if fused:
                both, pad = _pad_same(torch.cat([x_t, h_in], dim=1), self.kernel_size, unit,
                                      unit)
                z = conv(both, weight, self.bias, 1, pad)
            else:
                h_pad, pad = _pad_same(h_in, self.kernel_size, unit, unit)
                z = x_t + conv(h_pad, weight, None, 1, pad)
            i, f, g, o = z.chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c

        return cell

    def _step(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        seq = x.unsqueeze(self._time_dim()) if isinstance(x, Tensor) else x
        batch, _ = self.validate_input(seq)
        shape = self.expected_state_shape(batch, tuple(x.shape[2:]))
        if state is None:
            state = (x.new_zeros(shape), x.new_zeros(shape))
        else:
            self._check_hx(state, seq, batch)
        inputs = x if self._fused() else self._input_conv(x.unsqueeze(1))[:, 0]
        h, c = self._cell(None)(tuple(state), inputs)
        return h, (h, c)

    def load_keras_weights(self, kernel: Any, recurrent_kernel: Any, bias: Any = None) -> None:
        """Copy a Keras ConvLSTM{1,2,3}D's ``get_weights()`` (channels-last kernels).

        Keras: kernel (*k, C, 4F), recurrent_kernel (*k, F, 4F), bias (4F,), gates i, f, c, o —
        this layer's order. torch: weight_ih (4F, C, *k) = kernel moved channels-first.
        """
        def channels_first(array: Any, target: Tensor) -> Tensor:
            value = torch.as_tensor(np.asarray(array), dtype=target.dtype, device=target.device)
            value = value.permute(self.rank + 1, self.rank, *range(self.rank))
            if value.shape != target.shape:
                raise shape_error(self._name, f"a Keras kernel (*k, in, 4F) for "
                                  f"{tuple(target.shape)}", np.shape(array))
            return value

        writes = [(self.weight_ih, channels_first(kernel, self.weight_ih)),
                  (self.weight_hh, channels_first(recurrent_kernel, self.weight_hh))]
        if bias is not None:  # every array checked before anything is written
            if self.bias is None:
                raise value_error(self._name, "no Keras bias for a layer built with bias=False",
                                  f"an array of shape {np.shape(bias)}",
                                  hint="build it with bias=True, or pass bias=None")
            value = torch.as_tensor(np.asarray(bias), dtype=self.bias.dtype,
                                    device=self.bias.device)
            if value.shape != self.bias.shape:
                raise shape_error(self._name, f"a Keras bias (4F,) = {tuple(self.bias.shape)}",
                                  value.shape)
            writes.append((self.bias, value))
        with torch.no_grad():
            for target, value in writes:
                target.copy_(value)


class ConvLSTM1d(ConvLSTM):
    """ConvLSTM over (B, T, C, L) sequences; see :class:`ConvLSTM` for the arguments.

    >>> import torch, timedist
    >>> timedist.ConvLSTM1d(3, 8, 3)(torch.randn(2, 5, 3, 20)).shape
    torch.Size([2, 5, 8, 20])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, **kwargs: Any):
        super().__init__(1, in_channels, out_channels, kernel_size, **kwargs)


class ConvLSTM2d(ConvLSTM):
    """ConvLSTM over (B, T, C, H, W) sequences (Keras' ConvLSTM2D); see :class:`ConvLSTM`.

    >>> import torch, timedist
    >>> layer = timedist.ConvLSTM2d(1, 16, 3, return_sequences=False, return_state=True)
    >>> out, (h, c) = layer(torch.randn(4, 10, 1, 64, 64))
    >>> out.shape, c.shape
    (torch.Size([4, 16, 64, 64]), torch.Size([4, 16, 64, 64]))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, **kwargs: Any):
        super().__init__(2, in_channels, out_channels, kernel_size, **kwargs)


class ConvLSTM3d(ConvLSTM):
    """ConvLSTM over (B, T, C, D, H, W) sequences; see :class:`ConvLSTM` for the arguments.

    >>> import torch, timedist
    >>> timedist.ConvLSTM3d(2, 4, 3, padding="valid")(torch.randn(1, 3, 2, 5, 6, 7)).shape
    torch.Size([1, 3, 4, 3, 4, 5])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, **kwargs: Any):
        super().__init__(3, in_channels, out_channels, kernel_size, **kwargs)
