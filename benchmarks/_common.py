"""Shared by the benchmark scripts: timing, tables, the machine line. Not a test."""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor

Step = Callable[[], None]


def machine_line() -> str:
    """The machine, as the tables in docs/benchmarks.md record it."""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"Python {platform.python_version()}")


def train_step(fn: Callable[[Tensor], Tensor], x: Tensor) -> Step:
    """forward + backward of sum(fn(x)**2)."""

    def step() -> None:
        fn(x).pow(2).sum().backward()

    return step


def time_round_robin(steps: dict[str, Step], rounds: int) -> dict[str, tuple[float, float]]:
    """(median, min) seconds of each step: one call of each per round, in a shuffled order.

    Two warm-up rounds are not timed. Shuffling keeps a fixed call order (cache state left by
    the previous candidate) from favouring one candidate.
    """
    order = list(steps)
    shuffle = random.Random(0).shuffle
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for r in range(rounds + 2):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            steps[name]()
            if r >= 2:
                samples[name].append(time.perf_counter() - start)
    return {name: (statistics.median(s), min(s)) for name, s in samples.items()}


def print_table(rows: list[dict[str, object]], title: str, versus: str) -> None:
    print(f"\n### {title}\n")
    print(f"| implementation | median ms | vs {versus} | min ms | min vs {versus} |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['impl']} | {r['ms']:.2f} | {r['ratio']:.3f}x | {r['min_ms']:.2f} "
              f"| {r['min_ratio']:.3f}x |")


def rows_versus(timings: dict[str, tuple[float, float]], base: str) -> list[dict[str, object]]:
    """Table rows (ms, ratios to ``base``) from ``time_round_robin``'s (median, min) seconds."""
    ref = timings[base]
    return [{"impl": name, "ms": 1e3 * med, "min_ms": 1e3 * low, "ratio": med / ref[0],
             "min_ratio": low / ref[1]} for name, (med, low) in timings.items()]


def bench_main(description: str, run: Callable[[bool, int], None], rounds: int) -> None:
    """The command line every benchmark shares: ``[--quick] [--rounds N]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--rounds", type=int, default=rounds,
                        help=f"timed rounds (default: {rounds})")
    args = parser.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    run(args.quick, args.rounds)
