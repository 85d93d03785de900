"""timedist.LSTM next to torch.nn.LSTM (not a test).

Forward+backward medians for the same shapes: without lengths (timedist's overhead over torch)
and with lengths (timedist packs for you vs the pack/pad a torch user writes by hand), plus
Keras 3's LSTM with a mask if ``keras`` imports with KERAS_BACKEND=torch.

    python benchmarks/recurrent.py [--quick] [--rounds N]
"""

from __future__ import annotations

import os
import sys
from functools import partial

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import timedist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (
    Step,
    bench_main,
    machine_line,
    print_table,
    rows_versus,
    time_round_robin,
    train_step,
)


def hand_packed(lstm: nn.LSTM, lengths: Tensor, steps: int) -> Step:
    """What a torch user writes for variable lengths."""

    def run(x: Tensor) -> Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = lstm(packed)
        return pad_packed_sequence(out, batch_first=True, total_length=steps)[0]

    return run  # type: ignore[return-value]


def keras_lstm(units: int, bidirectional: bool, x: Tensor, mask: Tensor | None) -> Step | None:
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    layer = keras.layers.LSTM(units, return_sequences=True)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    xg = x.detach().requires_grad_()

    def step() -> None:
        layer(xg, mask=mask).pow(2).sum().backward()

    return step


def run(quick: bool, rounds: int) -> None:
    b, t, f, u = (4, 12, 8, 16) if quick else (32, 100, 64, 128)
    print(f"## Machine\n\n{machine_line()}")
    for layers, bidirectional in ((1, False), (1, True), (2, True)):
        torch.manual_seed(0)
        reference = nn.LSTM(f, u, num_layers=layers, bidirectional=bidirectional,
                            batch_first=True)
        ours = timedist.LSTM(f, u, num_layers=layers, bidirectional=bidirectional)
        ours.load_state_dict(reference.state_dict())
        x = torch.randn(b, t, f, requires_grad=True)
        lengths = torch.randint(t // 4, t + 1, (b,), generator=torch.Generator().manual_seed(0))
        mask = torch.arange(t) < lengths[:, None]
        label = f"LSTM({f}, {u}, num_layers={layers}, bidirectional={bidirectional}) " \
                f"on {tuple(x.shape)}"
        steps: dict[str, Step] = {
            "torch.nn.LSTM": train_step(lambda v, m=reference: m(v)[0], x),
            "timedist.LSTM": train_step(ours, x),
            "torch pack/pad by hand, lengths": train_step(hand_packed(reference, lengths, t), x),
            "timedist.LSTM, lengths": train_step(partial(ours, lengths=lengths), x),
        }
        if bidirectional and layers == 1:  # the same math as two unidirectional layers
            wrapper = timedist.Bidirectional(timedist.LSTM(f, u))
            steps["timedist.Bidirectional(LSTM), lengths"] = train_step(
                partial(wrapper, lengths=lengths), x)
        keras_step = keras_lstm(u, bidirectional, x, None) if layers == 1 else None
        if keras_step is not None:
            steps["Keras 3 LSTM"] = keras_step
            masked = keras_lstm(u, bidirectional, x, mask)
            if masked is not None:
                steps["Keras 3 LSTM, mask"] = masked
        timings = time_round_robin(steps, rounds)
        rows = rows_versus(timings, "torch.nn.LSTM")
        mean_padding = 1 - lengths.float().mean().item() / t
        print_table(rows, f"{label}: forward+backward ({mean_padding:.0%} padded with lengths)",
                    versus="torch.nn.LSTM")


if __name__ == "__main__":
    bench_main('timedist.LSTM vs torch.nn.LSTM', run, rounds=30)
