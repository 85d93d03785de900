"""Own data: timedist's defaults (through the scikit-learn estimators, no per-dataset settings)
beside aeon's MiniRocket, MultiRocket-Hydra and 1-NN DTW, on the same files and splits.

Classification: the development suite (``shared/data/ucr``: GunPoint, ArrowHead,
ItalyPowerDemand, OSULeaf, Covid3Month_disc) and the UEA files shipped with timedist
(JapaneseVowels, BasicMotions). Regression: Covid3Month (RMSE; the mean predictor is the
floor). Every randomized method runs with seeds 0, 1, 2 and reports the mean and the range;
each time is fit + predict in seconds on this machine (torch and aeon with 2 threads). aeon
gets unequal lengths edge-padded to the longest series (its classifiers need equal lengths);
timedist reads them as they are. The 1-NN Euclidean baseline every ``timedist fit`` reports is
shown too. A missing peer (no aeon) is skipped with a message.

Run: ``python benchmarks/own_data.py [--data-dir DIR] [--write docs/results.md]``;
``--quick`` is a smoke run on a subset of the shipped BasicMotions and sunspots windows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _common import machine_line

from timedist.data import SequenceDataset, load_dataset, read_ts
from timedist.estimators import TimeSeriesClassifier, TimeSeriesRegressor
from timedist.runs.baselines import nearest_neighbour_predictions

HERE = Path(__file__).resolve().parent
SUITE = ("GunPoint", "ArrowHead", "ItalyPowerDemand", "OSULeaf", "Covid3Month_disc")
SHIPPED = {"JapaneseVowels": "japanese-vowels", "BasicMotions": "basic-motions"}
REGRESSION = ("Covid3Month",)
SEEDS = (0, 1, 2)
MARK_START, MARK_END = "<!-- own-data:start -->", "<!-- own-data:end -->"
Fit = Callable[[Any, Any, Any, int], np.ndarray]  # (x_train, y_train, x_test, seed) -> pred


def arrays(data: SequenceDataset) -> tuple[list[np.ndarray], np.ndarray]:
    """Series (T_i, C) as numpy, and labels (class names) or float targets."""
    series = [s.numpy() for s in data.sequences]
    if data.classes is None:
        return series, data.targets.numpy().astype(np.float64)
    return series, np.array(data.classes)[data.targets.numpy()]


def edge_padded(series: list[np.ndarray], length: int) -> np.ndarray:
    """(N, C, length) for aeon: each series repeated at its last value up to ``length``."""
    return np.stack([np.pad(s, ((0, length - len(s)), (0, 0)), mode="edge").T for s in series])


def load(name: str, data_dir: Path, quick: bool) -> tuple[SequenceDataset, SequenceDataset]:
    if quick:
        if name == "sunspots":
            train, test = load_dataset("sunspots")
            return (SequenceDataset(train.sequences[:120], train.targets[:120, 0], name=name),
                    SequenceDataset(test.sequences, test.targets[:, 0], name=name))
        train, test = load_dataset("basic-motions")
        return train.subset(range(0, 40, 2)), test.subset(range(0, 40, 4))
    if name in SHIPPED:
        return load_dataset(SHIPPED[name])  # the same files as shared/data/uea
    return (read_ts(data_dir / "ucr" / f"{name}_TRAIN.ts.gz"),
            read_ts(data_dir / "ucr" / f"{name}_TEST.ts.gz"))


# --models names that are settings rather than a model: the one-member MiniRocket, the
# counterpart of aeon's MiniRocket (issue 21: within 1.5x of its time)
VARIANTS = {"minirocket-1": dict(model="rocket", features="minirocket", members=1)}


def timedist(task: str, model: str | None) -> Fit:
    """timedist's estimator with its defaults (``model`` None), one named model or a
    ``VARIANTS`` entry."""
    kind = TimeSeriesClassifier if task == "classification" else TimeSeriesRegressor
    settings: dict[str, Any] = VARIANTS.get(model or "", dict(model=model))

    def fit(x: Any, y: Any, test: Any, seed: int) -> np.ndarray:
        return kind(**settings, random_state=seed).fit(x, y).predict(test)  # type: ignore

    return fit


def peers(task: str) -> dict[str, tuple[Fit, bool]]:
    """aeon's estimators: name -> (fit-and-predict on edge-padded (N, C, T), randomized)."""
    try:
        from aeon.classification.convolution_based import (
            MiniRocketClassifier,
            MultiRocketHydraClassifier,
        )
        from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
        from aeon.regression.convolution_based import MiniRocketRegressor
        from aeon.regression.distance_based import KNeighborsTimeSeriesRegressor
    except ImportError as error:
        print(f"aeon is not installed ({error}): the peers are skipped. Install them with "
              "pip install -c constraints.txt -e '.[bench]'", file=sys.stderr)
        return {}

    def run(make: Callable[[int], Any]) -> Fit:
        def fit(x: Any, y: Any, test: Any, seed: int) -> np.ndarray:
            predicted = make(seed).fit(x, y).predict(test)
            torch.set_num_threads(2)  # aeon's Hydra sets torch's threads to n_jobs
            return predicted  # type: ignore[no-any-return]
        return fit

    if task == "classification":
        return {"MiniRocket": (run(lambda s: MiniRocketClassifier(random_state=s, n_jobs=2)),
                               True),
                "MultiRocket-Hydra": (run(lambda s: MultiRocketHydraClassifier(
                    random_state=s, n_jobs=2)), True),
                "1-NN DTW": (run(lambda s: KNeighborsTimeSeriesClassifier(
                    distance="dtw", n_jobs=2)), False)}
    return {"MiniRocket": (run(lambda s: MiniRocketRegressor(random_state=s, n_jobs=2)), True),
            "1-NN DTW": (run(lambda s: KNeighborsTimeSeriesRegressor(distance="dtw",
                                                                     n_jobs=2)), False)}


