"""Testing a trained model on data, and what its numbers mean: metrics (named by the data they
are on: ``test_*``, ``validation_*``, ``training_*``), the plots, ``metrics.json`` /
``evaluation.json`` written and printed, and the warnings a user must not miss (no better than
chance, than the baseline or the training mean; samples without values). ``fit`` and
``evaluate`` share it."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .._checks import shorten_text
from ..data import Samples, SequenceDataset, Task, pad_collate, without_values, without_values_text
from .config import RunConfig
from .console import say as _say
from .evaluation import collect, metrics_for, unscale
from .prepare import ModelSpec, build_model
from .record import load_best
from .rundir import RunSession
from .task import TaskModel

__all__ = [
    "MEASURED",
    "RunResult",
    "cautions",
    "empty_note",
    "evaluate_model",
    "finite",
    "majority_share",
    "measured",
    "name_by_data",
    "report",
    "restore",
]


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. a plot that could not be drawn


# What the measured metrics' names start with, by the data they were measured on: a model's
# score on its own training samples is never called a test score.
MEASURED = {"training": "training_", "validation": "validation_"}


def name_by_data(metrics: dict[str, Any], evaluated_on: str) -> None:
    """Rename the ``test_*`` metrics (as measured) in place to the data they are on:
    ``training_*`` or ``validation_*`` (``evaluated_on`` a file or ``test``: kept)."""
    prefix = MEASURED.get(evaluated_on)
    if prefix is not None:
        for key in [k for k in metrics if k.startswith("test_")]:
            metrics[prefix + key[len("test_"):]] = metrics.pop(key)


def measured(metrics: dict[str, Any], name: str) -> Any:
    """The measured metric ``name`` (e.g. ``accuracy``) under whichever prefix it has."""
    for prefix in ("test_", *MEASURED.values()):
        if prefix + name in metrics:
            return metrics[prefix + name]
    return None


def majority_share(dataset: Samples) -> float:
    """The accuracy of always answering ``dataset``'s most frequent class."""
    assert dataset.classes is not None
    counts = torch.bincount(dataset.targets, minlength=len(dataset.classes))
    return float(counts.max()) / max(len(dataset), 1)


def cautions(metrics: dict[str, Any], dataset: Samples, train: Samples | None = None, *,
           normalize: str = "channel") -> list[str]:
    """Warnings a user must not miss: samples without values scored, no better than the
    baseline, than always answering the most frequent class or than the training mean (on
    ``dataset``; rocket's leave-one-out scores on ``train``)."""
    notes = []
    empty = without_values(dataset.sequences, constant=normalize == "series") if isinstance(
        dataset, SequenceDataset) else []
    if empty:
        notes.append(empty_note(dataset.name, empty, len(dataset), normalize,
                                 "they are scored by the model's answer for no data"))
    accuracy, baseline = measured(metrics, "accuracy"), metrics.get("baseline_accuracy")
    if accuracy is not None and dataset.classes is not None:
        majority = majority_share(dataset)
        if accuracy <= majority + 1e-6:
            where = "below" if accuracy < majority - 1e-6 else "at"
            notes.append(f"accuracy {accuracy:.4f} is {where} chance: always answering the most "
                         f"frequent class scores {majority:.4f}"
                         + (f" (on {len(dataset)} sample{'s' * (len(dataset) > 1)})"
                            if len(dataset) < 10 else ""))
        elif baseline is not None and accuracy < baseline:
            notes.append(f"the model ({accuracy:.4f}) is worse than the 1-NN baseline "
                         f"({baseline:.4f})")
    loo = metrics.get("loo_accuracy")
    if loo is not None and train is not None and train.classes is not None:
        majority = majority_share(train)
        if loo <= majority + 1e-6:
            notes.append(f"leave-one-out accuracy {loo:.4f} is at chance: always answering "
                         f"the most frequent training class scores {majority:.4f}; the "
                         "model found nothing that holds beyond the samples it saw")
    loss = metrics.get("loo_loss")
    if loss is not None and train is not None and train.classes is None and loss >= 1.0:
        notes.append(f"leave-one-out loss {loss:.4f} (mean squared error in standardized "
                     "units) is no better than predicting the training mean (1.0): the model "
                     "found nothing that holds beyond the samples it saw")
    rmse, floor = measured(metrics, "rmse"), metrics.get("baseline_rmse")
    if rmse is not None and floor is not None and rmse >= floor:
        notes.append(f"RMSE {rmse:.4g} is no better than predicting the training mean "
                     f"({floor:.4g})")
    return notes


