"""CNN-LSTM: a per-step encoder under TimeDistributed, a recurrent layer over time, a head."""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch import Tensor, nn

from .._checks import shape_error
from ..time_distributed import TimeDistributed
from ._recurrent import recurrent_core

__all__ = ["CNNLSTM", "GridMaxPool1d", "frame_blocks", "frame_encoder", "subsequence_encoder",
           "to_subsequences"]


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


def frame_encoder(in_channels: int, features: int = 128, width: int = 32,
                  blocks: int = 3) -> nn.Sequential:
    """(C, H, W) -> (features,): ``blocks`` stride-2 conv-BN-ReLU blocks (width, then 2 width
    channels; each keeps a quarter of the pixels: ~4x cheaper to train than full-resolution
    convolutions with max-pooling), a 4x4 grid (keeps coarse position, which motion needs;
    global pooling would discard it) and a linear layer. :func:`frame_blocks` sizes
    ``blocks`` for a frame size."""
    channels = [in_channels, width, *[2 * width] * (blocks - 1)]
    layers = [m for pair in itertools.pairwise(channels) for m in _conv_block(*pair)]
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(2 * width * 16, features),
        nn.ReLU(),
    )


def frame_blocks(height: int, width: int) -> int:
    """Stride-2 blocks for (H, W) frames: enough to bring the shorter side to about 4 pixels
    before the 4x4 grid (32 -> 3, 64 -> 4, 128 -> 5), at least 3.

    >>> frame_blocks(32, 32), frame_blocks(64, 48), frame_blocks(128, 128), frame_blocks(8, 8)
    (3, 4, 5, 3)
    """
    return max(3, math.ceil(math.log2(max(min(height, width), 1) / 4)))


def subsequence_encoder(in_channels: int, features: int = 64, width: int = 64) -> nn.Sequential:
    """(C, L) -> (features,): the classic HAR block (two Conv1d, pooling, flatten, linear)."""
    return nn.Sequential(
        nn.Conv1d(in_channels, width, 3, padding=1), nn.ReLU(),
        nn.Conv1d(width, width, 3, padding=1), nn.ReLU(),
        GridMaxPool1d(4), nn.Flatten(), nn.Linear(width * 4, features), nn.ReLU(),
    )


class GridMaxPool1d(nn.Module):
    """``nn.AdaptiveMaxPool1d(bins)`` (the same bins and result) written with slices, which
    torch.export and ONNX translate for any length (torch's operator has no ONNX form).

    Shape: (N, C, L) -> (N, C, bins), L >= bins.
    """

    def __init__(self, bins: int) -> None:
        super().__init__()
        self.bins = bins

    def extra_repr(self) -> str:
        return f"bins={self.bins}"

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-1], self.bins  # bin i covers [floor(i n / k), ceil((i + 1) n / k))
        return torch.stack([x[..., i * n // k : ((i + 1) * n + k - 1) // k].amax(-1)
                            for i in range(k)], -1)


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
        subsequences: 0, or n > 0 to take one long window (B, L, C) and split it into n steps
            (B, n, C, L/n) first (:func:`to_subsequences`; windows are then fixed-length).

    Shape: x (B, T, *step), lengths (B,) or mask (B, T) -> (B, num_outputs). Padded steps are
    never encoded and never read. With ``subsequences=n``: x (B, L, C) -> (B, num_outputs).

    >>> import torch
    >>> model = CNNLSTM(frame_encoder(1), 128, 40)
    >>> model(torch.randn(2, 8, 1, 32, 32), lengths=torch.tensor([8, 5])).shape
    torch.Size([2, 40])
    """

    def __init__(self, encoder: nn.Module, encoder_features: int, num_outputs: int, *,
                 hidden_size: int = 128, num_layers: int = 1, bidirectional: bool = False,
                 cell: str = "lstm", dropout: float = 0.0, subsequences: int = 0) -> None:
        super().__init__()
        self.subsequences = subsequences
        self.encoder = TimeDistributed(encoder)
        self.rnn = recurrent_core(encoder_features, hidden_size, num_layers=num_layers,
                                  bidirectional=bidirectional, cell=cell, dropout=dropout)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_outputs)

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        if self.subsequences:
            if lengths is not None or mask is not None:
                raise ValueError("CNNLSTM: expected fixed-length windows with subsequences="
                                 f"{self.subsequences}; got lengths or a mask")
            x = to_subsequences(x, self.subsequences)
        features = self.encoder(x, lengths=lengths, mask=mask)  # (B, T, encoder_features)
        out: Tensor = self.head(self.dropout(self.rnn(features, lengths=lengths, mask=mask)))
        return out

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Streaming: one frame x_t (B, *step) -> (outputs (B, num_outputs) for the clip seen so
        far, state). Not with ``subsequences`` (a window is split, not streamed)."""
        if self.subsequences:
            raise ValueError(f"CNNLSTM: expected subsequences=0 for step(); got "
                             f"{self.subsequences} (each window is split into steps)")
        h, state = self.rnn.step(self.encoder.module(x), state)
        out: Tensor = self.head(self.dropout(h))
        return out, state
