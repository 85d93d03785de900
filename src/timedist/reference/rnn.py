"""Recurrent cells as equations, and a step-by-step loop that reproduces torch's RNN modules.

Cells take torch's argument order (``torch.rnn_tanh_cell``, ``torch.lstm_cell``,
``torch.gru_cell``) and gate order: LSTM i, f, g, o; GRU r, z, n. Shapes: x (B, F), h (B, U),
c (B, hidden_size); w_ih (G*hidden_size, F), w_hh (G*hidden_size, U), biases (G*hidden_size,),
with G = 1 (RNN), 4 (LSTM), 3 (GRU).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["gru_cell", "lstm_cell", "rnn_cell", "run_recurrent"]


def _affine(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return x @ w.t() if b is None else x @ w.t() + b


def rnn_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None, nonlinearity: str = "tanh",
) -> Tensor:
    """h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu. Returns (B, U)."""
    pre = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_cell(
    x: Tensor, hc: tuple[Tensor, Tensor], w_ih: Tensor, w_hh: Tensor,
    b_ih: Tensor | None = None, b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step; returns (h', c'), each (B, hidden_size).

    i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh); i, f, o = sigmoid; g = tanh;
    c' = f * c + i * g; h' = o * tanh(c').
    """
    h, c = hc
    i, f, g, o = (_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_cell(
    x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step; returns h' (B, U).

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr); z = sigmoid(W_iz x + b_iz + W_hz h + b_hz);
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h.
    """
    i_r, i_z, i_n = _affine(x, w_ih, b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = _affine(h, w_hh, b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    return (1 - z) * torch.tanh(i_n + r * h_n) + z * h


def _step(module: nn.RNNBase, x: Tensor, state: Any, weights: dict[str, Tensor | None]) -> Any:
    """One step of ``module``'s cell with one layer/direction's weights."""
    args = (weights["weight_ih"], weights["weight_hh"], weights["bias_ih"], weights["bias_hh"])
    if isinstance(module, nn.LSTM):
        h, c = lstm_cell(x, state, *args)  # type: ignore[arg-type]
        w_hr = weights["weight_hr"]
        return (h if w_hr is None else h @ w_hr.t()), c
    if isinstance(module, nn.GRU):
        return gru_cell(x, state, *args)  # type: ignore[arg-type]
    return rnn_cell(x, state, *args, nonlinearity=module.nonlinearity)  # type: ignore[arg-type]


def run_recurrent(module: nn.RNNBase, x: Tensor, hx: Any = None) -> Any:
    """Reproduce ``module(x, hx)`` for a torch or timedist RNN/LSTM/GRU with loops of cells.

    Handles num_layers, bidirectional (layer l + 1 reads both directions of layer l),
    batch_first, proj_size, and for timedist layers go_backwards, return_sequences, merge_mode
    and return_state (read as attributes; nothing of timedist is imported). Dropout between
    layers is random, so a module in training mode with dropout > 0 is refused.

    Shape: x (B, T, F) if batch_first else (T, B, F); returns what the module returns, e.g.
    (output (·, ·, D*U), (h_n (L*D, B, U), c_n (L*D, B, hidden_size))) for torch.nn.LSTM.
    """
    if module.training and module.dropout and module.num_layers > 1:
        raise ValueError("run_recurrent: expected module.eval() or dropout=0 (dropout is random)")
    lstm = isinstance(module, nn.LSTM)
    directions = 2 if module.bidirectional else 1
    units = getattr(module, "proj_size", 0) or module.hidden_size
    seq = x.transpose(0, 1) if module.batch_first else x  # (T, B, F)
    if getattr(module, "go_backwards", False):
        seq = seq.flip(0)
    steps, batch = seq.shape[:2]
    rows = module.num_layers * directions
    h0: Tensor = seq.new_zeros(rows, batch, units)
    c0: Tensor = seq.new_zeros(rows, batch, module.hidden_size)
    if hx is not None:
        h0, c0 = hx if lstm else (hx, c0)
    h_n, c_n = [], []
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weights = {name: getattr(module, name + suffix, None) for name in
                       ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")}
            row = layer * directions + direction
            state: Any = (h0[row], c0[row]) if lstm else h0[row]
            ys: list[Tensor] = [seq[0]] * steps
            for t in (reversed(range(steps)) if direction else range(steps)):
                state = _step(module, seq[t], state, weights)
                ys[t] = state[0] if lstm else state
            outputs.append(torch.stack(ys))
            h_n.append(state[0] if lstm else state)
            if lstm:
                c_n.append(state[1])
        seq = torch.cat(outputs, dim=-1)
    states: Any = (torch.stack(h_n), torch.stack(c_n)) if lstm else torch.stack(h_n)
    if not hasattr(module, "return_sequences"):  # torch's own module
        return (seq.transpose(0, 1) if module.batch_first else seq), states
    return _keras_output(module, seq, states, units)


def _keras_output(module: nn.RNNBase, seq: Tensor, states: Any, units: int) -> Any:
    """A timedist layer's output from the time-major (T, B, D*U) sequence."""
    forward, backward = seq[..., :units], seq[..., units:]
    if module.return_sequences:
        if module.batch_first:
            forward, backward = forward.transpose(0, 1), backward.transpose(0, 1)
    else:  # forward at the last step, backward at step 0
        forward, backward = forward[-1], backward[0]
    mode: str | None = getattr(module, "merge_mode")  # noqa: B009
    if not module.bidirectional:
        out: Any = forward
    elif mode == "concat":
        out = torch.cat([forward, backward], dim=-1)
    elif mode is None:
        out = (forward, backward)
    else:
        out = {"sum": forward + backward, "mul": forward * backward,
               "ave": (forward + backward) / 2}[mode]
    return (out, states) if module.return_state else out