def finite(metrics: dict[str, Any]) -> list[str]:
    """Replace metrics that are not finite numbers (an overflow, a model giving NaN) by None,
    in place; a note saying which, or none."""
    bad = [k for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)]
    for key in bad:
        metrics[key] = None
    if not bad:
        return []
    return [f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not a finite number (the "
            "model's outputs are NaN or infinite, or the values overflow or underflow float64):"
            " written as null"]


def report(result: RunResult, session: RunSession, name: str, verbose: bool, title: str,
            *, overwrite: bool = False) -> list[str]:
    """Write ``result.metrics`` to ``name`` in the run (JSON, atomically; numbers that are not
    finite become null); print them and the plots; returns notes to print."""
    notes = finite(result.metrics) + result.notes
    path = session.write(name, json.dumps(result.metrics, indent=1, allow_nan=False) + "\n",
                         overwrite=overwrite)

    def listed(prefix: tuple[str, ...]) -> str:
        return ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in result.metrics.items() if k.startswith(prefix))

    _say(verbose, f"{title}: {listed(('test_', *MEASURED.values(), 'mse_below'))}")
    if "baseline" in result.metrics:
        _say(verbose, f"baseline ({result.metrics['baseline']}): {listed(('baseline_',))}")
    _say(verbose, f"wrote {path}" + ("\nplots  " + "\n       ".join(
        str(p) for p in result.plots) if result.plots else ""))
    return notes


def evaluate_model(session: RunSession, folder: str, kind: Task, dataset: Samples,
              task: TaskModel, *, rows: list[dict[str, str]] | None = None,
              naive_scale: float | None = None, workers: int = 0, overwrite: bool = False
              ) -> RunResult:
    """Metrics of ``task`` on ``dataset`` (read by ``workers`` processes); plots written into
    the run's ``folder`` ("" or "evaluation/")."""
    outputs, targets = collect(task, dataset, workers=workers)
    metrics = metrics_for(kind, outputs, targets, dataset, naive_scale=naive_scale)
    try:
        from ..train import plots
    except ImportError as error:  # matplotlib comes with the train extra
        return RunResult(session.path / folder, metrics, [], [
            f"plots skipped: {error.name or error} is not installed (pip install "
            "'timedist[train]' draws them)"])
    pictures: list[tuple[str, Callable[[], bytes]]] = []
    if rows and len(rows) > 1 and not folder:  # a closed-form fit has one row: no curve
        pictures.append(("learning_curves.png", lambda: plots.learning_curves(rows)))
    if kind is Task.CLASSIFICATION:
        assert dataset.classes is not None
        classes, pred = dataset.classes, outputs.argmax(-1)
        pictures.append(("confusion_matrix.png",
                         lambda: plots.confusion_matrix(targets, pred, classes)))
        if len(dataset.step_shape) == 3:  # clips: a strip of six, spread over the set
            pick = torch.linspace(0, len(dataset) - 1, min(6, len(dataset))).long()
            x = pad_collate([dataset[i] for i in pick.tolist()]).x
            pictures.append(("examples.png", lambda: plots.frame_strip(
                x, targets[pick], pred[pick], classes)))
    elif kind is Task.REGRESSION:
        assert isinstance(dataset, SequenceDataset)
        true, predicted = unscale(targets, dataset), unscale(outputs, dataset)
        pictures.append(("predicted_vs_true.png",
                         lambda: plots.predicted_vs_true(true, predicted)))
    else:
        assert isinstance(dataset, SequenceDataset)
        x = torch.stack(dataset.sequences[:3]).float()
        pictures.append(("forecast.png", lambda: plots.forecast_frames(x, targets[:3],
                                                                       outputs[:3])))
    made, notes = [], []
    for name, draw in pictures:  # a figure that cannot be drawn never costs the results
        try:
            png = draw()
        except (ValueError, OverflowError, RuntimeError) as error:
            notes.append(f"{name} not drawn ({' '.join(str(error).split())[:160]})")
            continue
        made.append(session.write(folder + name, png, overwrite=overwrite))
    return RunResult(session.path / folder, metrics, made, notes)


def restore(run_dir: Path, config: RunConfig, spec: ModelSpec) -> TaskModel:
    """The run's model (``config.model`` sized for ``spec``) with the best checkpoint's weights."""
    task = TaskModel(build_model(config, spec), spec.task)
    load_best(task.model, run_dir)
    return task


def empty_note(name: str, empty: list[int], size: int, normalize: str, then: str) -> str:
    """The note for samples :func:`~timedist.data.without_values` finds: which, and what was
    done with them (``then``)."""
    found = without_values_text(empty, size, constant=normalize == "series")
    return f"{name}: {found}: {then} (samples {shorten_text(', '.join(map(str, empty)), 80)})"


