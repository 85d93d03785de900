"""The masked scan: a recurrence over time that tracing, torch.export and ONNX keep whole.

``masked_scan(cell, state, inputs, valid)`` runs ``cell`` once per step. On a padded step
(``valid[t, b]`` False) sample b keeps its state and outputs zero; the choice is a
``torch.where`` selection, never arithmetic, so NaN or inf in the padding reaches neither
outputs nor gradients. In eager mode the steps run as a Python loop. torch.export (and so
ONNX) and torch.compile for inference get one ``scan`` operator with T symbolic, which ONNX
exports as a Loop/Scan — one graph for every batch size and length. torch.compile with
gradients unrolls the loop instead (one graph per T): torch 2.13's inductor computes wrong
weight gradients through two scans in one graph (2.8 on a bias for a 2-layer LSTM) and
refuses others as aliasing, while the unrolled steps train exactly (tests/test_export.py).
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
            return new, new[0].clone()  # the scan operator refuses an output aliasing a carry
        *x_t, v = xs
        new = cell(carry, *x_t)
        keep = v.view(v.shape[0], *([1] * (new[0].dim() - 1)))
        kept = tuple(torch.where(keep, n, old) for n, old in zip(new, carry, strict=True))
        return kept, torch.where(keep, new[0], 0.0)

    xs = inputs if valid is None else (*inputs, valid)
    if _scan_operator():
        from torch._higher_order_ops.scan import scan  # the operator tracing keeps as a loop

        final, outputs = scan(body, state, xs)
        return tuple(final), outputs
    outs = []
    for t in range(xs[0].shape[0]):
        state, y = body(state, tuple(x[t] for x in xs))
        outs.append(y)
    return state, torch.stack(outs)


def _scan_operator() -> bool:
    """Whether to emit the scan operator (see the module doc) rather than a loop of steps."""
    if torch.compiler.is_exporting():
        return True
    return torch.compiler.is_compiling() and not torch.is_grad_enabled()
