"""Reading a CSV table of series (not a test): :func:`timedist.data.read_table` against
``pandas.read_csv`` on the same file, each parser of timedist's (pyarrow's, numpy's, row by
row) forced in turn, best of ``--rounds``.

The file: ``--n`` series of ``--steps`` values, one per row, a text label first, values
written as pandas writes them (17 significant digits) and with 6 decimals (as sensors and
spreadsheets often write them): about 100 MB each at the defaults.

Run: ``python benchmarks/tables.py [--n 12000 --steps 500]`` (``--quick``: 300 series).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
from _common import machine_line

from timedist.data import columns as columns_module
from timedist.data import read_table


def _refuse(*args: object, **kwargs: object) -> None:
    raise ValueError("row by row")


def best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12_000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import pandas as pd

    n = 300 if args.quick else args.n
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((n, args.steps)).cumsum(1),
                         columns=[f"t{i}" for i in range(args.steps)])
    frame.insert(0, "label", [f"class{v}" for v in rng.integers(0, 5, n)])
    print(machine_line())
    print("\n| file | MB | pandas.read_csv s | read_table s (pyarrow) | ratio | numpy's parser s "
          "| ratio | row by row s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="timedist-tables-") as folder:
        for digits, how in ((None, "17 digits"), ("%.6f", "6 decimals")):
            path = Path(folder) / "series.csv"
            frame.to_csv(path, index=False, float_format=digits)
            reference = best(lambda: pd.read_csv(path), args.rounds)  # noqa: B023
            seconds = {"arrow": best(lambda: read_table(path), args.rounds)}  # noqa: B023
            with mock.patch.object(columns_module, "_read_arrow", lambda *a: None):
                seconds["numpy"] = best(lambda: read_table(path), args.rounds)  # noqa: B023
                with mock.patch.object(np, "loadtxt", _refuse):
                    seconds["rows"] = best(lambda: read_table(path), 1)  # noqa: B023
            cells = " | ".join(f"{seconds[k]:.2f} | {seconds[k] / reference:.2f}x"
                               for k in ("arrow", "numpy", "rows"))
            print(f"| {n:,} x {args.steps}, {how} | {path.stat().st_size / 1e6:.0f} | "
                  f"{reference:.2f} | {cells} |")


if __name__ == "__main__":
    main()
