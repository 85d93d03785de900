"""Models fitted in one pass, without optimizer steps (``rocket``): fit, report, checkpoint.

The model reads the training split a batch at a time (never padded whole: a memory-mapped
file stays on disk) and fits itself on ``device`` (:meth:`~timedist.models.RocketModel.fit`);
its leave-one-out predictions give the training metrics an honest meaning (each sample
predicted by a fit that did not see it).
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F

from ..data import SequenceDataset, Task
from . import Progress
from .rundir import RunSession
from .task import TaskModel

__all__ = ["fit_closed_form", "save_checkpoint"]


def fit_closed_form(task: TaskModel, train: SequenceDataset, device: torch.device, *,
                    verbose: bool = False) -> dict[str, Any]:
    """Fit ``task.model`` on all of ``train`` (on ``device``; the model returns to the CPU);
    ``verbose`` shows the features' progress with the time left (:class:`~timedist.runs.Progress`).

    Returns a ``metrics.csv`` row: epoch 0, the leave-one-out loss and accuracy (or mean
    absolute error, in standardized units like every training row; on 4,096 samples drawn at
    random when there are more, ``RocketModel.fit``), the penalties chosen and the seconds
    taken; in one process of several, ``transformed``: the samples it transformed
    (``start:stop``).
    """
    y = train.targets.to(device)
    started = time.perf_counter()
    model = task.model.to(device)
    model.fit(train, y,  # type: ignore[operator]  # read a batch at a time, never padded whole
              progress=Progress("features", "series") if verbose else None)
    seconds = time.perf_counter() - started
    task.model.cpu()
    report = model.report
    loo, y = report["loo"].cpu(), y.cpu()[report["rows"].cpu()]  # type: ignore[index]
    row: dict[str, Any] = {"epoch": 0}
    if task.task is Task.CLASSIFICATION:
        row["train_loss"] = f"{float(F.cross_entropy(loo, y)):.6g}"
        row["train_accuracy"] = f"{float((loo.argmax(-1) == y).float().mean()):.6g}"
    else:
        target = y.reshape(loo.shape)
        row["train_loss"] = f"{float(F.mse_loss(loo, target)):.6g}"
        row["train_mae"] = f"{float(F.l1_loss(loo, target)):.6g}"
    row["alphas"] = " ".join(f"{a:.3g}" for a in model.report["alphas"])  # type: ignore[index]
    start, stop = model.report["share"]  # type: ignore[index]
    if stop - start < len(train):  # one process of several
        row["transformed"] = f"{start}:{stop}"
    row["seconds"] = f"{seconds:.1f}"
    return row


def save_checkpoint(task: TaskModel, session: RunSession, name: str) -> None:
    """A checkpoint that ``load_run``/``evaluate``/``predict`` read: ``{"state_dict": ...}``
    with Lightning's ``model.`` prefix, written atomically into the held run at ``name``
    (``checkpoints/best.ckpt``)."""
    state = {"state_dict": task.state_dict(), "epoch": 0, "global_step": 0}
    session.write(name, lambda handle: torch.save(state, handle))
