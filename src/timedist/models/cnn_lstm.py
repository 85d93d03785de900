"""CNN-LSTM: a per-step encoder under TimeDistributed, a recurrent layer over time, a head."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import shape_error
from ..wrappers import TimeDistributed
from ._recurrent import recurrent_core

__all__ = ["CNNLSTM", "frame_encoder", "subsequence_encoder", "to_subsequences"]


def frame_encoder(in_channels: int, features: int = 64, width: int = 32) -> nn.Sequential:
    """(C, H, W) -> (features,): two conv-BN-ReLU-pool blocks, a 4x4 grid (keeps coarse
    position, which motion needs; global pooling would discard it), a linear layer."""
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(width * 16, features), nn.ReLU(),
    )


def subsequence_encoder(in_channels: int, features: int = 64, width: int = 64) -> nn.Sequential:
    """(C, L) -> (features,): the classic HAR block (two Conv1d, pooling, flatten, linear)."""
    return nn.Sequential(
        nn.Conv1d(in_channels, width, 3, padding=1), nn.ReLU(),
        nn.Conv1d(width, width, 3, padding=1), nn.ReLU(),
        nn.AdaptiveMaxPool1d(4), nn.Flatten(), nn.Linear(width * 4, features), nn.ReLU(),
    )


def to_subsequences(x: Tensor, n: int) -> Tensor:
    """Split each window of a long signal into ``n`` sub-sequences: (B, L, C) -> (B, n, C, L/n)."""
    if x.dim() != 3 or x.shape[1] % n:
        raise shape_error("to_subsequences", f"(B, L, C) with L divisible by n={n}", x.shape)
    return torch.unflatten(x, 1, (n, x.shape[1] // n)).transpose(2, 3)


class CNNLSTM(nn.Module):
    """TimeDistributed(encoder) -> LSTM/GRU -> linear head (the LRCN / Keras HAR design).

    Args:
        encoder: any module mapping one step (C, H, W) or (C, L) to (encoder_features,), e.g.
            :func:`frame_encoder` (video frames) or :func:`subsequence_encoder` (sub-sequences
            of a signal, see :func:`to_subsequences`), or a user's pretrained CNN.
        encoder_features: the encoder's output size.
        num_outputs: classes (logits) or regression outputs.
        hidden_size, num_layers, bidirectional, cell ("lstm"/"gru"), dropout: the recurrent core.

    Shape: x (B, T, *step), lengths (B,) or mask (B, T) -> (B, num_outputs). Padded steps are
    never encoded and never read.

    >>> import torch
    >>> model = CNNLSTM(frame_encoder(1), 64, 40)
    >>> model(torch.randn(2, 8, 1, 32, 32), lengths=torch.tensor([8, 5])).shape
    torch.Size([2, 40])
    """

    def __init__(self, encoder: nn.Module, encoder_features: int, num_outputs: int, *,
                 hidden_size: int = 128, num_layers: int = 1, bidirectional: bool = False,
                 cell: str = "lstm", dropout: float = 0.0) -> None:
        super().__init__()
        self.encoder = TimeDistributed(encoder)
        self.rnn = recurrent_core(encoder_features, hidden_size, num_layers=num_layers,
                                  bidirectional=bidirectional, cell=cell, dropout=dropout)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_outputs)

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        features = self.encoder(x, lengths=lengths, mask=mask)  # (B, T, encoder_features)
        out: Tensor = self.head(self.dropout(self.rnn(features, lengths=lengths, mask=mask)))
        return out
