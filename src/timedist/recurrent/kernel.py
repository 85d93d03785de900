"""The one entry every RNN/LSTM/GRU forward goes through, and the kernels it chooses from.

``run(module, x, hx, lengths, need_states)`` picks, in this order (docs/deploy.md has the
measurements behind each rule):

1. **scan** while torch.compile / torch.export / ONNX traces: the cell equations in a masked
   scan (scan.py) — one graph for every B, T and lengths, no packing, no ``nonzero``, no
   ``aten.lstm`` (which torch.export would freeze at the traced T).
2. **fused** in eager mode without lengths: torch's own forward (its fused kernel).
3. **unpacked** in eager mode with lengths on the CPU when no final states are asked for:
   the fused kernel on the zeroed padded batch (a forward recurrence never looks ahead; a
   backward direction runs forward over the reversed valid steps, layer by layer); 3-5x
   faster than packing on the CPU.
4. **packed** otherwise (final states with lengths, or another device): torch's packed
   sequences (cuDNN on a GPU); on the CPU 2.5x faster than the scan run eagerly.

x keeps the module's layout ((B, T, F) if ``batch_first``, else (T, B, F)); states keep
torch's (L*D, B, U). Padded outputs are 0, and padding changes neither outputs nor states.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .._checks import tracing
from ..masking import lengths_to_mask, reverse_valid
from .scan import masked_scan

__all__ = ["choose", "initial_state", "run", "step_layer"]

State = tuple[Tensor, ...]  # (h,) or (h, c), each (B, ·): one layer, one direction


def _torch_class(module: nn.RNNBase) -> type[nn.RNNBase]:
    return next(c for c in type(module).__mro__ if c in (nn.LSTM, nn.GRU, nn.RNN))


def kind(module: nn.RNNBase) -> str:
    """``"lstm"``, ``"gru"``, ``"rnn_tanh"`` or ``"rnn_relu"`` (torch's kernel names)."""
    base = _torch_class(module)
    if base is nn.LSTM:
        return "lstm"
    if base is nn.GRU:
        return "gru"
    return "rnn_relu" if module.nonlinearity == "relu" else "rnn_tanh"


def choose(x: Tensor, lengths: Tensor | None, need_states: bool) -> str:
    """The kernel for this call: "scan", "fused", "unpacked" or "packed" (see the module doc)."""
    if tracing():
        return "scan"
    if lengths is None:
        return "fused"
    if not need_states and x.device.type == "cpu":
        return "unpacked"
    return "packed"


def run(module: nn.RNNBase, x: Tensor, hx: Any, lengths: Tensor | None,
        need_states: bool) -> tuple[Tensor, Any]:
    """All layers and directions of ``module`` over x -> (output (·, ·, D*U), final state).

    The state is h_n (L*D, B, U) (``(h_n, c_n)`` for an LSTM), or None from "unpacked".
    """
    how = choose(x, lengths, need_states)
    forward = _torch_class(module).forward
    if how == "fused":
        out, state = forward(module, x, hx)
        return out, state
    if how == "packed":
        assert lengths is not None
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=module.batch_first,
                                      enforce_sorted=False)
        out, state = forward(module, packed, hx)
        steps = x.shape[1 if module.batch_first else 0]
        out = pad_packed_sequence(out, batch_first=module.batch_first, total_length=steps)[0]
        return out, state
    if how == "unpacked" and not module.bidirectional:  # all layers in one fused call
        assert lengths is not None
        keep = lengths_to_mask(lengths, x.shape[1 if module.batch_first else 0]).unsqueeze(-1)
        keep = keep if module.batch_first else keep.transpose(0, 1)  # laid out like x
        out = forward(module, torch.where(keep, x, 0.0), hx)[0]
        return torch.where(keep, out, 0.0), None
    xb = x if module.batch_first else x.transpose(0, 1)
    out, state = _layer_by_layer(module, xb, hx, lengths, scan=how == "scan")
    return (out if module.batch_first else out.transpose(0, 1)), state


def _layer_by_layer(module: nn.RNNBase, x: Tensor, hx: Any, lengths: Tensor | None,
                    scan: bool) -> tuple[Tensor, Any]:
    """x (B, T, F) -> (B, T, D*U): each layer and direction on its own, as torch orders them.

    The backward direction runs forward over each sample's reversed valid steps. ``scan``: the
    masked scan (final states too); else torch's fused kernel per direction on the zeroed
    padded batch (no final states: they would include padded steps).
    """
    steps = x.shape[1]
    valid = None if lengths is None else lengths_to_mask(lengths, steps)  # (B, T)
    keep = None if valid is None else valid.unsqueeze(-1)
    if keep is not None:
        x = torch.where(keep, x, 0.0)  # NaN padding stays out of outputs and gradients
    directions = 2 if module.bidirectional else 1
    h0 = initial_state(module, hx, x)
    finals: list[State] = []
    for layer in range(module.num_layers):
        outs = []
        for direction in range(directions):
            row = layer * directions + direction
            inp = x if direction == 0 else _reverse(x, lengths)
            state0 = tuple(s[row] for s in h0)
            if scan:
                out, final = _scan_direction(module, layer, direction, inp, state0, valid)
                finals.append(final)
            else:
                out = _fused_direction(module, layer, direction, inp, state0)
            outs.append(out if direction == 0 else _reverse(out, lengths))
        x = outs[0] if directions == 1 else torch.cat(outs, -1)
        if keep is not None:
            x = torch.where(keep, x, 0.0)
        if module.training and module.dropout and layer < module.num_layers - 1:
            x = nn.functional.dropout(x, module.dropout, training=True)
    if not scan:
        return x, None
    stacked = tuple(torch.stack([f[i] for f in finals]) for i in range(len(finals[0])))
    return x, (stacked if kind(module) == "lstm" else stacked[0])


