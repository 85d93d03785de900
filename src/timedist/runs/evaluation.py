"""Predictions of a trained model over a dataset, and the metrics a run reports.

Metrics are in the data's own units: regression outputs and targets are un-scaled with the
training target scale first. Forecasts of a built-in series add the mean absolute scaled error
(MASE: MAE divided by the in-sample MAE of the naive last-value forecast on the training
windows); frame forecasts add two baselines: copying the last input frame, and blank frames
(mostly-black digit frames make "predict nothing" a strong MSE baseline).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader

from ..data import Samples, SequenceDataset, Task, pad_collate
from .baselines import mean_predictor_rmse, nearest_neighbour_predictions, rms, same_samples
from .task import TaskModel

__all__ = ["baseline_metrics", "collect", "last_values", "metrics_for", "unscale"]

BASELINE_QUERIES = 2_000  # 1-NN baseline: at most this many samples are classified


@torch.no_grad()
def collect(task: TaskModel, dataset: Samples, batch_size: int = 256, *, workers: int = 0
            ) -> tuple[Tensor, Tensor]:
    """(outputs (N, ...), targets (N, ...)) of ``task.model`` over ``dataset`` (read by
    ``workers`` processes) in eval mode, computed on the model's device, returned on the
    CPU."""
    task.eval()
    device = next(task.parameters()).device
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=pad_collate,
                        num_workers=workers)
    outputs, targets = [], []
    for x, lengths, y in loader:
        outputs.append(task(x.to(device), lengths.to(device)).cpu())
        targets.append(y)
    return torch.cat(outputs), torch.cat(targets)


def unscale(values: Tensor, dataset: Samples) -> Tensor:
    """Regression values in the data's units (``y * std + mean`` of the target scale)."""
    scale = dataset.target_scale
    return values if scale is None else values * scale.std + scale.mean


def last_values(dataset: SequenceDataset) -> Tensor:
    """(N,) the last input value of each window, in the data's units (the naive forecast)."""
    last = torch.stack([s[-1, 0] for s in dataset.sequences])
    scale = dataset.target_scale
    return last if scale is None else last * scale.std[0] + scale.mean[0]


def metrics_for(task: Task | str, outputs: Tensor, targets: Tensor, dataset: Samples, *,
                naive_scale: float | None = None) -> dict[str, Any]:
    """The ``test_*`` metrics of a task; ``naive_scale`` (MASE's denominator) for forecasts."""
    task = Task(task)
    found: dict[str, Any] = {"test_samples": len(targets)}
    if task is Task.CLASSIFICATION:
        found["test_accuracy"] = float((outputs.argmax(-1) == targets).double().mean())
        found["test_loss"] = float(F.cross_entropy(outputs, targets))
        return found
    pred, true = unscale(outputs, dataset), unscale(targets, dataset)
    rmse = rms(pred.double() - true.double())
    mse = rmse * rmse  # inf or 0 where the square is beyond float64: then not a number
    found["test_mse"] = mse if (mse > 0 or rmse == 0) and math.isfinite(mse) else math.nan
    found["test_rmse"] = rmse
    found["test_mae"] = float(F.l1_loss(pred, true))
    if task is Task.FRAMES:
        assert isinstance(dataset, SequenceDataset)
        last = torch.stack([s[-1] for s in dataset.sequences])  # (N, C, H, W)
        baseline = float(F.mse_loss(last.unsqueeze(1).expand_as(true), true))
        found["copy_last_frame_mse"] = baseline
        found["mse_below_copy_last_frame"] = 1 - found["test_mse"] / baseline
        found["blank_frame_mse"] = float(true.pow(2).mean())  # predicting empty frames
    if naive_scale is not None:
        assert isinstance(dataset, SequenceDataset)
        naive = last_values(dataset).unsqueeze(-1).expand_as(true)
        found["naive_mae"] = float(F.l1_loss(naive, true))
        found["test_mase"] = found["test_mae"] / naive_scale
    return found


def baseline_metrics(task: Task | str, train: SequenceDataset, dataset: SequenceDataset, *,
                     leave_one_out: bool = False, of: str = "series") -> dict[str, Any]:
    """The baseline on ``dataset`` given ``train``: ``baseline_accuracy`` of 1-NN (Euclidean,
    z-normalized series) for classification, ``baseline_rmse`` of the mean predictor (in the
    data's units) for regression. ``leave_one_out`` (``dataset`` is training data): no sample
    is its own neighbour or part of its own mean. ``of``: what the series are, as said.
    1-NN classifies at most ``BASELINE_QUERIES`` samples (drawn at random, seeded, and said):
    its cost grows with training x classified samples."""
    how = ", leave-one-out on the training samples" if leave_one_out else ""
    if Task(task) is Task.CLASSIFICATION:
        if len(dataset) > BASELINE_QUERIES:  # its cost grows as train x queries
            how += f", on {BASELINE_QUERIES:,} of the {len(dataset):,} samples drawn at random"
            drawn = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(0))
            dataset = dataset.subset(drawn[:BASELINE_QUERIES].sort().values.tolist())
        predicted = nearest_neighbour_predictions(train, dataset, leave_one_out=leave_one_out)
        return {"baseline": f"1-NN Euclidean, z-normalized {of}{how}",
                "baseline_accuracy": float((predicted == dataset.targets).double().mean())}
    return {"baseline": "mean of the training targets" + how,
            "baseline_rmse": mean_predictor_rmse(
                unscale(train.targets, train), unscale(dataset.targets, dataset),
                same_samples(train, dataset) if leave_one_out else None)}
