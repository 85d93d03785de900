"""When a network has finished learning: the stopping rule of a run's default budget.

A run whose length comes from the default budget (``--steps``, 1500 optimizer steps) stops
once, for the last ``window`` optimizer steps (``WINDOW`` of the run, at least two epochs):

- **classification**: every training batch of every epoch was classified without error
  (``train_accuracy`` 1.0, measured in training mode as it ran): the training set is fitted;
- **regression**: the training loss has not fallen below ``1 - TOL`` times its best before
  the window (scikit-learn's MLP stops the same way, on ``tol`` and ``n_iter_no_change``) —
  counted only once the loss has fallen below its first epoch's (a network still at its
  first loss has not started learning: early in the one-cycle warm-up it may sit there).

Measured on the built-in tasks, own signals and own clips (``benchmarks/convergence.py``,
docs/results.md): the test metric at the stop against the metric after the whole budget.
The loss plateau was tried for classification too and rejected: it fired while the one-cycle
learning rate was still high (before the annealing that follows) and cost up to 0.024
accuracy; a fitted training set did not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import lightning.pytorch as pl

__all__ = ["TOL", "WINDOW", "Converged", "Epoch", "stop_reason", "window_steps"]

WINDOW = 0.1  # of the run's optimizer steps
TOL = 0.01  # relative fall of the training loss that counts as progress


@dataclasses.dataclass(frozen=True)
class Epoch:
    """One finished epoch as the rule sees it: optimizer steps done so far and its metrics
    (``train_accuracy`` None for regression)."""

    epoch: int
    steps: int
    train_loss: float
    train_accuracy: float | None = None


def stop_reason(history: list[Epoch], window: int, tol: float = TOL) -> str | None:
    """Why training has converged after the last epoch of ``history`` (a line), or None.

    ``window``: optimizer steps the criterion must hold over; the epochs before the window
    are the reference, so nothing stops before ``window`` steps.

    >>> run = [Epoch(e, 10 * (e + 1), 1 / (e + 1), 1.0 if e > 2 else 0.9) for e in range(9)]
    >>> stop_reason(run[:5], window=30) is None, stop_reason(run, window=30)
    (True, 'every training batch classified correctly for the last 30 steps (epochs 7-9)')
    """
    if not history:
        return None
    last = history[-1].steps
    before = [e for e in history if e.steps <= last - window]
    inside = history[len(before):]
    if not before or not inside:
        return None
    span = f"the last {last - before[-1].steps} steps (epochs {inside[0].epoch + 1}-" \
           f"{inside[-1].epoch + 1})"
    if history[-1].train_accuracy is not None:  # classification
        if all(e.train_accuracy is not None and e.train_accuracy >= 1.0 for e in inside):
            return f"every training batch classified correctly for {span}"
        return None
    best = min(e.train_loss for e in before)
    if best < (1 - tol) * history[0].train_loss and min(
            e.train_loss for e in inside) > (1 - tol) * best:
        return (f"the training loss did not fall {tol:.0%} below its best ({best:.4g}) "
                f"for {span}")
    return None


def window_steps(total: int, per_epoch: int, fraction: float = WINDOW) -> int:
    """The rule's window for a run of ``total`` optimizer steps, ``per_epoch`` per epoch."""
    return max(round(fraction * total), 2 * per_epoch)


class Converged(pl.Callback):
    """Stops the trainer when :func:`stop_reason` finds a reason (kept in ``reason``) after
    an epoch; the epochs seen so far travel in the checkpoint (a resumed run goes on
    counting)."""

    def __init__(self, window: int, *, tol: float = TOL) -> None:
        self.window, self.tol = window, tol
        self.history: list[Epoch] = []
        self.reason: str | None = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        metrics: dict[str, Any] = trainer.callback_metrics
        if "train_loss" not in metrics:
            return
        accuracy = metrics.get("train_accuracy")
        self.history.append(Epoch(trainer.current_epoch, trainer.global_step,
                                  float(metrics["train_loss"]),
                                  None if accuracy is None else float(accuracy)))
        reason = stop_reason(self.history, self.window, self.tol)
        if reason is not None and trainer.current_epoch + 1 < (trainer.max_epochs or 0):
            self.reason = reason
            trainer.should_stop = True

    def state_dict(self) -> dict[str, Any]:
        return {"history": [dataclasses.asdict(e) for e in self.history]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = [Epoch(**e) for e in state_dict.get("history", [])]