def score(task: str, predicted: np.ndarray, truth: np.ndarray) -> float:
    if task == "classification":
        return float((predicted == truth).mean())
    return float(np.sqrt(((predicted.astype(np.float64) - truth) ** 2).mean()))


def measure(fit: Fit, seeds: tuple[int, ...], task: str, data: tuple[Any, ...]
            ) -> tuple[list[float], float]:
    """(score per seed, median seconds of fit + predict)."""
    x, y, test, truth = data
    scores, seconds = [], []
    for seed in seeds:
        started = time.perf_counter()
        predicted = fit(x, y, test, seed)
        seconds.append(time.perf_counter() - started)
        scores.append(score(task, np.asarray(predicted), truth))
    return scores, statistics.median(seconds)


def cell(scores: list[float], seconds: float, digits: int) -> str:
    mean = statistics.fmean(scores)
    spread = f" ({min(scores):.{digits}f}-{max(scores):.{digits}f})" if len(scores) > 1 else ""
    return f"{mean:.{digits}f}{spread} · {seconds:.{2 if seconds < 1 else 1}f} s"


def table(task: str, names: list[str], quick: bool, data_dir: Path, seeds: tuple[int, ...],
          models: list[str]) -> list[str]:
    """The markdown rows of one task. Every timedist column is measured before any peer: aeon's
    numba worker threads keep spinning after they ran and would slow torch down."""
    ours = {"timedist" if m == "default" else f"timedist {m}":
            timedist(task, None if m == "default" else m) for m in models}
    others = peers(task) if "default" in models else {}
    digits = 3 if task == "classification" else 4
    splits = {name: load(name, data_dir, quick) for name in names}
    results: dict[str, dict[str, tuple[list[float], float]]] = {}
    for method, fit in ours.items():
        results[method] = {}
        for name, (train, test) in splits.items():
            results[method][name] = measure(fit, seeds, task, (*arrays(train), *arrays(test)))
            print(f"{method} {name}: {cell(*results[method][name], digits)}", flush=True)
    for method, (fit, randomized) in others.items():
        results[method] = {}
        for name, (train, test) in splits.items():
            (x, y), (x_test, truth) = arrays(train), arrays(test)
            length = int(max(train.lengths.max(), test.lengths.max()))
            padded = (edge_padded(x, length), y, edge_padded(x_test, length), truth)
            few = np.r_[np.flatnonzero(y == y[0])[:3], np.flatnonzero(y != y[0])[:3]]
            fit(padded[0][few], y[few], padded[2][:2], 0)  # numba compiles outside the timing
            results[method][name] = measure(fit, seeds if randomized else seeds[:1], task,
                                            padded)
            print(f"{method} {name}: {cell(*results[method][name], digits)}", flush=True)
    methods = list(results)
    lines = ["| dataset | train/test, T | " + " | ".join(methods) + (
        " | 1-NN Euclidean |" if task == "classification" else " | mean predictor |"),
        "|" + "---|" * (len(methods) + 3)]
    for name, (train, test) in splits.items():
        if task == "classification":
            predicted = nearest_neighbour_predictions(train, test)
            floor = float((predicted == test.targets).float().mean())
        else:
            floor = score(task, np.full(len(test), arrays(train)[1].mean()), arrays(test)[1])
        low, high = int(train.lengths.min()), int(max(train.lengths.max(), test.lengths.max()))
        span = f"T={low}..{high}" if low != high else f"T={high}"
        lines.append(f"| {name} | {len(train)}/{len(test)}, {span} | " + " | ".join(
            cell(*results[m][name], digits) for m in methods) + f" | {floor:.{digits}f} |")
    if task == "classification" and len(names) > 1:
        lines.append(f"| **mean of the {len(names)}** | | " + " | ".join(
            f"**{statistics.fmean(statistics.fmean(results[m][n][0]) for n in names):.{digits}f}**"
            for m in methods) + " | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run on shipped data")
    parser.add_argument("--data-dir", type=Path, default=HERE.parents[1] / "shared" / "data",
                        help="the folder holding ucr/ (default: ../shared/data)")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--models", default="default", help="timedist columns: 'default' "
                        "(what fit chooses; with the peers) and/or models (rocket, inception, "
                        "resnet, fcn, sequence, ...) or minirocket-1 (one MiniRocket member), "
                        "comma-separated")
    parser.add_argument("--datasets", help="a comma-separated subset of the suite's names")
    parser.add_argument("--write", type=Path, help="put the tables into this markdown file "
                        f"between {MARK_START} and {MARK_END}")
    args = parser.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    seeds = tuple(int(s) for s in args.seeds.split(","))
    if args.quick:
        classification, regression = ["basic-motions subset"], ["sunspots"]
    else:
        if not (args.data_dir / "ucr").is_dir():
            parser.error(f"--data-dir: expected a folder with ucr/ in it; got {args.data_dir}")
        classification, regression = [*SUITE, *SHIPPED], list(REGRESSION)
        if args.datasets:
            wanted = args.datasets.split(",")
            unknown = sorted(set(wanted) - set(classification) - set(regression))
            if unknown:
                parser.error(f"--datasets: unknown {unknown}; expected some of "
                             f"{', '.join([*classification, *regression])}")
            classification = [n for n in classification if n in wanted]
            regression = [n for n in regression if n in wanted]
    models = args.models.split(",")
    print(f"machine: {machine_line()}\n")
    out = []
    if classification:
        out += ["### Classification: test accuracy (mean over seeds, min-max) · fit + predict "
                "time", "", *table("classification", classification, args.quick,
                                   args.data_dir, seeds, models), ""]
    if regression:
        out += ["### Regression: test RMSE (lower is better) · fit + predict time", "",
                *table("regression", regression, args.quick, args.data_dir, seeds, models), ""]
    shown = [a for i, a in enumerate(sys.argv[1:]) if a != "--write" and (
        i == 0 or sys.argv[i] != "--write")]  # where the tables go changes no number
    out.append(f"Machine: {machine_line()}. Command: `python "
               f"{' '.join(['benchmarks/own_data.py', *shown])}` (seeds {args.seeds}).")
    text = "\n".join(out)
    print("\n" + text)
    if args.write:
        page = args.write.read_text()
        if MARK_START not in page or MARK_END not in page:
            parser.error(f"--write: expected {MARK_START} and {MARK_END} in {args.write}")
        before, rest = page.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1]
        args.write.write_text(f"{before}{MARK_START}\n{text}\n{MARK_END}{after}")
        print(f"wrote the tables into {args.write}")


if __name__ == "__main__":
    main()
