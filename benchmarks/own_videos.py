"""Own videos end to end (not a test): ``fit`` on folders of clips vs the in-memory task.

1. Accuracy: the moving-digits task (6000 training clips, 1000 test clips, 8 frames) written
   as H.264 .mp4 at 32x32 and at 128x128 and as PNG frame folders
   (``benchmarks/clip_folders.py``), then ``fit`` on each folder with the built-in task's
   settings (CNN-LSTM, hidden 128, 12 epochs, batch 64, lr 0.003, validation 0.1), beside
   ``fit --data moving-digits`` (the same clips held in memory). Target: within 0.02.
2. Loader wait: 64x64 x 16-frame H.264 clips, the fraction of each training epoch spent
   waiting for the next batch (time from one step's end to the next step's start, so it
   includes Lightning's own per-step work: an upper bound). Target: at most 10 %.

    python benchmarks/own_videos.py [--quick]   (TIMEDIST_BENCH_KEEP=DIR keeps the files)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from timedist.train import fit, resolve_config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import bench_main, machine_line
from clip_folders import write_moving_digits

SETTINGS = dict(model="cnn-lstm", hidden_size=128, epochs=12, batch_size=64, lr=3e-3,
                val_split=0.1)


class LoaderWait(pl.Callback):
    """Seconds each epoch spent between steps (waiting for a batch), and its length."""

    def __init__(self) -> None:
        self.epochs: list[tuple[float, float]] = []

    def on_train_epoch_start(self, trainer: Any, module: Any) -> None:
        self.start = self.mark = time.perf_counter()
        self.wait = 0.0

    def on_train_batch_start(self, trainer: Any, module: Any, batch: Any, index: int) -> None:
        self.wait += time.perf_counter() - self.mark

    def on_train_batch_end(self, trainer: Any, module: Any, *args: Any) -> None:
        self.mark = time.perf_counter()

    def on_train_epoch_end(self, trainer: Any, module: Any) -> None:
        self.epochs.append((self.wait, time.perf_counter() - self.start))


def _fit(data: str, out: Path, **settings: Any) -> tuple[dict[str, Any], LoaderWait]:
    wait = LoaderWait()
    start = time.perf_counter()
    result = fit(resolve_config({"data": data, **settings}), out=out, verbose=False,
                 progress=False, callbacks=[wait])
    assert result is not None
    return {**result.metrics, "fit_seconds": time.perf_counter() - start}, wait


HEADER = ("| {} | test accuracy | baseline | training s | whole fit s | write s | loader wait, "
          "epoch 1 | later epochs |\n|---|---:|---:|---:|---:|---:|---:|---:|")


def _row(name: str, metrics: dict[str, Any], wait: LoaderWait, written: float | None) -> str:
    waits = [w / t for w, t in wait.epochs]
    later = waits[1:] or waits
    return (f"| {name} | {metrics['test_accuracy']:.4f} | {metrics['baseline_accuracy']:.4f} | "
            f"{metrics['train_seconds']:.0f} | {metrics['fit_seconds']:.0f} | "
            f"{'-' if written is None else f'{written:.0f}'} | {100 * waits[0]:.1f} % | "
            f"{100 * sum(later) / len(later):.1f} % |")


def accuracy(root: Path, quick: bool) -> None:
    # --quick: 80 training clips, the fewest whose labels cover the 8 test clips' (seed 0).
    sizes = dict(train=80, test=8) if quick else {}
    settings = {**SETTINGS, **(dict(epochs=1) if quick else {})}
    print("\n### Own videos vs the in-memory task (moving digits)\n")
    print(HEADER.format("data"))
    reference, wait = _fit("moving-digits", root / "run-memory",
                           **settings, **(dict(subset=80) if quick else {}))
    print(_row("in memory (--data moving-digits)", reference, wait, None), flush=True)
    for fmt, size in (("mp4", 32), ("png", 32), ("mp4", 128)):
        folder = root / f"{fmt}-{size}"
        start = time.perf_counter()
        write_moving_digits(folder, fmt, size, **sizes)
        written = time.perf_counter() - start
        metrics, wait = _fit(str(folder), root / f"run-{fmt}-{size}", **settings)
        name = f"{'H.264 .mp4' if fmt == 'mp4' else 'PNG folders'} {size}x{size}" + (
            " (resized to 64: 4 encoder blocks)" if size > 64 else "")
        print(_row(name, metrics, wait, written), flush=True)
        if size > 64:  # the encoder's depth rule against one block fewer
            metrics, wait = fewer_blocks(str(folder), root / "run-3-blocks", **settings)
            print(_row(f"{name[:name.index('(')]}(resized to 64: 3 blocks)", metrics, wait,
                       None), flush=True)
        shutil.rmtree(folder)


def fewer_blocks(data: str, out: Path, **settings: Any) -> tuple[dict[str, Any], LoaderWait]:
    """``_fit`` with the frame encoder one stride-2 block shallower than the rule chooses."""
    import timedist.models.registry as registry

    rule = registry.frame_blocks
    registry.frame_blocks = lambda height, width: rule(height, width) - 1
    try:
        return _fit(data, out, **settings)
    finally:
        registry.frame_blocks = rule


def loader_wait(root: Path, quick: bool) -> None:
    count = 80 if quick else 2000  # --quick: see accuracy()
    start = time.perf_counter()
    folder = write_moving_digits(root / "mp4-64x16", "mp4", 64, train=count, test=count // 10,
                                 steps=16, canvas=64)
    written: float | None = time.perf_counter() - start
    print("\n### Loader wait, 64x64 x 16-frame H.264 clips, 2 workers\n")
    print(HEADER.format("run"))
    for name, extra in (("streamed", {}), ("--cache", dict(cache=str(root / "cache")))):
        metrics, wait = _fit(str(folder), root / f"run-wait-{name}", model="cnn-lstm",
                             epochs=1 if quick else 3, val_split=0.0, **extra)
        print(_row(f"{count} clips, {name}", metrics, wait, written), flush=True)
        written = None


def main(quick: bool, rounds: int) -> None:
    print(machine_line())
    keep = os.environ.get("TIMEDIST_BENCH_KEEP")
    root = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="timedist-videos-"))
    try:
        loader_wait(root, quick)
        accuracy(root, quick)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    bench_main(__doc__.splitlines()[0], main, rounds=1)
