"""ConvLSTM encoder-forecaster (Shi et al. 2015): read k frames, predict the next ones."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..recurrent.conv_lstm import ConvLSTM2d
from ..time_distributed import TimeDistributed

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
        return self._forecast(h, c)

    def _forecast(self, h: Tensor, c: Tensor) -> Tensor:
        """The next ``horizon`` frames from the encoder's states (B, hidden, H, W)."""
        steps = h.unsqueeze(1).expand(-1, self.horizon, *h.shape[1:])  # the last state as input
        return torch.sigmoid(self.to_frame(self.forecaster(steps, (h, c))))

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Streaming: one frame x_t (B, C, H, W) -> (the forecast (B, horizon, C, H, W) from the
        frames read so far, the encoder's state)."""
        _, state = self.encoder.step(x, state)
        return self._forecast(*state), state
