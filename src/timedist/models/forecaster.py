"""ConvLSTM encoder-forecaster (Shi et al. 2015): read k frames, predict the next ones."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..conv_recurrent import ConvLSTM2d
from ..wrappers import TimeDistributed

__all__ = ["ConvLSTMForecaster"]


class ConvLSTMForecaster(nn.Module):
    """An encoder ConvLSTM reads the input frames; a forecaster ConvLSTM, started from the
    encoder's final states, unrolls ``horizon`` steps; a 1x1 convolution maps each state to a
    frame in [0, 1].

    Shape: x (B, T_in, C, H, W) -> (B, horizon, C, H, W).

    >>> import torch
    >>> ConvLSTMForecaster(1, horizon=5)(torch.rand(2, 5, 1, 32, 32)).shape
    torch.Size([2, 5, 1, 32, 32])
    """

    def __init__(self, in_channels: int, *, hidden: int = 32, kernel_size: int = 3,
                 horizon: int = 5) -> None:
        super().__init__()
        self.horizon = horizon
        self.encoder = ConvLSTM2d(in_channels, hidden, kernel_size, return_sequences=False,
                                  return_state=True)
        self.forecaster = ConvLSTM2d(hidden, hidden, kernel_size)
        self.to_frame = TimeDistributed(nn.Conv2d(hidden, in_channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        _, (h, c) = self.encoder(x)  # (B, hidden, H, W) each
        steps = h.unsqueeze(1).expand(-1, self.horizon, *h.shape[1:])  # the last state as input
        return torch.sigmoid(self.to_frame(self.forecaster(steps, (h, c))))
