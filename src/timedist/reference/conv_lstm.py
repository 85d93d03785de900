"""ConvLSTM from its equations, sample by sample: the oracle for timedist.ConvLSTM{1,2,3}d.

Shapes: x_t (B, C, *S); h, c (B, F, *S'); w_ih (4F, C, *k); w_hh (4F, F, *k); bias (4F,).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["conv_lstm_cell", "run_conv_lstm"]


def _conv(x: Tensor, w: Tensor, b: Tensor | None, stride: tuple[int, ...],
          padding: Any, dilation: tuple[int, ...]) -> Tensor:
    """Convolution with padding "same" (TensorFlow's rule: the odd pixel at the end), "valid"
    or a tuple of symmetric paddings."""
    rank = w.dim() - 2
    if padding == "same":
        pads: list[int] = []
        for n, k, s, d in zip(x.shape[2:], w.shape[2:], stride, dilation, strict=True):
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
            pads = [total // 2, total - total // 2, *pads]  # F.pad: last dim first
        x, padding = F.pad(x, pads), 0
    elif padding == "valid":
        padding = 0
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]
    return conv(x, w, b, stride, padding, dilation)


def conv_lstm_cell(
    x: Tensor, hc: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor, bias: Tensor | None = None,
    *, stride: tuple[int, ...] | int = 1, padding: Any = "same",
    dilation: tuple[int, ...] | int = 1,
) -> tuple[Tensor, Tensor]:
    """One ConvLSTM step (Keras' equations, gates i, f, c, o):

    z = conv(x, W_x; stride, padding, dilation) + b + conv(h, W_h; "same", stride 1);
    i, f, g, o = split(z); c' = sigmoid(f) * c + sigmoid(i) * tanh(g); h' = sigmoid(o) * tanh(c').
    """
    h, c = hc
    rank = w_ih.dim() - 2
    stride = (stride,) * rank if isinstance(stride, int) else tuple(stride)
    dilation = (dilation,) * rank if isinstance(dilation, int) else tuple(dilation)
    z = _conv(x, w_ih, bias, stride, padding, dilation)
    z = z + _conv(h, w_hh, None, (1,) * rank, "same", (1,) * rank)
    i, f, g, o = z.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def run_conv_lstm(module: Any, x: Tensor, hx: Any = None, lengths: Tensor | None = None) -> Any:
    """What a timedist ConvLSTM returns, computed sample by sample on the valid steps only.

    Reads the module's weights and options (stride, padding, dilation, batch_first,
    go_backwards, return_sequences, return_state); dropout is random, so a module in training
    mode with dropout is refused. x (B, T, C, *S) (or (T, B, ...)), lengths (B,) or None.
    """
    if module.training and (module.dropout or module.recurrent_dropout):
        raise ValueError("run_conv_lstm: expected module.eval() or no dropout (dropout is random)")
    xb = x if module.batch_first else x.transpose(0, 1)
    batch, steps = xb.shape[:2]
    options = {"stride": module.stride, "padding": module.padding, "dilation": module.dilation}
    outputs, hs, cs = [], [], []
    for b in range(batch):
        n = steps if lengths is None else int(lengths[b])
        seq = xb[b : b + 1, :n].flip(1) if module.go_backwards else xb[b : b + 1, :n]
        if hx is None:  # zeros shaped like the input convolution's output
            probe = _conv(seq[:, 0], module.weight_ih, None, module.stride, module.padding,
                          module.dilation)
            state = (probe.new_zeros((1, module.out_channels, *probe.shape[2:])),) * 2
        else:
            state = (hx[0][b : b + 1], hx[1][b : b + 1])
        ys = []
        for t in range(n):
            state = conv_lstm_cell(seq[:, t], state, module.weight_ih, module.weight_hh,
                                   module.bias, **options)
            ys.append(state[0][0])
        outputs.append(torch.stack(ys + [torch.zeros_like(ys[0])] * (steps - n)))
        hs.append(state[0][0])
        cs.append(state[1][0])
    h, c = torch.stack(hs), torch.stack(cs)
    out = torch.stack(outputs) if module.return_sequences else h
    if module.return_sequences and not module.batch_first:
        out = out.transpose(0, 1)
    return (out, (h, c)) if module.return_state else out
