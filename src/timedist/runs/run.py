"""``fit``, ``evaluate`` and ``predict``: a run directory from start to finish.

A run directory holds ``config.yaml`` (the resolved config), ``preprocessing.json`` (task,
classes, input scaling, target scale), ``checkpoints/best.ckpt`` and ``checkpoints/last.ckpt``
(written atomically), ``metrics.csv`` (one row per epoch), ``metrics.json`` (final test
metrics) and PNG plots.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from .._atomic import atomic_write, atomic_write_text, check_output
from .._checks import shorten, shorten_text
from ..data import (
    DATASETS,
    ClipDataset,
    Samples,
    SequenceDataset,
    Task,
    comparable,
    fingerprint,
    pad_collate,
    without_values,
    without_values_text,
)
from ..models.registry import closed_form
from .clip_source import evaluation_clips, input_clips, is_clip_run, is_clip_source, thumbnails
from .config import ARRAYS, ConfigError, RunConfig, absolute_paths
from .console import note as _note
from .console import quiet_libraries
from .console import say as _say
from .device import resolve_device
from .errors import TrainingError
from .evaluation import baseline_metrics, collect, last_values, metrics_for, unscale
from .fitting import build_task, network, train
from .marker import MARKER, Marker, Source
from .metrics import read_metrics
from .prepare import (
    ModelSpec,
    Prepared,
    build_model,
    conform,
    load_splits,
    loader_workers,
    prepare_data,
    read_sequences,
    repeats,
    seen_by_run,
)
from .record import (
    RunRecord,
    apply_record,
    check_proven,
    found_again,
    load_best,
    load_run,
    make_record,
    stored_run,
    trained_samples,
    write_record,
    write_samples,
)
from .rundir import (
    EVALUATION_FILES,
    LEGACY_SAMPLES,
    SAMPLES,
    CheckpointError,
    RunDir,
    RunSession,
    read_checkpoint,
    run_around,
    run_file_reason,
)
from .seed import seed_everything
from .task import TaskModel

if TYPE_CHECKING:
    import lightning.pytorch as pl

__all__ = [
    "ARRAYS",
    "RunResult",
    "TrainingError",
    "build_task",
    "evaluate",
    "fit",
    "load_run",
    "network",
    "predict",
    "resolve_device",
    "stored_run",
]

RUN_DIR_ENV = "TIMEDIST_RUN_DIR"  # set by rank 0 so DDP workers use the same run directory


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. a plot that could not be drawn


def _worker(config: RunConfig) -> bool:
    """Whether this process is a DDP worker other than rank 0 (it trains but writes nothing):
    only when the run has more than one process; a stray RANK in the environment of a single
    process changes nothing."""
    if config.devices * config.num_nodes == 1:
        return False
    return max(int(os.environ.get(k, "0") or 0)
               for k in ("RANK", "LOCAL_RANK", "NODE_RANK")) > 0


def _default_run_dir(config: RunConfig) -> Path:
    own = Path(config.data).resolve().name  # "clips/" and "." have names too
    for suffix in (".ts.gz", ".ts", ".npz", ".csv"):
        own = own.removesuffix(suffix)
    stem = config.data if config.data in DATASETS else (own.strip(".") or "data")
    base = Path("runs") / stem
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def _choose_run_dir(out: str | Path | None, config: RunConfig, overwrite: bool) -> Path:
    """The run directory of a new run, checked without changing anything: an existing one
    only with ``overwrite``, and only a run timedist can prove it wrote, every file of it as
    timedist wrote it (nothing is removed until the data and the model are validated; the
    check is repeated once the folder is locked)."""
    if _worker(config) and os.environ.get(RUN_DIR_ENV):  # a DDP worker launched by rank 0
        return Path(os.environ[RUN_DIR_ENV])
    run = RunDir(Path(out) if out else _default_run_dir(config))
    _check_place(run.path, config)
    if not run.is_empty():
        run.check_replaceable()  # a folder that is not timedist's: --overwrite would not help
        if not overwrite:
            resumable = run.path.is_dir() and (run.path / "checkpoints" / "last.ckpt").is_file()
            raise ConfigError(f"{run.path}: the run directory exists; pass --overwrite to "
                              "replace it" + (f" or --resume {run.path} to continue it"
                                              if resumable else ""))
    return run.path


def _check_place(path: Path, config: RunConfig) -> None:
    """A run folder is a folder of its own (:meth:`RunDir.check_place`), never inside a
    folder of clips it trains on (its plots would be read as clips next time); ``--cache`` is
    a folder outside every run (its files would be foreign to the run's marker)."""
    RunDir(path).check_place()
    if config.cache:
        cache = Path(config.cache)
        if cache.exists() and not cache.is_dir():
            raise ConfigError(f"--cache {cache}: is a file; expected a folder for decoded clips")
        host = cache if (cache / MARKER).is_file() else run_around(cache)
        if host is not None or _within(cache, path):
            raise ConfigError(f"--cache {cache}: is inside the timedist run {host or path}; "
                              "choose a folder outside runs")
    for key in ("data", "test_data") if is_clip_source(config.data) else ():
        folder = getattr(config, key)
        if folder and Path(folder).is_dir() and _within(path, Path(folder)):
            raise ConfigError(f"{path}: is inside --{key.replace('_', '-')} {folder}, whose "
                              "folders are read as clips; choose an --out outside it")


def _within(path: Path, folder: Path) -> bool:
    inner, outer = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    return inner == outer or outer in inner.parents or folder.resolve() in path.resolve().parents


def _sources(prepared: Prepared, run_dir: Path) -> dict[str, Source]:
    """The data's sources with their paths relative to the run folder too (found again when
    the run and its data are moved together)."""
    found = {}
    for key, source in prepared.sources.items():
        try:
            relative = os.path.relpath(source.path, os.path.abspath(run_dir)) if key in (
                "data", "test_data") else None  # "validation" is a part of "data"
        except ValueError:  # another drive (Windows)
            relative = None
        found[key] = Source(source.path, relative, source.fingerprint, source.samples)
    return found


def _check_same_data(marker: Marker | None, prepared: Prepared, run: Path, doing: str) -> None:
    """Raise a ConfigError when the data ``prepared`` read are not the data the run was
    trained (or tested) on, by fingerprint: ``doing`` says what would go wrong."""
    if marker is None:
        return
    now = prepared.train.classes
    if marker.classes is not None and now is not None and marker.classes != now:
        raise ConfigError(f"{run}: the training data's classes changed since the run started "
                          f"(now {shorten(now, 120)}, then {shorten(marker.classes, 120)}); "
                          f"{doing}")
    for key, source in prepared.sources.items():
        before = marker.sources.get(key)
        if before is None or before.fingerprint == source.fingerprint or not comparable(
                before.fingerprint, source.fingerprint):
            continue
        size = (f"{source.samples} samples now, {before.samples} then"
                if source.samples != before.samples else "the same number of samples, other "
                                                         "values")
        if key == "validation":
            raise ConfigError(f"{run}: the validation split is not the one the run held out "
                              f"({size}; were seed, val_split or subset edited in config.yaml?)"
                              f"; {doing}")
        raise ConfigError(f"{run}: its {'training' if key == 'data' else 'test'} data "
                          f"{source.path} changed since the run was trained ({size}); {doing}")


def _naive_scale(prepared: Prepared, config: RunConfig) -> float | None:
    """MASE's denominator for built-in forecasting series: in-sample naive MAE, data units."""
    info = DATASETS.get(config.data)
    if (info is None or not info.task.startswith("forecasting")
            or prepared.task is not Task.REGRESSION):
        return None
    train = prepared.train
    assert isinstance(train, SequenceDataset)
    true = unscale(train.targets, train)
    return float((true - last_values(train).unsqueeze(-1)).abs().mean())


def _describe(prepared: Prepared, model: torch.nn.Module, run_dir: Path, device: str) -> str:
    config = prepared.config
    sizes = [f"{len(prepared.train)} train"]
    if prepared.val is not None:
        sizes.append(f"{len(prepared.val)} validation")
    if prepared.test is not None:
        sizes.append(f"{len(prepared.test)} test")
    parameters = sum(p.numel() for p in model.parameters())
    if isinstance(prepared.train, ClipDataset):  # lengths are known once decoded
        span = f"T<={config.frames}" + (f" at {config.fps} fps" if config.fps else "")
    else:
        lengths = prepared.train.lengths
        span = (f"T={int(lengths.min())}" if int(lengths.min()) == int(lengths.max())
                else f"T={int(lengths.min())}..{int(lengths.max())}")
    if closed_form(config.model):
        count = int(model.members[0].head.in_features)  # type: ignore[index, union-attr]
        how = (f"{config.features}, {config.members} member{'s' * ((config.members or 1) > 1)}"
               f" of {count:,} features (kernels come in whole groups), fitted in closed form")
    else:
        how = (f"{config.epochs} epochs, batch {config.batch_size}, lr {config.lr}"
               + ("" if prepared.selects else ", final weights kept"))
    lines = [f"data   {config.data}: {prepared.task}, {', '.join(sizes)} samples, {span}, step "
             f"{prepared.spec.step_shape}",
             f"model  {type(model).__name__} ({config.model}, {parameters:,} parameters), {how}",
             f"device {device}", f"run    {run_dir}"]
    lines[2:2] = [f"chose  {why}" for why in prepared.choices]
    lines[1:1] = [f"note   {note}" for note in prepared.notes]
    return "\n".join(lines)


def fit(config: RunConfig, *, out: str | Path | None = None, overwrite: bool = False,
        resume: str | Path | None = None, verbose: bool = True,
        progress: bool | None = None, callbacks: list[pl.Callback] | None = None
        ) -> RunResult | None:
    """Train ``config`` into a run directory; returns its result (None on DDP workers).

    Relative paths in ``config`` are read from the current folder and stored absolute.
    ``resume``: continue the run in that directory from ``checkpoints/last.ckpt`` (pass the
    stored config: ``RunConfig.load(run_dir / "config.yaml")``); it must see the data it
    started with. ``progress``: Lightning's progress bar (default: when stderr is a terminal).
    ``callbacks``: extra Lightning callbacks.
    """
    quiet_libraries()
    verbose = verbose and not _worker(config)
    if resume is not None:
        run = RunDir(Path(resume))
        marker = run.read_marker() if run.is_run() else None
        if not _worker(config) and (marker is None or marker.id is None):
            raise ConfigError(f"{run.path}: not a run this timedist started (no "
                              ".timedist-run.json: an earlier timedist's run, or not a run); it "
                              "cannot be resumed: start a new run")
        if not run.last.is_file():
            raise TrainingError(run.absent("checkpoints/last.ckpt", ", so there is nothing to "
                                           "resume from (the run stopped before its first "
                                           "epoch ended): start it again"))
        run_dir = run.path
        config = found_again(run, config, marker)
        if config.data == ARRAYS:
            raise ConfigError(f"{run.path} was fitted in Python on arrays: it is fitted in one "
                              "go and cannot be resumed; fit the estimator again")
        _check_data_there(run, config, "put it back: a resumed run must see the data it "
                          "started with")
    else:
        config = absolute_paths(config)
        run_dir = _choose_run_dir(out, config, overwrite)
    previous = os.environ.get(RUN_DIR_ENV)
    os.environ[RUN_DIR_ENV] = str(run_dir)  # inherited by the DDP workers Lightning starts
    try:
        return _fit(config, run_dir, resume is not None, overwrite, verbose, progress,
                    callbacks or [])
    finally:
        if previous is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = previous


def _fit(config: RunConfig, run_dir: Path, resume: bool, overwrite: bool, verbose: bool,
         progress: bool | None, callbacks: list[pl.Callback]) -> RunResult | None:
    seed_everything(config.seed)
    # Everything that can be wrong with the data, the model or the device fails here, before
    # anything in the run directory is touched.
    prepared = prepare_data(config)
    config = prepared.config  # with the choices made from the data
    device = resolve_device(config.accelerator, config.devices)
    task = build_task(prepared)
    run = RunDir(run_dir)
    if resume:
        read_checkpoint(run.last)  # a broken one is one line, before any write
    if _worker(config):  # a DDP worker: rank 0 holds the directory and writes every file
        train(task, prepared, device, run, resume=resume, progress=progress,
              callbacks=callbacks)
        return None
    created = not run.path.exists()
    with run.session(create=not resume) as session:
        if resume:  # again, now that this process holds the folder
            if session.marker is None or session.marker.id is None:
                raise ConfigError(f"{run.path}: its marker is gone; it cannot be resumed")
            if not session.owns("config.yaml"):
                raise ConfigError(f"{run.config}: changed after timedist wrote it; --resume "
                                  "continues the run as it was set up: restore it, or start "
                                  f"a new run with --config {run.config} and another --out")
            check_proven(run, session.marker, "preprocessing.json")
            check_proven(run, session.marker, "checkpoints/last.ckpt", CheckpointError)
            _check_same_data(session.marker, prepared, run.path,
                             "a resumed run must see the data it started with: start a new "
                             "run with another --out")
            session.marker.state = "training"
            session.save_marker()
        else:
            session.replace(overwrite=overwrite)  # again, now that this process holds it
            session.start(_sources(prepared, run.path), prepared.train.classes)
            write_record(session, config, make_record(prepared, _naive_scale(prepared, config)))
            if prepared.train_keys is not None:
                write_samples(session, prepared.train_keys)
        try:
            result = _train_and_finish(task, prepared, session, resume, device, verbose,
                                       progress, callbacks)
        except BaseException:
            if not resume and not run.last.is_file():  # nothing to resume from: leave nothing
                session.discard(created)
            raise
        session.finish()
        return result


def _train_and_finish(task: TaskModel, prepared: Prepared, session: RunSession,
                      resume: bool, device: torch.device, verbose: bool,
                      progress: bool | None, callbacks: list[pl.Callback]) -> RunResult:
    config, run = prepared.config, session.run
    _say(verbose, _describe(prepared, task.model, run.path, str(device))
         + (f" (resumed from {run.last})" if resume else ""))
    for note in prepared.notes if not verbose else ():  # (_describe's lines hold them)
        _note(verbose, note)
    fitted = read_metrics(run.metrics_csv) if resume and closed_form(config.model) else []
    if fitted:  # fitted in one step, checkpoints written: nothing to continue
        _note(verbose, "nothing left to train: rocket is fitted in one step; the run is "
              "tested again")
        return _finish(session, config, prepared, task, float(fitted[0]["seconds"]), verbose)
    row = train(task, prepared, device, run, session, resume=resume, verbose=verbose,
                progress=progress, callbacks=callbacks)
    if closed_form(config.model):
        _say(verbose, f"fitted in {row['seconds']} s; leave-one-out on the training data: "
             + ", ".join(f"{k[6:]} {v}" for k, v in row.items() if k.startswith("train_")))
    return _finish(session, config, prepared, task, float(row["seconds"]), verbose)


def _finish(session: RunSession, config: RunConfig, prepared: Prepared, task: TaskModel,
            seconds: float, verbose: bool) -> RunResult:
    """Test the best checkpoint beside the baseline; write metrics.json and the plots."""
    run = session.run
    load_best(task.model, run.path)
    rows = read_metrics(run.metrics_csv)
    if prepared.test is not None:
        evaluated_on, dataset = prepared.test_is, prepared.test
    elif prepared.val is not None:
        evaluated_on, dataset = "validation", prepared.val
    else:
        evaluated_on, dataset = "training", prepared.train
    if isinstance(dataset, ClipDataset):  # no random crops when measuring
        dataset = dataset.evaluation()
    workers = loader_workers(config, dataset)
    result = _evaluate(session, "", prepared.task, dataset, task, rows=rows,
                       naive_scale=_naive_scale(prepared, config), workers=workers)
    if isinstance(prepared.train, ClipDataset):  # the baseline on thumbnails of the clips
        small_train, small = (thumbnails(d, workers=workers) for d in (prepared.train, dataset))
        result.metrics.update(baseline_metrics(prepared.task, small_train, small,
                                               leave_one_out=evaluated_on == "training",
                                               of="series of 8x8 frames"))
    elif prepared.task is not Task.FRAMES:
        assert isinstance(dataset, SequenceDataset)
        result.metrics.update(baseline_metrics(prepared.task, prepared.train, dataset,
                                               leave_one_out=evaluated_on == "training"))
    if closed_form(config.model) and rows:
        loo = {k.replace("train_", "loo_"): float(v) for k, v in rows[0].items()
               if k.startswith("train_")}
        result.metrics.update(loo)
    if closed_form(config.model) or not rows:
        best = None
    elif prepared.selects:
        best = min(rows, key=lambda r: float(r["val_loss"]))
    else:
        best = rows[-1]
    _name_by_data(result.metrics, evaluated_on)
    result.metrics.update({
        "data": config.data, "model": config.model, "evaluated_on": evaluated_on,
        "epochs": 0 if closed_form(config.model) else len(rows),
        "best_epoch": int(best["epoch"]) + 1 if best else None,
        "train_seconds": round(seconds, 1),
        "parameters": sum(p.numel() for p in task.model.parameters())})
    title = f"\n{evaluated_on} metrics" + (
        f" (checkpoint of epoch {result.metrics['best_epoch']})" if best else "")
    notes = _report(result, session, "metrics.json", verbose, title)
    if prepared.test is None and evaluated_on == "training":
        notes.insert(0, "no test file and no validation split: these metrics are on the "
                     "training data; pass --test-data FILE (or --val-split) for an honest "
                     "estimate" + (" (rocket's leave-one-out figures, loo_*, are one)"
                                   if closed_form(config.model) else ""))
    for note in notes + _notes(result.metrics, dataset, prepared.train,
                               normalize=prepared.config.normalize):
        _note(verbose, note)
    return result


# What the measured metrics' names start with, by the data they were measured on: a model's
# score on its own training samples is never called a test score.
MEASURED = {"training": "training_", "validation": "validation_"}


def _name_by_data(metrics: dict[str, Any], evaluated_on: str) -> None:
    """Rename the ``test_*`` metrics (as measured) in place to the data they are on:
    ``training_*`` or ``validation_*`` (``evaluated_on`` a file or ``test``: kept)."""
    prefix = MEASURED.get(evaluated_on)
    if prefix is not None:
        for key in [k for k in metrics if k.startswith("test_")]:
            metrics[prefix + key[len("test_"):]] = metrics.pop(key)


def _measured(metrics: dict[str, Any], name: str) -> Any:
    """The measured metric ``name`` (e.g. ``accuracy``) under whichever prefix it has."""
    for prefix in ("test_", *MEASURED.values()):
        if prefix + name in metrics:
            return metrics[prefix + name]
    return None


def _majority(dataset: Samples) -> float:
    """The accuracy of always answering ``dataset``'s most frequent class."""
    assert dataset.classes is not None
    counts = torch.bincount(dataset.targets, minlength=len(dataset.classes))
    return float(counts.max()) / max(len(dataset), 1)


def _notes(metrics: dict[str, Any], dataset: Samples, train: Samples | None = None, *,
           normalize: str = "channel") -> list[str]:
    """Warnings a user must not miss: samples without values scored, no better than the
    baseline, than always answering the most frequent class or than the training mean (on
    ``dataset``; rocket's leave-one-out scores on ``train``)."""
    notes = []
    empty = without_values(dataset.sequences, constant=normalize == "series") if isinstance(
        dataset, SequenceDataset) else []
    if empty:
        notes.append(_empty_note(dataset.name, empty, len(dataset), normalize,
                                 "they are scored by the model's answer for no data"))
    accuracy, baseline = _measured(metrics, "accuracy"), metrics.get("baseline_accuracy")
    if accuracy is not None and dataset.classes is not None:
        majority = _majority(dataset)
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
        majority = _majority(train)
        if loo <= majority + 1e-6:
            notes.append(f"leave-one-out accuracy {loo:.4f} is at chance: always answering "
                         f"the most frequent training class scores {majority:.4f}; the "
                         "model found nothing that holds beyond the samples it saw")
    loss = metrics.get("loo_loss")
    if loss is not None and train is not None and train.classes is None and loss >= 1.0:
        notes.append(f"leave-one-out loss {loss:.4f} (mean squared error in standardized "
                     "units) is no better than predicting the training mean (1.0): the model "
                     "found nothing that holds beyond the samples it saw")
    rmse, floor = _measured(metrics, "rmse"), metrics.get("baseline_rmse")
    if rmse is not None and floor is not None and rmse >= floor:
        notes.append(f"RMSE {rmse:.4g} is no better than predicting the training mean "
                     f"({floor:.4g})")
    return notes


def _finite(metrics: dict[str, Any]) -> list[str]:
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


def _report(result: RunResult, session: RunSession, name: str, verbose: bool, title: str,
            *, overwrite: bool = False) -> list[str]:
    """Write ``result.metrics`` to ``name`` in the run (JSON, atomically; numbers that are not
    finite become null); print them and the plots; returns notes to print."""
    notes = _finite(result.metrics) + result.notes
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


def _evaluate(session: RunSession, folder: str, kind: Task, dataset: Samples,
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


def _restore(run_dir: Path, config: RunConfig, spec: ModelSpec) -> TaskModel:
    task = TaskModel(build_model(config, spec), spec.task)
    load_best(task.model, run_dir)
    return task


def evaluate(run_dir: str | Path, *, data: str | None = None, overwrite: bool = False,
             unfinished: bool = False, verbose: bool = True) -> RunResult:
    """Test the run's best checkpoint on its test split, or on ``data`` (a built-in dataset's
    test split, a labelled file, or for a run on clips a folder/manifest of labelled clips);
    writes ``evaluation.json`` and plots under ``RUN_DIR/evaluation/`` (replacing files there
    that timedist did not write only with ``overwrite``). The run's own data must be the data
    it was trained on (by fingerprint); ``unfinished`` allows a run that has not finished.
    ``evaluated_on`` says what the metrics are on: test, validation or training data."""
    quiet_libraries()
    run = RunDir(Path(run_dir))
    with run.session() as session:
        config, stored = stored_run(run.path, unfinished=unfinished)
        result = _evaluate_run(session, config, stored, data, overwrite, verbose)
    return result


def _evaluate_run(session: RunSession, config: RunConfig, stored: RunRecord, data: str | None,
                  overwrite: bool, verbose: bool) -> RunResult:
    run, marker = session.run, session.marker
    for name in EVALUATION_FILES:  # a file of the user's there: refused before any work
        session.check_writable(f"evaluation/{name}", overwrite=overwrite)
    config = dataclasses.replace(config, cache=None)  # readers write nowhere but the run
    clips = is_clip_run(config)
    notes: list[str] = []
    dataset: Samples
    # The run's own split only without --data, or with its built-in dataset's name: a file
    # or folder given is the data to evaluate, even the run's own (the notes say what it is)
    if data is None or (data == config.data and data in DATASETS):
        if config.data == ARRAYS:
            raise ConfigError(f"{run.path} was fitted in Python on arrays, so it has no test "
                              "file; pass --data FILE (a labelled .ts/.npz file)")
        _check_data_there(run, config, "put it back, edit the path in config.yaml, or pass "
                          "--data FILE to evaluate on data of your choice")
        prepared = prepare_data(config)
        _check_same_data(marker, prepared, run.path, "evaluating would not test this run: "
                         "pass --data FILE to evaluate on data of your choice")
        if prepared.test is not None:
            dataset, evaluated_on = prepared.test, prepared.test_is
        elif prepared.val is not None:
            dataset, evaluated_on = prepared.val, "validation"
        else:
            dataset, evaluated_on = prepared.train, "training"
            notes.append("this run has no test file and no validation split: these metrics are"
                         " on the training data; pass --data FILE to evaluate on other data")
        if isinstance(dataset, ClipDataset):
            dataset = dataset.evaluation()
        naive = stored.naive_scale
    elif data in DATASETS:
        raise ConfigError(f"this run was trained on {config.data}; evaluate it on that or on a "
                          f"file of the same kind, not on {data}")
    elif clips != is_clip_source(data):
        kind = "a folder or .csv manifest of clips" if clips else "a labelled .ts/.npz file"
        raise ConfigError(f"--data {data}: this run was trained on {config.data}; expected "
                          f"{kind}")
    else:
        if clips:
            assert stored.classes is not None
            dataset, notes = evaluation_clips(data, config,
                                              stored.classes)
            raw: Samples = dataset
        else:
            raw = read_sequences(data, require_targets=True)
            dataset = apply_record(raw, stored, labelled=True)
        fitted, held, unknown = _seen_by_run(run, config, marker, raw)
        measures, note = repeats(data, fitted, held, len(raw))
        naive, evaluated_on = None, measures or data
        notes += [n for n in (unknown, note) if n]
    task = _restore(run.path, config, stored.spec)
    result = _evaluate(session, "evaluation/", stored.task, dataset, task, naive_scale=naive,
                       workers=loader_workers(config, dataset), overwrite=overwrite)
    _name_by_data(result.metrics, evaluated_on)
    result.metrics["evaluated_on"] = evaluated_on
    notes += _report(result, session, "evaluation/evaluation.json", verbose,
                     f"{evaluated_on} metrics ({dataset.name})", overwrite=overwrite)
    for note in notes + _notes(result.metrics, dataset, normalize=config.normalize):
        _note(verbose, note)
    return result


def _check_data_there(run: RunDir, config: RunConfig, then: str) -> None:
    """Refuse, naming the run's setting, when its data or test data is not where the run
    (and a search beside a moved run) looked: ``then`` says what to do."""
    for key in ("data", "test_data"):
        value = getattr(config, key)
        if value and value not in DATASETS and value != ARRAYS and not Path(value).exists():
            raise ConfigError(f"{value}: no such file or folder; it is the run's {key} (in "
                              f"{run.config}): {then}")


def _seen_by_run(run: RunDir, config: RunConfig, marker: Marker | None, samples: Samples
                 ) -> tuple[int, int, str | None]:
    """(how many of ``samples`` the run fitted on, how many it held out for validation, a
    note when that could not be told for a run that kept its samples' keys), by content: the
    training samples' keys the run kept, or (runs of built-in data, of an earlier timedist,
    a run whose keys are gone) its training data read again while it is what the run trained
    on ((0, 0) when that cannot be told)."""
    kept = trained_samples(run, marker)
    if kept is not None:
        from ..data import exact_keys, sample_keys

        kept_keys, legacy = kept  # an earlier timedist kept exact keys
        return (*seen_by_run(config, kept_keys, (exact_keys if legacy else sample_keys)(
            samples), _validation_folder(config)), None)
    seen = _seen_by_reading(run, config, marker, samples)
    if seen is not None:
        return (*seen, None)
    listed = marker is not None and {SAMPLES, LEGACY_SAMPLES} & set(marker.files)
    return 0, 0, (f"{run.path / SAMPLES}: missing or changed since timedist wrote it, and the "
                  "training data is not where the run read it (or changed): whether this "
                  "file repeats training samples cannot be told") if listed else None


def _seen_by_reading(run: RunDir, config: RunConfig, marker: Marker | None, samples: Samples
                     ) -> tuple[int, int] | None:
    """:func:`_seen_by_run` from the run's training data read again (None when it is gone or
    no longer the data the run trained on)."""
    from ..data import clip_keys, sample_keys
    from ..data.clips import check_clips, find_clips

    keys = sample_keys(samples)
    trained = marker.sources.get("data") if marker is not None else None  # an earlier run
    whole = fingerprint(samples)
    if trained is not None and trained.fingerprint == whole:
        return seen_by_run(config, keys, keys)
    try:
        if is_clip_run(config):  # the clips of train/ (and val/): decoding is not needed
            found = find_clips(config.data)
            clips = found.get("train") or found.get("all", [])
            if config.skip_bad:  # as the run saw them
                clips = check_clips(clips, skip_bad=True)[0]
            return seen_by_run(config, clip_keys(clips), keys,
                               _validation_folder(config))
        train = load_splits(config)[0]
    except (OSError, ValueError):  # moved or unreadable: nothing can be said
        return None
    if trained is not None and comparable(trained.fingerprint, whole) and (
            trained.fingerprint != fingerprint(train)):
        return None  # the file at that path is no longer the training data
    return seen_by_run(config, sample_keys(train), keys)


def _validation_folder(config: RunConfig) -> list[bytes]:
    """The keys of a clip run's val/ folder (held out, not fitted on); [] for other runs."""
    from ..data import clip_keys
    from ..data.clips import find_clips

    if not is_clip_run(config):
        return []
    try:
        return clip_keys(find_clips(config.data).get("val", []))
    except (OSError, ValueError):
        return []


def predict(run_dir: str | Path, input_path: str, output_path: str, *,
            model: str | Path | None = None, overwrite: bool = False, unfinished: bool = False,
            verbose: bool = True) -> Path:
    """Predict every sample of ``input_path`` (.ts/.npz, or for a run on clips a video, a
    frame folder or a folder of them; labels not needed) with the run's best checkpoint — or
    with ``model``, the run exported to ONNX (``timedist export``), run in onnxruntime: a CSV
    (index or clip, prediction[, probability and each class's]) for labels and values, an NPZ
    (``y_pred`` (N, T_out, C, H, W)) for frames. ``output_path`` must not exist unless
    ``overwrite``, and is never an input or a file of a run."""
    run = RunDir(Path(run_dir))
    with run.reading():
        config, stored = stored_run(run.path, unfinished=unfinished)
        kind = stored.task
        output = Path(output_path)
        inputs = [input_path, *([model] if model is not None else [])]
        target = check_output(output_path, overwrite=overwrite, inputs=inputs,
                              protected=run_file_reason)
        wanted = ".npz" if kind is Task.FRAMES else ".csv"
        if output.suffix != wanted:
            raise ConfigError(f"--output {output}: expected a file ending in {wanted} for a "
                              f"{kind} run")
        outputs, names, empty = _predictions(run, config, stored, input_path, model)
    if empty:  # the model's answer for no data would read as a confident prediction
        _note(verbose, _empty_note(input_path, empty, len(outputs), config.normalize,
                                   "their predictions are left blank"))
    _write_predictions(target, kind, outputs, stored.classes, names, replace=overwrite,
                       blank=empty)
    _say(verbose, f"wrote {len(outputs)} predictions to {output}")
    return output


def _predictions(run: RunDir, config: RunConfig, stored: RunRecord, input_path: str,
                 model: str | Path | None) -> tuple[Tensor, list[str] | None, list[int]]:
    """(outputs: probabilities, values in the data's units or frames; clip names or None;
    the indices of samples without a single value)."""
    kind = stored.task
    names: list[str] | None = None
    signals: SequenceDataset | None = None  # as read: the ONNX file scales them itself
    dataset: Samples
    config = dataclasses.replace(config, cache=None)  # readers write nowhere but the output
    if is_clip_run(config):
        assert stored.classes is not None
        dataset = input_clips(input_path, config, stored.classes)
        names = [str(c.path) for c in dataset.clips]
    else:
        signals = read_sequences(input_path, require_targets=False)
        dataset = apply_record(signals, stored, labelled=False) if model is None else conform(
            signals, step_shape=stored.spec.step_shape, task=kind, classes=stored.classes,
            labelled=False)
    if model is not None:
        from ..deploy.deployed import onnx_predictions

        outputs = onnx_predictions(model, dataset, stored, run.path)
    else:
        quiet_libraries()
        outputs, _ = collect(_restore(run.path, config, stored.spec), dataset,
                             workers=loader_workers(config, dataset))
        if kind is Task.CLASSIFICATION:
            outputs = outputs.double().softmax(-1)
        elif kind is Task.REGRESSION:
            outputs = unscale(outputs, dataset)
    bad = (~torch.isfinite(outputs.reshape(len(outputs), -1))).any(1).nonzero()
    if len(bad):
        first = int(bad[0])
        raise ValueError(f"{input_path}: the model's output for sample {first}"
                         + (f" ({names[first]})" if names else "") + " is not a finite number "
                         "(NaN or infinite): its values may lie far outside the training data's")
    empty = [] if signals is None else without_values(signals.sequences,
                                                      constant=config.normalize == "series")
    return outputs, names, empty


def _empty_note(name: str, empty: list[int], size: int, normalize: str, then: str) -> str:
    """The note for samples :func:`~timedist.data.without_values` finds: which, and what was
    done with them (``then``)."""
    found = without_values_text(empty, size, constant=normalize == "series")
    return f"{name}: {found}: {then} (samples {shorten_text(', '.join(map(str, empty)), 80)})"


def _write_predictions(output: Path, kind: str, outputs: Tensor,
                       classes: list[str] | None, names: list[str] | None = None, *,
                       replace: bool, blank: Sequence[int] = ()) -> None:
    """Probabilities (N, K) -> label and its probability (with ``names``, the clips: also
    every class's probability); values (N, ...) -> one column each; frames -> an NPZ. The
    rows in ``blank`` (samples without data) are left empty (NaN frames). Written
    atomically; a file that appeared meanwhile is replaced only with ``replace``."""
    if blank:
        outputs = outputs.clone()
        outputs[list(blank)] = math.nan
    if kind is Task.FRAMES:
        def write_npz(handle: Any) -> None:
            np.savez(handle, y_pred=outputs.numpy())
        atomic_write(output, write_npz, replace=replace)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = names if names is not None else list(range(len(outputs)))
    first = "clip" if names is not None else "index"
    if kind is Task.CLASSIFICATION:
        classes = classes or []
        each = classes if names is not None else []
        confidence, index = outputs.max(-1)
        writer.writerow([first, "prediction", "probability",  # a class named "prediction"
                         *(f"probability_{name}" for name in each)])  # gets its own column
        for row, k, p, all_p in zip(rows, index.tolist(), confidence.tolist(),
                                    outputs.tolist(), strict=True):
            if p != p:  # NaN: a blank row
                writer.writerow([row, "", "", *([""] * len(each))])
                continue
            writer.writerow([row, classes[k], f"{p:.4f}",
                             *(f"{q:.4f}" for q in all_p[:len(each)])])
    else:
        values = outputs.reshape(len(outputs), -1)
        writer.writerow([first, *(f"prediction_{j}" if values.shape[1] > 1 else
                                  "prediction" for j in range(values.shape[1]))])
        for row, value in zip(rows, values.double().tolist(), strict=True):
            writer.writerow([row, *("" if v != v else repr(v)  # every digit float64 holds
                                    for v in value)])
    atomic_write_text(output, buffer.getvalue(), replace=replace)
