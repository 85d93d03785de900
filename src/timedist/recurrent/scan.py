"""The masked scan: a recurrence over time that tracing, torch.export and ONNX keep whole.

``masked_scan(cell, state, inputs, valid)`` runs ``cell`` once per step. On a padded step
(``valid[t, b]`` False) sample b keeps its state and outputs zero; the choice is a
``torch.where`` selection, never arithmetic, so NaN or inf in the padding reaches neither
outputs nor gradients. In eager mode the steps run as a Python loop. torch.export (and so
ONNX) and torch.compile for inference get one ``scan`` operator with T symbolic, which ONNX
exports as a Loop/Scan — one graph for every batch size and length; there the selection
happens once after the loop (``_selected_after``), which is exact because the valid steps
are a prefix. torch.compile with
gradients unrolls the loop instead (one graph per T): torch 2.13's inductor computes wrong
weight gradients through two scans in one graph (2.8 on a bias for a 2-layer LSTM) and
refuses others as aliasing, while the unrolled steps train exactly (tests/deploy/test_export.py).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["Cell", "masked_scan"]

State = tuple[Tensor, ...]
Cell = Callable[..., State]
"""``cell(state, *x_t) -> new state``; ``state[0]`` is the step's output. Shapes: state
(B, ...) each, x_t (B, ...) each."""


def masked_scan(
    cell: Cell, state: State, inputs: tuple[Tensor, ...], valid: Tensor | None
) -> tuple[State, Tensor]:
    """Run ``cell`` over time.

    Shape:
        state: tuple of (B, ...); inputs: tuple of (T, B, ...) (time first); valid: (T, B) bool
        or None (every step valid).
        Returns (final state, outputs (T, B, ...) = ``state[0]`` after each step, 0 where
        padded).
    """

    def body(carry: State, xs: tuple[Tensor, ...]) -> tuple[State, Tensor]:
        if valid is None:
            new = cell(carry, *xs)
            return new, new[0]
        *x_t, v = xs
        new = cell(carry, *x_t)
        keep = v.view(v.shape[0], *([1] * (new[0].dim() - 1)))
        kept = tuple(torch.where(keep, n, old) for n, old in zip(new, carry, strict=True))
        return kept, torch.where(keep, new[0], 0.0)

    if _scan_operator():
        return _selected_after(cell, state, inputs, valid)
    xs = inputs if valid is None else (*inputs, valid)
    outs = []
    for t in range(xs[0].shape[0]):
        state, y = body(state, tuple(x[t] for x in xs))
        outs.append(y)
    return state, torch.stack(outs)


def _selected_after(cell: Cell, state: State, inputs: tuple[Tensor, ...], valid: Tensor | None
                    ) -> tuple[State, Tensor]:
    """The scan operator over every step, padding selected away afterwards.

    ``valid`` is a prefix per sample, and a cell never looks ahead: the steps after a sample's
    last valid one change nothing before it. So the loop body is the bare cell (no per-step
    selection: 1.4x faster in onnxruntime), each sample's final state is its state after its
    last valid step (a gather) and padded outputs are set to 0 in one ``where``. The callers
    zero the padded inputs first, so padding is finite inside the loop.
    """
    from torch._higher_order_ops.scan import scan  # the operator tracing keeps as a loop

    def body(carry: State, xs: tuple[Tensor, ...]) -> tuple[State, State]:
        new = cell(carry, *xs)
        return new, tuple(n.clone() for n in new)  # no output may alias a carry

    final, states = scan(body, state, inputs)  # states: each (T, B, ...)
    if valid is None:
        return tuple(final), states[0]
    lengths = valid.sum(0)  # (B,)
    rows = torch.arange(lengths.shape[0], device=lengths.device)
    picked = [s[(lengths - 1).clamp_min(0), rows] for s in states]  # (B, ...)
    some = (lengths > 0).view(-1, *([1] * (state[0].dim() - 1)))
    final = tuple(torch.where(some, p, s0) for p, s0 in zip(picked, state, strict=True))
    keep = valid.view(*valid.shape, *([1] * (states[0].dim() - 2)))
    return final, torch.where(keep, states[0], 0.0)


def _scan_operator() -> bool:
    """Whether to emit the scan operator (see the module doc) rather than a loop of steps."""
    if torch.compiler.is_exporting():
        return True
    return torch.compiler.is_compiling() and not torch.is_grad_enabled()
