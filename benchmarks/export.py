"""Deployment speed on the CPU: eager vs torch.compile vs onnxruntime, and the kernel choice of
the recurrent layers (not a test).

Latency (batch 1) and throughput (batch 32), inference, with and without lengths, for the two
models users deploy most: SequenceClassifier (JapaneseVowels' size: T=29, F=12, BiGRU 64) and
CNNLSTM (moving digits: T=8 frames of 1x32x32). Then what the masked path costs next to torch's
fused LSTM without lengths, and the four kernels ``recurrent/kernel.py`` chooses from.

    python benchmarks/export.py [--quick] [--rounds N]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor, nn

import timedist
from timedist import models
from timedist.deploy.export import _Call, export
from timedist.recurrent import kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import bench_main, machine_line, print_table, rows_versus, time_round_robin


def _ort_runner(model: nn.Module, args: tuple[Tensor, ...], folder: Path, name: str
                ) -> Callable[[], None]:
    import onnxruntime as ort

    path = folder / f"{name}.onnx"
    export(model, args, path, check=False, overwrite=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = dict(zip(["x", "lengths"], (a.numpy() for a in args), strict=False))
    return lambda: session.run(None, feed) and None


def _deployment(quick: bool, rounds: int, folder: Path) -> None:
    torch.manual_seed(0)
    cases = {
        "SequenceClassifier (BiGRU 64)": (
            models.SequenceClassifier(12, 9, bidirectional=True, cell="gru"),
            lambda b, t: torch.randn(b, t, 12), 29),
        "CNNLSTM (frames 1x32x32)": (
            models.CNNLSTM(models.frame_encoder(1), 128, 10),
            lambda b, t: torch.randn(b, t, 1, 32, 32), 8),
    }
    for title, (model, make, steps) in cases.items():
        model.eval()
        for batch in ((4,) if quick else (1, 32)):
            for lengths in (False, True):
                x = make(batch, 6 if quick else steps)
                t = x.shape[1]
                args: tuple[Tensor, ...] = (x,)
                if lengths:
                    args = (x, torch.linspace(t, max(1, t // 2), batch).round().long())
                wrapped = _Call(model).eval()
                torch._dynamo.reset()
                compiled = torch.compile(wrapped, fullgraph=True)

                def eager(w: nn.Module = wrapped, a: tuple[Tensor, ...] = args) -> None:
                    with torch.no_grad():
                        w(*a)

                def inductor(c: Callable[..., Tensor] = compiled,
                             a: tuple[Tensor, ...] = args) -> None:
                    with torch.no_grad():
                        c(*a)

                inductor()  # compile outside the timing
                steps_ = {"eager": eager, "torch.compile (inductor)": inductor,
                          "onnxruntime": _ort_runner(wrapped, args, folder, "m")}
                timings = time_round_robin(steps_, rounds)
                print_table(rows_versus(timings, "eager"),
                            f"{title}, batch {batch}, {'lengths' if lengths else 'no lengths'}"
                            " (inference)", "eager")


def _kernels(quick: bool, rounds: int) -> None:
    """The masked path next to the fused LSTM without lengths, and every kernel by hand."""
    torch.manual_seed(0)
    batch, steps, features, units = (4, 10, 8, 16) if quick else (32, 100, 32, 128)
    lstm = timedist.LSTM(features, units).eval()
    x = torch.randn(batch, steps, features)
    lengths = torch.randint(steps // 2, steps + 1, (batch,))
    lengths[0] = steps
    hx = kernel.initial_state(lstm, None, x)

    def call(how: str) -> Callable[[], None]:
        def run() -> None:
            with torch.no_grad():
                if how == "fused, no lengths":
                    lstm(x)
                elif how == "timedist, lengths":
                    lstm(x, lengths=lengths)
                elif how == "packed":
                    kernel.run(lstm, x, None, lengths, need_states=True)
                else:  # the masked scan, run eagerly (what tracing keeps as one operator)
                    kernel._layer_by_layer(lstm, x, (hx[0], hx[1]), lengths, scan=True)
        return run

    names = ["fused, no lengths", "timedist, lengths", "packed", "masked scan (eager)"]
    timings = time_round_robin({n: call(n) for n in names}, rounds)
    print_table(rows_versus(timings, "fused, no lengths"),
                f"LSTM kernels, B={batch} T={steps} F={features} U={units} (inference)",
                "fused")


def run(quick: bool, rounds: int) -> None:
    print(f"machine: {machine_line()}")
    with tempfile.TemporaryDirectory() as folder:
        _deployment(quick, rounds, Path(folder))
    _kernels(quick, rounds)


if __name__ == "__main__":
    bench_main(__doc__.splitlines()[0], run, rounds=30)