def _reverse(x: Tensor, lengths: Tensor | None) -> Tensor:
    return x.flip(1) if lengths is None else reverse_valid(x, lengths)


def initial_state(module: nn.RNNBase, hx: Any, like: Tensor) -> State:
    """hx as a tuple of (L*D, B, ·) tensors: zeros when None (``like`` is (B, T, F))."""
    if hx is not None:
        return tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
    rows = module.num_layers * (2 if module.bidirectional else 1)
    units = module.proj_size or module.hidden_size
    h = like.new_zeros((rows, like.shape[0], units))
    if kind(module) != "lstm":
        return (h,)
    return h, like.new_zeros((rows, like.shape[0], module.hidden_size))


def _weights(module: nn.RNNBase, layer: int, direction: int) -> list[Tensor]:
    """One layer's, one direction's weights in torch's order (w_ih, w_hh[, b_ih, b_hh][, w_hr])."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if module.bias else [])
    names += ["weight_hr"] if module.proj_size else []
    return [getattr(module, name + suffix) for name in names]


def _fused_direction(module: nn.RNNBase, layer: int, direction: int, x: Tensor,
                     state0: State) -> Tensor:
    """One layer, one direction through torch's fused kernel: x (B, T, ·) -> (B, T, U)."""
    hx = tuple(s.unsqueeze(0) for s in state0)
    fn = getattr(_VF, kind(module))
    out: Tensor = fn(x, hx if len(hx) == 2 else hx[0], _weights(module, layer, direction),
                     module.bias, 1, 0.0, module.training, False, True)[0]
    return out


def _scan_direction(module: nn.RNNBase, layer: int, direction: int, x: Tensor, state0: State,
                    valid: Tensor | None) -> tuple[Tensor, State]:
    """One layer, one direction as a masked scan: x (B, T, ·) -> ((B, T, U), final state)."""
    weights = _weights(module, layer, direction)
    cell = _cell(module, weights)
    gx = _input_projection(module, weights, x).transpose(0, 1)  # (T, B, G): one matmul
    final, out = masked_scan(cell, state0, (gx,), None if valid is None else valid.t())
    return out.transpose(0, 1), final


def _input_projection(module: nn.RNNBase, weights: list[Tensor], x: Tensor) -> Tensor:
    """x W_ih^T + b_ih for every step at once: (..., F) -> (..., G)."""
    return nn.functional.linear(x, weights[0], weights[2] if module.bias else None)


def _cell(module: nn.RNNBase, weights: list[Tensor]) -> Any:
    """``cell(state, gx_t) -> state`` for one step given the input projection gx_t (B, G)."""
    w_hh = weights[1]
    b_hh = weights[3] if module.bias else None
    w_hr = weights[-1] if module.proj_size else None
    name = kind(module)

    def lstm(state: State, gx: Tensor) -> State:
        h, c = state
        i, f, g, o = (gx + nn.functional.linear(h, w_hh, b_hh)).chunk(4, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return (h if w_hr is None else h @ w_hr.t()), c

    def gru(state: State, gx: Tensor) -> State:
        (h,) = state
        xr, xz, xn = gx.chunk(3, -1)
        hr, hz, hn = nn.functional.linear(h, w_hh, b_hh).chunk(3, -1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return ((1 - z) * n + z * h,)

    def rnn(state: State, gx: Tensor) -> State:
        (h,) = state
        z = gx + nn.functional.linear(h, w_hh, b_hh)
        return (torch.relu(z) if name == "rnn_relu" else torch.tanh(z),)

    return {"lstm": lstm, "gru": gru}.get(name, rnn)


def step_layer(module: nn.RNNBase, x: Tensor, state: State) -> tuple[Tensor, State]:
    """One time step through every layer (forward direction only).

    Shape: x (B, F); state tuple of (L, B, ·) -> (h of the last layer (B, U), new state).
    """
    news: list[State] = []
    for layer in range(module.num_layers):
        weights = _weights(module, layer, 0)
        new = _cell(module, weights)(tuple(s[layer] for s in state),
                                     _input_projection(module, weights, x))
        news.append(new)
        x = new[0]  # no inter-layer dropout: streaming is inference
    return news[-1][0], tuple(torch.stack([n[i] for n in news]) for i in range(len(news[0])))
