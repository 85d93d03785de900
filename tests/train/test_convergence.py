"""Networks stop when they are done: the convergence rule (train/convergence.py), the default
that switches it on, and a stopped run being exactly the whole run cut short."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from test_own_data import dataset
from test_trust import signals, write_ts

from timedist.cli import main
from timedist.train import RunConfig, choose_defaults
from timedist.train.convergence import Epoch, stop_reason, window_steps


def run(losses: list[float], accuracy: list[float | None] | None = None,
        per_epoch: int = 10) -> list[Epoch]:
    accuracy = accuracy or [None] * len(losses)
    return [Epoch(e, per_epoch * (e + 1), loss, accuracy[e]) for e, loss in enumerate(losses)]


def test_each_task_stops_on_its_criterion_and_says_which() -> None:
    falling = [1.0 * 0.8 ** e for e in range(10)]
    assert stop_reason(run(falling, [0.5] * 10), window=30) is None
    fitted = stop_reason(run(falling, [0.9] * 6 + [1.0] * 4), window=30)
    assert fitted == "every training batch classified correctly for the last 30 steps " \
                     "(epochs 8-10)"
    flat = stop_reason(run([1.0, 0.5, 0.4, 0.399, 0.4, 0.398]), window=30)  # regression
    assert flat == ("the training loss did not fall 1% below its best (0.4) for the last 30 "
                    "steps (epochs 4-6)")
    # classification never stops on a flat loss (it fires while the rate is still high)
    assert stop_reason(run([1.0, 0.5, 0.4, 0.399, 0.4, 0.398], [0.9] * 6), window=30) is None
    # a network still at its first loss has not started learning
    assert stop_reason(run([1.386] * 10), window=30) is None
    # a single perfect epoch in the window is not enough; one below 1.0 breaks it
    assert stop_reason(run(falling, [0.9] * 9 + [1.0]), window=30) is None
    assert stop_reason(run(falling, [1.0] * 8 + [0.99, 1.0]), window=30) is None


def test_nothing_stops_before_the_window_or_while_every_measure_improves() -> None:
    rng = random.Random(0)
    for _ in range(300):
        epochs, per_epoch = rng.randint(1, 30), rng.randint(1, 8)
        window = rng.randint(1, 60)
        losses = [rng.uniform(0, 2) for _ in range(epochs)]
        history = run(losses, rng.choice([None, [rng.choice([1.0, 0.5]) for _ in losses]]),
                      per_epoch)
        reason = stop_reason(history, window)
        if history[-1].steps < window + per_epoch:  # no epoch ends before the window
            assert reason is None
        improving = run([2.0 * 0.9 ** e for e in range(epochs)], None, per_epoch)
        assert stop_reason(improving, max(window, per_epoch), tol=0.05) is None


def test_the_window_is_a_tenth_of_the_run_and_at_least_two_epochs() -> None:
    assert window_steps(1500, 5) == 150
    assert window_steps(1500, 100) == 200
    assert window_steps(40, 9) == 18


def test_the_default_budget_converges_and_explicit_epochs_run_them_all() -> None:
    config, why = choose_defaults(RunConfig(data="mine.ts", model="fcn"), dataset(200))
    assert config.converge is True
    assert any(w.startswith(f"at most {config.epochs} epochs") and "--no-converge" in w
               for w in why)
    explicit = RunConfig(data="mine.ts", model="fcn", epochs=5)
    assert choose_defaults(explicit, dataset(200))[0].converge is None  # off, left unset
    off = RunConfig(data="mine.ts", model="fcn", converge=False)
    config, why = choose_defaults(off, dataset(200))
    assert config.converge is False and not any("at most" in w for w in why)


def _fit(tmp_path: Path, name: str, *flags: str) -> tuple[list[dict[str, str]], str]:
    x, y = signals(n=32, seed=3)
    data = write_ts(tmp_path / "t.ts", x, y)
    out = tmp_path / name
    assert main(["fit", "--data", str(data), "--model", "fcn", "--steps", "80",
                 "--batch-size", "16", "--out", str(out), *flags]) == 0
    with open(out / "metrics.csv") as handle:
        return list(csv.DictReader(handle)), str(out)


def test_a_converged_run_is_the_whole_run_cut_short_and_says_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default budget stops an easy task early (one line says when and why); the epochs
    it ran are those of the run that ran them all, number for number."""
    stopped, _ = _fit(tmp_path, "stopped")
    said = capsys.readouterr().out
    whole, _ = _fit(tmp_path, "whole", "--no-converge")
    assert len(whole) == 40 and len(stopped) < len(whole)
    for a, b in zip(stopped, whole, strict=False):
        assert (a["train_loss"], a["train_accuracy"]) == (b["train_loss"], b["train_accuracy"])
    assert (f"stop   after epoch {len(stopped)} of 40 ({2 * len(stopped)} optimizer steps): "
            "converged, ") in said
    assert "chose  at most 40 epochs (80 optimizer steps of batch 16, 2 per epoch; stops " \
           "once training has converged, --no-converge runs them all)" in said
