"""When networks stop (not a test): the convergence rule against the whole budget.

Each task trains once for its whole length (``--no-converge``) while a callback records, after
every epoch, the optimizer steps, the training loss and accuracy, the validation loss and the
test metric. A run stopped by the rule is that same run cut at the rule's epoch (the schedule
does not depend on when it stops), so every rule is judged on the same trajectories:

- its stop (epoch, steps, seconds of training) against the budget's;
- the test metric of what the run keeps (the checkpoint of lowest validation loss up to the
  stop when the run picks one, else the weights at the stop) against the budget's.

    python benchmarks/convergence.py --record traj.jsonl [--tasks a,b] [--quick]
    python benchmarks/convergence.py --analyse traj.jsonl [--windows 0.05,0.1,0.2] [--tols ..]

Tasks: the built-in datasets (their own epochs, rule switched on with ``--converge``), own
signals trained as networks at the default budget (fcn and resnet on development files) and
own clips (160 H.264 clips of 4 classes at the default budget).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader

from timedist.data import SequenceDataset, moving_digits, pad_collate
from timedist.runs.prepare import prepare_data
from timedist.train import fit, resolve_config
from timedist.train.convergence import TOL, WINDOW, Epoch, stop_reason, window_steps

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine_line
from clip_folders import write_split

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _archive(name: str, model: str) -> dict[str, Any]:
    """A development file (ucr/*.ts.gz, or uea/*.ts) as own data: no settings but the model."""
    folder, suffix = (("ucr", ".ts.gz") if (DATA / "ucr" / f"{name}_TRAIN.ts.gz").is_file()
                      else ("uea", ".ts"))
    return dict(data=str(DATA / folder / f"{name}_TRAIN{suffix}"),
                test_data=str(DATA / folder / f"{name}_TEST{suffix}"), model=model)


def _clips(root: Path, train: int = 160, test: int = 200) -> dict[str, Any]:
    """Own clips: moving digits relabelled by their direction only (4 classes), as .mp4."""
    for split, count in (("train", train), ("test", test)):
        clips = moving_digits(split, count=count)
        direction = clips.targets % 4
        data = SequenceDataset([clips[i][0] for i in range(count)], direction,
                               classes=["up", "down", "left", "right"])
        write_split(data, root / split, "mp4", 32)
    return dict(data=str(root))


BUILT_IN = ["japanese-vowels", "basic-motions", "sunspots", "airline", "moving-digits"]
OWN_SIGNALS = [("ItalyPowerDemand", "fcn"), ("JapaneseVowels", "fcn"), ("GunPoint", "fcn"),
               ("Covid3Month_disc", "fcn"), ("ItalyPowerDemand", "resnet")]


def tasks(root: Path) -> dict[str, Any]:
    """name -> settings (a callable for the ones that write files first)."""
    out: dict[str, Any] = {name: dict(data=name, converge=True) for name in BUILT_IN}
    out.update({f"{name} {model}": _archive(name, model) for name, model in OWN_SIGNALS})
    out["own clips (160 clips of 4 classes)"] = lambda: _clips(root / "clips")
    return out


class Trajectory(pl.Callback):
    """After each epoch (after its validation): steps, train/val metrics, the test metric."""

    def __init__(self, test: Any, task: str) -> None:
        self.batches = list(DataLoader(test, batch_size=64, collate_fn=pad_collate))
        self.task, self.rows = task, []  # type: ignore[var-annotated]
        self.start = time.perf_counter()

    @torch.no_grad()
    def on_train_epoch_end(self, trainer: pl.Trainer, module: Any) -> None:
        module.eval()
        right = total = 0.0
        for x, lengths, y in self.batches:
            out = module(x, lengths)
            if self.task == "classification":
                right += float((out.argmax(-1) == y).sum())
            else:
                right += float(((out - y) ** 2).sum())
            total += y.numel()
        module.train()
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        self.rows.append(dict(epoch=trainer.current_epoch, steps=trainer.global_step,
                              seconds=time.perf_counter() - self.start,
                              train_loss=metrics.get("train_loss"),
                              train_accuracy=metrics.get("train_accuracy"),
                              val_loss=metrics.get("val_loss"), test=right / total))


def record(path: Path, names: list[str] | None, quick: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="timedist-converge-"))
    try:
        every = tasks(root)
        for name in names or list(every):
            settings = every[name]
            settings = settings() if callable(settings) else settings
            config = resolve_config({**settings, "converge": False,
                                     **(dict(steps=30, epochs=None) if quick else {})})
            prepared = prepare_data(config)
            test = prepared.test if prepared.test is not None else prepared.val
            if hasattr(test, "evaluation"):
                test = test.evaluation()
            trajectory = Trajectory(test, prepared.task)
            result = fit(config, out=root / "run", overwrite=True, verbose=False,
                         progress=False, callbacks=[trajectory])
            assert result is not None
            config = prepared.config
            per_epoch = max(1, trajectory.rows[0]["steps"])
            entry = dict(task=name, kind=prepared.task, selects=bool(
                prepared.val is not None and len(prepared.val) >= 100),
                epochs=config.epochs, per_epoch=per_epoch, rows=trajectory.rows,
                test_metrics=result.metrics)
            with open(path, "a") as handle:
                handle.write(json.dumps(entry) + "\n")
            print(f"{name}: {len(trajectory.rows)} epochs, {trajectory.rows[-1]['seconds']:.0f} "
                  f"s, test {trajectory.rows[-1]['test']:.4f}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def kept(entry: dict[str, Any], upto: int) -> dict[str, Any]:
    """The row whose weights a run stopped after row ``upto`` keeps."""
    rows = entry["rows"][:upto + 1]
    if entry["selects"]:
        return min(rows, key=lambda r: r["val_loss"])
    return rows[-1]


def stop_row(entry: dict[str, Any], fraction: float, tol: float) -> tuple[int, str | None]:
    rows = entry["rows"]
    total = entry["epochs"] * entry["per_epoch"]
    window = window_steps(total, entry["per_epoch"], fraction)
    history: list[Epoch] = []
    for i, r in enumerate(rows):
        history.append(Epoch(r["epoch"], r["steps"], r["train_loss"], r["train_accuracy"]))
        reason = stop_reason(history, window, tol)
        if reason is not None and i + 1 < len(rows):
            return i, reason
    return len(rows) - 1, None


def analyse(path: Path, windows: list[float], tols: list[float]) -> None:
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    print("| task | budget: epochs, s | test | rule | stop: epoch, s | test | why |")
    print("|---|---:|---:|---|---:|---:|---|")
    for entry in entries:
        rows = entry["rows"]
        full = kept(entry, len(rows) - 1)
        better = "accuracy" if entry["kind"] == "classification" else "mse"
        for fraction in windows:
            for tol in tols:
                at, reason = stop_row(entry, fraction, tol)
                got = kept(entry, at)
                print(f"| {entry['task']} | {len(rows)}, {rows[-1]['seconds']:.0f} | "
                      f"{better} {full['test']:.4f} | window {fraction:g}, tol {tol:g} | "
                      f"{at + 1}, {rows[at]['seconds']:.0f} | {got['test']:.4f} | "
                      f"{(reason or 'ran to the end').split(' for ')[0]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path)
    parser.add_argument("--analyse", type=Path)
    parser.add_argument("--tasks", help="comma-separated task names (default: all)")
    parser.add_argument("--quick", action="store_true", help="30 steps per task")
    parser.add_argument("--windows", default=str(WINDOW))
    parser.add_argument("--tols", default=str(TOL))
    args = parser.parse_args()
    print(machine_line())
    if args.record:
        record(args.record, args.tasks.split(",") if args.tasks else None, args.quick)
    if args.analyse:
        analyse(args.analyse, [float(w) for w in args.windows.split(",")],
                [float(t) for t in args.tols.split(",")])


if __name__ == "__main__":
    main()
