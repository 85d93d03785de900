"""timedist.ConvLSTM2d next to a plain per-step ConvLSTM and Keras 3's ConvLSTM2D (not a test).

Forward and forward+backward medians at (B=4, T=10, C=1, 64, 64) with 16 filters and at
(B=4, T=10, C=64, 32, 32) with 64 filters, default and channels-last input; timedist is timed
with each of its two strategies forced ("fused": one conv over cat([x_t, h]) per step;
"split": the input conv for all steps at once, then the recurrent conv per step) and with its
automatic choice.

    python benchmarks/conv_lstm.py [--quick] [--rounds N]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
from torch import Tensor, nn

import timedist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import Step, bench_main, machine_line, print_table, rows_versus, time_round_robin


class PlainConvLSTM(nn.Module):
    """The usual port: one Conv2d over cat([x_t, h]) per step, 'same' padding (odd kernels)."""

    def __init__(self, channels: int, filters: int, kernel: int) -> None:
        super().__init__()
        self.filters = filters
        self.conv = nn.Conv2d(channels + filters, 4 * filters, kernel, padding=kernel // 2)

    def forward(self, x: Tensor) -> Tensor:
        b, t, _, h, w = x.shape
        hidden = x.new_zeros(b, self.filters, h, w)
        cell = torch.zeros_like(hidden)
        outputs = []
        for step in range(t):
            i, f, g, o = self.conv(torch.cat([x[:, step], hidden], 1)).chunk(4, 1)
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            hidden = torch.sigmoid(o) * torch.tanh(cell)
            outputs.append(hidden)
        return torch.stack(outputs, 1)


def keras_layer(filters: int, channels_first: bool) -> Callable[[Tensor], Tensor] | None:
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    layer = keras.layers.ConvLSTM2D(filters, 3, padding="same", return_sequences=True,
                                    data_format="channels_first" if channels_first
                                    else "channels_last")
    return lambda v: layer(v)


def forced(layer: timedist.ConvLSTM2d, fused: bool) -> timedist.ConvLSTM2d:
    layer._fused = lambda: fused  # type: ignore[method-assign]
    return layer


def steps_for(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Step, Step]:
    xg = x.detach().requires_grad_()

    def forward() -> None:
        with torch.no_grad():
            fn(x)

    def train() -> None:
        fn(xg).pow(2).mean().backward()

    return forward, train


def run(quick: bool, rounds: int) -> None:
    cases = [(1, 16, 64), (64, 64, 32)] if not quick else [(1, 4, 16), (8, 8, 8)]
    b, t = (4, 10) if not quick else (2, 3)
    print(f"## Machine\n\n{machine_line()}")
    for channels, filters, size in cases:
        for channels_last in (False, True):
            torch.manual_seed(0)
            if channels_last:
                keras_x = torch.randn(b, t, size, size, channels)
                x = keras_x.permute(0, 1, 4, 2, 3)  # (B, T, C, H, W) view, channels innermost
            else:
                x = keras_x = torch.randn(b, t, channels, size, size)
            ours = timedist.ConvLSTM2d(channels, filters, 3)
            candidates: dict[str, tuple[Callable[[Tensor], Tensor], Tensor]] = {
                "timedist (automatic)": (ours, x),
                "timedist, fused forced": (forced(timedist.ConvLSTM2d(channels, filters, 3),
                                                  True), x),
                "timedist, split forced": (forced(timedist.ConvLSTM2d(channels, filters, 3),
                                                  False), x),
                "plain per-step cat([x, h])": (PlainConvLSTM(channels, filters, 3), x),
            }
            k = keras_layer(filters, channels_first=not channels_last)
            if k is not None:
                candidates["Keras 3 ConvLSTM2D"] = (k, keras_x)
            label = (f"ConvLSTM2d({channels}, {filters}, 3) on {tuple(x.shape)}"
                     f"{' channels-last' if channels_last else ''}")
            for phase in ("forward", "forward+backward"):
                index = 0 if phase == "forward" else 1
                steps = {name: steps_for(fn, v)[index] for name, (fn, v) in candidates.items()}
                timings = time_round_robin(steps, rounds)
                rows = rows_versus(timings, "plain per-step cat([x, h])")
                print_table(rows, f"{label}: {phase}", versus="plain per-step")


if __name__ == "__main__":
    bench_main('timedist.ConvLSTM2d vs plain and Keras', run, rounds=10)
