"""Throughput of rocket's feature families: microseconds per series per step, one member.

What ``timedist.train.defaults.rocket_size`` rests on: a member's features (MiniRocket's
10,000 PPV features + Hydra's 64 groups x 8 kernels) cost about 30 us per training series per
step on 2 CPU cores, so the ensemble is cut for large data. Each family transforms 128 random
series: univariate at T = 100, 400 and 1500, and with 12, 100 and 400 channels (MiniRocket's
biases fitted first, not timed).

Run: ``python benchmarks/rocket_features.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import torch
from _common import Step, bench_main, machine_line, time_round_robin

from timedist.models import HydraFeatures, MultiRocketFeatures


def _call(features: torch.nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> Step:
    def step() -> None:
        features(x, lengths)

    return step


def run(quick: bool, rounds: int) -> None:
    print(f"machine: {machine_line()}")
    series = 16 if quick else 128
    print("\n| T | C | family | features | us per series per step | seconds per 1000 series |")
    print("|---:|---:|---|---:|---:|---:|")
    shapes = ((50, 1), (50, 3)) if quick else ((100, 1), (400, 1), (1500, 1), (100, 12),
                                                (144, 100), (144, 400))
    for steps, channels in shapes:
        x = torch.randn(series, steps, channels)
        lengths = torch.full((series,), steps)
        families = {
            "minirocket": MultiRocketFeatures(channels, steps, num_features=10_000,
                                              poolings=("ppv",), difference=False).fit(x, lengths),
            "hydra": HydraFeatures(channels, steps),
        }
        timings = time_round_robin({name: _call(f, x, lengths) for name, f in families.items()},
                                   rounds)
        for name, (median, _) in timings.items():
            per = median / series / steps * 1e6
            print(f"| {steps} | {channels} | {name} | {families[name].out_features:,} | "
                  f"{per:.1f} | {median / series * 1000:.1f} |")


if __name__ == "__main__":
    bench_main(__doc__.split("\n\n")[0], run, rounds=3)
