"""``fit``: a run directory from start to finish (``evaluate`` and ``predict``, in their own
modules, are named here too).

A run directory holds ``config.yaml`` (the resolved config), ``preprocessing.json`` (task,
classes, input scaling, target scale), ``checkpoints/best.ckpt`` and ``checkpoints/last.ckpt``
(written atomically), ``metrics.csv`` (one row per epoch), ``metrics.json`` (final test
metrics) and PNG plots.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..data import DATASETS, ClipDataset, SequenceDataset, Task
from ..models.registry import closed_form
from .clip_source import is_clip_source, thumbnails
from .config import ARRAYS, ConfigError, RunConfig, absolute_paths
from .console import note as _note
from .console import quiet_libraries
from .console import say as _say
from .device import resolve_device
from .errors import TrainingError
from .evaluate import check_data_there, check_same_data, evaluate
from .evaluation import baseline_metrics, last_values, unscale
from .fitting import build_task, network, train
from .marker import MARKER, Source
from .measure import RunResult, cautions, evaluate_model, name_by_data, report
from .metrics import read_metrics
from .predict import predict
from .prepare import Prepared, loader_workers, prepare_data
from .record import (
    check_proven,
    found_again,
    load_best,
    load_run,
    make_record,
    stored_run,
    write_record,
    write_samples,
)
from .rundir import CheckpointError, RunDir, RunSession, read_checkpoint, run_around
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
        check_data_there(run, config, "put it back: a resumed run must see the data it "
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
            check_same_data(session.marker, prepared, run.path,
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
    result = evaluate_model(session, "", prepared.task, dataset, task, rows=rows,
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
    name_by_data(result.metrics, evaluated_on)
    result.metrics.update({
        "data": config.data, "model": config.model, "evaluated_on": evaluated_on,
        "epochs": 0 if closed_form(config.model) else len(rows),
        "best_epoch": int(best["epoch"]) + 1 if best else None,
        "train_seconds": round(seconds, 1),
        "parameters": sum(p.numel() for p in task.model.parameters())})
    title = f"\n{evaluated_on} metrics" + (
        f" (checkpoint of epoch {result.metrics['best_epoch']})" if best else "")
    notes = report(result, session, "metrics.json", verbose, title)
    if prepared.test is None and evaluated_on == "training":
        notes.insert(0, "no test file and no validation split: these metrics are on the "
                     "training data; pass --test-data FILE (or --val-split) for an honest "
                     "estimate" + (" (rocket's leave-one-out figures, loo_*, are one)"
                                   if closed_form(config.model) else ""))
    for note in notes + cautions(result.metrics, dataset, prepared.train,
                               normalize=prepared.config.normalize):
        _note(verbose, note)
    return result


