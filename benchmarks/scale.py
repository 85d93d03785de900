"""Time and peak memory against the number of series: timedist's defaults beside aeon's
MiniRocket, N = 1k ... 200k univariate series of T = 500 steps, 10,000 more to predict.

Each (method, N) runs in a fresh process, so its peak resident memory (RSS, ``ru_maxrss``)
is its own; CUDA's peak memory is added where timedist runs on a GPU. The data: four classes
of smoothed random walks, each class with its own bump shape at a random place (not
separable by the mean or the variance of a series). timedist runs through
``TimeSeriesClassifier()`` with its defaults (what a user's ``fit`` gets, the sizes it chooses
printed); aeon as ``MiniRocket(n_jobs=-1)`` + ``RidgeClassifierCV(logspace(-3, 3, 10))``, its
documented pipeline. aeon stops being run past ``--aeon-max`` series (default 50,000: its
feature matrix is N x 10,000 float32 and scikit-learn's ridge copies it to float64) or after
an hour; a run that dies (out of memory) is reported as such.

Run: ``python benchmarks/scale.py [--sizes 1000,5000,...] [--png scale.png]
[--results scale.jsonl]``
(``--quick``: N = 300, 500 to predict, for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import machine_line

STEPS, CLASSES, PREDICT = 500, 4, 10_000
SIZES = (1_000, 5_000, 20_000, 50_000, 100_000, 200_000)


def series(n: int, seed: int, steps: int = STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, steps) float32, y (n,) int): smoothed random walks plus a class's bump, made in
    blocks so the generator's peak memory stays near the result's own size."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    x = np.empty((n, steps), dtype=np.float32)
    t = np.arange(steps, dtype=np.float32)
    for first in range(0, n, 10_000):
        rows = slice(first, min(n, first + 10_000))
        count = rows.stop - rows.start
        walk = np.cumsum(rng.normal(size=(count, steps)).astype(np.float32), axis=1) * 0.1
        u = (t[None, :] - rng.integers(0, steps - 60, count)[:, None]) / 60  # bump's time
        shapes = (np.sin(np.pi * u), np.sign(np.sin(2 * np.pi * u)), np.sin(np.pi * u) ** 4, u)
        bump = np.select([y[rows, None] == k for k in range(CLASSES)], shapes)
        noise = rng.normal(scale=0.3, size=(count, steps)).astype(np.float32)
        x[rows] = walk + bump * ((u >= 0) & (u < 1)) * 1.5 + noise
    return x, y


def one(method: str, n: int) -> dict[str, object]:
    """Fit on n series and predict PREDICT, in this process: seconds, accuracy, sizes."""
    x, y = series(n, 0)
    test_x, test_y = series(PREDICT, 1)
    found: dict[str, object] = {"method": method, "n": n}
    started = time.perf_counter()
    if method == "timedist":
        import torch

        from timedist.estimators import TimeSeriesClassifier

        model = TimeSeriesClassifier(verbose=True).fit(x, y)
        found["fit_s"] = time.perf_counter() - started
        started = time.perf_counter()
        predicted = model.predict(test_x)
        if torch.cuda.is_available():
            found["gpu_gb"] = torch.cuda.max_memory_allocated() / 2**30
    else:
        from aeon.transformations.collection.convolution_based import MiniRocket
        from sklearn.linear_model import RidgeClassifierCV

        transform = MiniRocket(n_jobs=-1, random_state=0)
        features = transform.fit_transform(x[:, None, :])
        ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(features, y)
        found["fit_s"] = time.perf_counter() - started
        started = time.perf_counter()
        predicted = ridge.predict(transform.transform(test_x[:, None, :]))
    found["predict_s"] = time.perf_counter() - started
    found["accuracy"] = float((np.asarray(predicted) == test_y).mean())
    found["rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return found


def plot(results: list[dict[str, object]], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method in sorted({str(r["method"]) for r in results}):
        done = [r for r in results if r["method"] == method and "fit_s" in r]
        ns = [int(r["n"]) for r in done]  # type: ignore[call-overload]
        axes[0].plot(ns, [float(r["fit_s"]) for r in done], "o-", label=method)  # type: ignore[arg-type]
        axes[1].plot(ns, [float(r["rss_gb"]) for r in done], "o-", label=method)  # type: ignore[arg-type]
    for ax, label in zip(axes, ("fit seconds", "peak RSS (GB)"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"training series (T={STEPS})")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    figure.tight_layout()
    figure.savefig(png, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--methods", default="timedist,aeon")
    parser.add_argument("--aeon-max", type=int, default=50_000)
    parser.add_argument("--png", type=Path, default=None)
    parser.add_argument("--results", type=Path, default=None,
                        help="JSON lines: earlier results read from it (and shown), new ones "
                             "appended (a long run done in parts)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(one(args.one[0], int(args.one[1]))), flush=True)
        return
    sizes = (300,) if args.quick else tuple(int(s) for s in args.sizes.split(","))
    methods = args.methods.split(",")
    print(f"machine: {machine_line()}", flush=True)
    results: list[dict[str, object]] = []
    if args.results and args.results.exists():
        results = [json.loads(line) for line in args.results.read_text().splitlines() if line]
    for n in sizes:
        for method in methods:
            if method == "aeon" and n > args.aeon_max:
                continue
            command = [sys.executable, __file__, "--one", method, str(n)]
            run = subprocess.run(command + ["--quick"] * args.quick, capture_output=True,
                                 text=True, timeout=3600)
            lines = [ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")]
            if run.returncode != 0 or not lines:
                tail = (run.stderr.strip().splitlines() or ["(no output)"])[-1]
                print(f"{method} N={n}: failed (exit {run.returncode}): {tail}", flush=True)
                results.append({"method": method, "n": n, "failed": tail})
                continue
            for line in run.stdout.splitlines():
                if line.startswith("chose") or line.startswith("rocket"):
                    print(f"  {method} N={n}: {line}")
            result = json.loads(lines[-1][len("RESULT "):])
            results.append(result)
            if args.results:
                with args.results.open("a") as handle:
                    handle.write(json.dumps(result) + "\n")
            print(f"{method} N={n}: fit {result['fit_s']:.1f} s, predict {PREDICT_TEXT} "
                  f"{result['predict_s']:.1f} s, accuracy {result['accuracy']:.3f}, "
                  f"peak RSS {result['rss_gb']:.2f} GB", flush=True)
    print(f"\n| N | method | fit s | predict {PREDICT_TEXT} s | accuracy | peak RSS GB |")
    print("|---:|---|---:|---:|---:|---:|")
    for r in sorted(results, key=lambda r: (int(r["n"]), str(r["method"]))):  # type: ignore[call-overload]
        if "failed" in r:
            print(f"| {r['n']:,} | {r['method']} | failed: {r['failed']} | | | |")
        else:
            print(f"| {r['n']:,} | {r['method']} | {r['fit_s']:.1f} | {r['predict_s']:.1f} | "
                  f"{r['accuracy']:.3f} | {r['rss_gb']:.2f} |")
    if args.png:
        plot(results, args.png)
        print(f"plot: {args.png}")


PREDICT_TEXT = f"{PREDICT:,}"

if __name__ == "__main__":
    if "--quick" in sys.argv:
        PREDICT, PREDICT_TEXT = 500, "500"
    main()
