"""The recurrent core the models share: a stacked, optionally bidirectional LSTM or GRU."""

from __future__ import annotations

from ..recurrent import GRU, LSTM

__all__ = ["recurrent_core"]


def recurrent_core(input_size: int, hidden_size: int, *, num_layers: int = 1,
                   bidirectional: bool = False, cell: str = "lstm", dropout: float = 0.0,
                   return_sequences: bool = False) -> LSTM | GRU:
    """LSTM or GRU (B, T, F) -> (B, D*U) (or (B, T, D*U) with ``return_sequences``)."""
    classes: dict[str, type[LSTM] | type[GRU]] = {"lstm": LSTM, "gru": GRU}
    if cell not in classes:
        raise ValueError(f"expected cell 'lstm' or 'gru'; got {cell!r}")
    return classes[cell](input_size, hidden_size, num_layers=num_layers,
                         bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0,
                         return_sequences=return_sequences)
