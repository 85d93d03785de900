"""Recurrent models over (B, T, F) feature sequences: a classifier and a regressor."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..masking import last_valid, mask_to_lengths
from ._recurrent import recurrent_core

__all__ = ["SequenceClassifier", "SequenceRegressor"]


class SequenceClassifier(nn.Module):
    """Stacked (bi)LSTM/GRU, each sample read up to its own length, then a linear head.

    Shape: x (B, T, F), lengths (B,) or mask (B, T) -> logits (B, num_classes).

    >>> import torch
    >>> SequenceClassifier(12, 9, bidirectional=True)(torch.randn(4, 29, 12)).shape
    torch.Size([4, 9])
    """

    def __init__(self, input_size: int, num_classes: int, *, hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = False, cell: str = "lstm",
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.rnn = recurrent_core(input_size, hidden_size, num_layers=num_layers,
                                  bidirectional=bidirectional, cell=cell, dropout=dropout)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        out: Tensor = self.head(self.dropout(self.rnn(x, lengths=lengths, mask=mask)))
        return out

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Streaming: x_t (B, F) -> (logits (B, num_classes) of the sequence read so far,
        state). Unidirectional models only (a backward direction needs the future)."""
        h, state = self.rnn.step(x, state)
        out: Tensor = self.head(self.dropout(h))
        return out, state


class SequenceRegressor(nn.Module):
    """A (bi)LSTM/GRU with a linear head at the last valid step or at every step.

    ``relative=True`` (forecasting, last-step head): the head predicts the change from the
    last observed value of feature 0, which is added back — the naive forecast plus a learned
    correction, so levels outside the training range are followed instead of clipped.

    Shape: x (B, T, F) -> (B, outputs) (``per_step=False``: e.g. the next ``horizon`` values of
    a forecast) or (B, T, outputs) (``per_step=True``; padded steps are 0 before the head).

    >>> import torch
    >>> SequenceRegressor(1, 3)(torch.randn(8, 20, 1)).shape
    torch.Size([8, 3])
    """

    def __init__(self, input_size: int, outputs: int = 1, *, per_step: bool = False,
                 hidden_size: int = 64, num_layers: int = 1, bidirectional: bool = False,
                 cell: str = "lstm", dropout: float = 0.0, relative: bool = False) -> None:
        super().__init__()
        if relative and per_step:
            raise ValueError("SequenceRegressor: expected relative=True with a last-step head "
                             "(per_step=False); got per_step=True")
        self.relative = relative
        self.rnn = recurrent_core(input_size, hidden_size, num_layers=num_layers,
                                  bidirectional=bidirectional, cell=cell, dropout=dropout,
                                  return_sequences=per_step)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), outputs)

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        out: Tensor = self.head(self.rnn(x, lengths=lengths, mask=mask))
        if self.relative:
            if mask is not None:
                lengths = mask_to_lengths(mask, layer="SequenceRegressor")
            last = x[:, -1, 0] if lengths is None else last_valid(x[..., 0], lengths)
            out = out + last.unsqueeze(-1)
        return out

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Streaming: x_t (B, F) -> (the output for the sequence read so far (B, outputs) —
        step t's output with ``per_step`` — and the state). Unidirectional models only."""
        h, state = self.rnn.step(x, state)
        out: Tensor = self.head(h)
        if self.relative:
            out = out + x[:, :1]
        return out, state
