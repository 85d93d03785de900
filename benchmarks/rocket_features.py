"""Throughput of rocket's feature families beside aeon's on identical input: microseconds per
series per step, one member (transform only, biases fitted beforehand, not timed).

What ``timedist.runs.defaults.rocket_size`` rests on, and issue 21's comparison: timedist's
MiniRocket (10,000 PPV features) and Hydra (64 groups x 8 kernels) against aeon's numba
``MiniRocket`` and torch ``HydraTransformer`` (same feature counts, float32 input of the same
(N, C, T) values; every core for both), univariate at T = 100, 500 and 1500 and with 12 and
100 channels. The first call of each timedist family compiles its fused kernels
(torch.compile, cached on disk afterwards): its seconds are printed, not counted.

Run: ``python benchmarks/rocket_features.py`` (``--quick`` for a smoke run; aeon comes with
the ``bench`` extra, its columns are skipped without it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from _common import bench_main, machine_line, time_round_robin

from timedist.models import HydraFeatures, MultiRocketFeatures


def _peers(x: np.ndarray) -> dict[str, Callable[[], object]]:
    """aeon's transforms of x (N, C, T), fitted, as steps to time ({} without aeon)."""
    try:
        from aeon.transformations.collection.convolution_based import (
            HydraTransformer,
            MiniRocket,
        )
    except ImportError:
        return {}
    mini = MiniRocket(n_kernels=10_000, n_jobs=-1, random_state=0).fit(x)
    hydra = HydraTransformer(n_kernels=8, n_groups=64, n_jobs=-1, random_state=0).fit(x)
    return {"aeon minirocket": lambda: mini.transform(x),
            "aeon hydra": lambda: hydra.transform(x)}


def run(quick: bool, rounds: int) -> None:
    print(f"machine: {machine_line()}")
    series = 16 if quick else 128
    shapes = ((50, 1), (50, 3)) if quick else ((100, 1), (500, 1), (1500, 1), (100, 12),
                                                (144, 100))
    rows = []
    for steps, channels in shapes:
        x = torch.randn(series, steps, channels)
        ours = {
            "minirocket": MultiRocketFeatures(channels, steps, num_features=10_000,
                                              poolings=("ppv",), difference=False).fit(x),
            "hydra": HydraFeatures(channels, steps),
        }
        calls: dict[str, Callable[[], object]] = {}
        for name, family in ours.items():
            started = time.perf_counter()
            with torch.no_grad():
                family(x)  # compiles (or loads the compiled kernels from the disk cache)
            seconds = time.perf_counter() - started
            print(f"T={steps} C={channels} {name}: first call {seconds:.1f} s")
            calls[name] = lambda family=family, x=x: family(x)
        calls.update(_peers(x.transpose(1, 2).contiguous().numpy()))
        for name, peer in calls.items():
            if name.startswith("aeon"):
                peer()  # numba compiles on the first call
        with torch.no_grad():
            timings = time_round_robin(calls, rounds)
        per = {name: median / series / steps * 1e6 for name, (median, _) in timings.items()}
        for family in ("minirocket", "hydra"):
            peer = per.get(f"aeon {family}")
            rows.append(f"| {steps} | {channels} | {family} | {per[family]:.2f} | "
                        + (f"{peer:.2f} | {per[family] / peer:.2f}x |" if peer else "- | - |"))
    print("\n| T | C | family | timedist us per series per step | aeon | timedist / aeon |")
    print("|---:|---:|---|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    bench_main(__doc__.split("\n\n")[0], run, rounds=3)
