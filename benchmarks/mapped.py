"""What a memory-mapped training file saves (not a test): ``timedist fit`` on the same series
stored uncompressed (``np.savez``: memory-mapped) and compressed (``np.savez_compressed``:
loaded whole), each run in its own process, its memory sampled every 0.2 s from
/proc/PID/status (Linux): peak RSS, and its two parts — anonymous memory (what the process
allocated: only it counts against the machine) and mapped file pages (the page cache's,
dropped under memory pressure and read again when needed).

The series are ``benchmarks/scale.py``'s (four classes of random walks with bumps, T = 500),
2,000 more to test.

Run: ``python benchmarks/mapped.py [--n 100000]`` (``--quick``: 2,000 series).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import machine_line
from scale import STEPS, series

FIELDS = ("VmRSS", "RssAnon", "RssFile")


def _sample(pid: int) -> dict[str, int]:
    """kB of each of FIELDS now (empty once the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in FIELDS:
            found[key] = int(value.split()[0])
    return found


def fit(data: Path, test: Path, out: Path) -> dict[str, float]:
    """Seconds, accuracy and peak memory (GB) of ``timedist fit`` on ``data``."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "timedist", "fit", "--data", str(data),
                                "--test-data", str(test), "--out", str(out), "--quiet"])
    peaks = dict.fromkeys(FIELDS, 0)
    while process.poll() is None:
        for key, value in _sample(process.pid).items():
            peaks[key] = max(peaks[key], value)
        time.sleep(0.2)
    if process.returncode:
        raise SystemExit(f"timedist fit on {data} failed ({process.returncode})")
    metrics = json.loads((out / "metrics.json").read_text())
    return {"seconds": time.perf_counter() - started,
            "accuracy": float(metrics["test_accuracy"]),
            **{key: value / 1e6 for key, value in peaks.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 2_000 if args.quick else args.n
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="timedist-mapped-") as folder:
        root = Path(folder)
        x, y = series(n, 0)
        test_x, test_y = series(2_000, 1)
        np.savez(root / "test.npz", X=test_x[..., None], y=test_y)
        np.savez(root / "mapped.npz", X=x[..., None], y=y)
        np.savez_compressed(root / "loaded.npz", X=x[..., None], y=y)
        size = x.nbytes / 1e9
        del x, test_x
        print(f"\n### {n:,} series x {STEPS} steps (X {size:.2f} GB float32; each column "
              "its own peak)\n")
        print("| file | fit + test s | accuracy | peak RSS GB | anonymous GB | file pages GB |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, what in (("mapped.npz", "np.savez (memory-mapped)"),
                           ("loaded.npz", "np.savez_compressed (loaded whole)")):
            row = fit(root / name, root / "test.npz", root / f"run-{name}")
            print(f"| {what} | {row['seconds']:.0f} | {row['accuracy']:.3f} | "
                  f"{row['VmRSS']:.2f} | {row['RssAnon']:.2f} | {row['RssFile']:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
