"""``fit``, ``evaluate`` and ``predict``: a run directory from start to finish.

A run directory holds ``config.yaml`` (the resolved config), ``preprocessing.json`` (task,
classes, input scaling, target scale), ``checkpoints/best.ckpt`` and ``checkpoints/last.ckpt``
(written atomically), ``metrics.csv`` (one row per epoch), ``metrics.json`` (final test
metrics) and PNG plots.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import signal
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch import Tensor
from torch.utils.data import DataLoader

from .._atomic import atomic_write, atomic_write_text
from ..data import DATASETS, ClipDataset, Samples, SequenceDataset, pad_collate
from . import plots
from .callbacks import (
    AtomicCheckpointIO,
    ClipEpoch,
    EpochLog,
    EpochShuffle,
    read_metrics,
    write_metrics,
)
from .clip_source import evaluation_clips, input_clips, is_clip_source, thumbnails
from .closed_form import fit_closed_form, save_checkpoint
from .config import CLOSED_FORM, ConfigError, RunConfig
from .defaults import MIN_SELECTION
from .evaluation import baseline_metrics, collect, last_values, metrics_for, unscale
from .module import NonFiniteLossError, SequenceTask
from .prepare import ModelSpec, Prepared, build_model, conform, prepare_data, read_sequences
from .record import (
    RunRecord,
    apply_record,
    load_best,
    load_run,
    make_record,
    stored_run,
    write_record,
)
from .rundir import RunDir, read_checkpoint

__all__ = ["ARRAYS", "RunResult", "TrainingError", "evaluate", "fit", "load_run", "predict",
           "resolve_device", "stored_run", "train_network"]

RUN_DIR_ENV = "TIMEDIST_RUN_DIR"  # set by rank 0 so DDP workers use the same run directory
ARRAYS = "(arrays)"  # config.data of a run fitted in Python on arrays (the estimators)


class TrainingError(RuntimeError):
    """A run that could not go on (a diverged loss, a missing checkpoint)."""


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    plots: list[Path] = field(default_factory=list)


def _rank() -> int:
    return max(int(os.environ.get(k, "0")) for k in ("RANK", "LOCAL_RANK", "NODE_RANK"))


def _quiet_lightning() -> None:
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for text in ("does not have many workers", "The number of training batches",
                 "Checkpoint directory .* exists and is not empty", "GPU available",
                 "`isinstance\\(treespec, LeafSpec\\)` is deprecated",
                 "You defined a `validation_step` but have no `val_dataloader`"):
        warnings.filterwarnings("ignore", message=f".*{text}")


def resolve_device(accelerator: str) -> torch.device:
    """The device ``accelerator`` names on this machine: ``auto`` -> a CUDA GPU when there
    is one, else the CPU; ``gpu``/``cuda`` -> the GPU (a ConfigError when there is none)."""
    gpu = torch.cuda.is_available()
    if accelerator in ("gpu", "cuda"):
        if not gpu:
            raise ConfigError(f"--accelerator {accelerator}: expected a CUDA GPU; this machine "
                              "has none (use --accelerator auto or cpu)")
        return torch.device("cuda")
    if accelerator == "auto":
        return torch.device("cuda" if gpu else "cpu")
    if accelerator == "cpu":
        return torch.device("cpu")
    raise ConfigError(f"--accelerator: expected auto, cpu or gpu; got {accelerator!r}")


def _default_run_dir(config: RunConfig) -> Path:
    own = Path(config.data).resolve().name.split(".")[0]  # "clips/" and "." have names too
    stem = config.data if config.data in DATASETS else own
    base = Path("runs") / stem
    candidate, number = base, 1
    while candidate.exists():
        number += 1
        candidate = base.with_name(f"{base.name}-{number}")
    return candidate


def _choose_run_dir(out: str | Path | None, config: RunConfig, overwrite: bool) -> Path:
    """The run directory of a new run, checked without changing anything: an existing one
    only with ``overwrite``, only a timedist run directory, and only if everything in it was
    written by timedist (nothing is removed until the data and the model are validated)."""
    if _rank() != 0 and os.environ.get(RUN_DIR_ENV):  # a DDP worker launched by rank 0
        return Path(os.environ[RUN_DIR_ENV])
    run = RunDir(Path(out) if out else _default_run_dir(config))
    if not run.is_empty():
        if not overwrite:
            raise ConfigError(f"{run.path}: the run directory exists; pass --overwrite to "
                              f"replace it or --resume {run.path} to continue it")
        if not run.is_run():
            raise ConfigError(f"{run.path}: not a timedist run directory (no config.yaml); "
                              "refusing to overwrite it")
        run.check_replaceable()
    return run.path


def _naive_scale(prepared: Prepared, config: RunConfig) -> float | None:
    """MASE's denominator for built-in forecasting series: in-sample naive MAE, data units."""
    info = DATASETS.get(config.data)
    if info is None or not info.task.startswith("forecasting") or prepared.task != "regression":
        return None
    train = prepared.train
    assert isinstance(train, SequenceDataset)
    true = unscale(train.targets, train)
    return float((true - last_values(train).unsqueeze(-1)).abs().mean())


def _workers(config: RunConfig, dataset: Samples) -> int:
    """DataLoader processes for ``dataset``: clips are decoded by ``config.workers``; data in
    memory gains nothing from them."""
    return (config.workers or 0) if isinstance(dataset, ClipDataset) else 0


def _loaders(prepared: Prepared, config: RunConfig, first_epoch: int = 0
             ) -> tuple[DataLoader[Any], DataLoader[Any] | None]:
    world = config.devices * config.num_nodes
    per_device = config.batch_size // world
    workers = _workers(config, prepared.train)
    if isinstance(prepared.train, ClipDataset):  # the random crops of the first epoch run
        prepared.train.epoch = first_epoch
    if world == 1:  # our sampler: the order of epoch e depends on (seed, e) only
        train = DataLoader(prepared.train, batch_size=per_device, collate_fn=pad_collate,
                           sampler=EpochShuffle(len(prepared.train), config.seed, first_epoch),
                           num_workers=workers)
    else:  # Lightning swaps in a DistributedSampler (seeded, set_epoch per epoch)
        train = DataLoader(prepared.train, batch_size=per_device, collate_fn=pad_collate,
                           shuffle=True, num_workers=workers)
    val = (DataLoader(prepared.val, batch_size=max(per_device, 64), collate_fn=pad_collate,
                      num_workers=workers)
           if prepared.val is not None else None)
    return train, val


def _selects(prepared: Prepared) -> bool:
    """Whether the best checkpoint is chosen on the validation split (else: the final one)."""
    return prepared.val is not None and len(prepared.val) >= MIN_SELECTION


def _trainer(config: RunConfig, run_dir: Path, *, has_val: bool, selects: bool,
             progress: bool, verbose: bool, extra: list[pl.Callback]) -> pl.Trainer:
    monitor = "val_loss" if has_val else "train_loss"
    callbacks: list[pl.Callback] = [*extra,
        EpochLog(RunDir(run_dir).metrics_csv, verbose=verbose),
        ModelCheckpoint(dirpath=RunDir(run_dir).checkpoints, filename="best",
                        monitor="val_loss" if selects else None, mode="min", save_top_k=1,
                        save_last=True, auto_insert_metric_name=False,
                        enable_version_counter=False),
    ]
    if config.patience:
        callbacks.append(EarlyStopping(monitor=monitor, patience=config.patience))
    resolve_device(config.accelerator)  # a clear error for a GPU that is not there
    return pl.Trainer(
        accelerator=config.accelerator, devices=config.devices, num_nodes=config.num_nodes,
        strategy=config.strategy, max_epochs=config.epochs, callbacks=callbacks,
        plugins=[AtomicCheckpointIO()], logger=False, enable_model_summary=False,
        enable_progress_bar=progress, num_sanity_val_steps=0, default_root_dir=run_dir,
        log_every_n_steps=1)


def _say(verbose: bool, text: str) -> None:
    if verbose:
        print(text, flush=True)


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
    if config.model in CLOSED_FORM:
        how = (f"{config.features}, {config.members} member{'s' * ((config.members or 1) > 1)}"
               ", fitted in closed form")
    else:
        how = (f"{config.epochs} epochs, batch {config.batch_size}, lr {config.lr}"
               + ("" if _selects(prepared) else ", final weights kept"))
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

    ``resume``: continue the run in that directory from ``checkpoints/last.ckpt`` (pass the
    stored config: ``RunConfig.load(run_dir / "config.yaml")``). ``progress``: Lightning's
    progress bar (default: when stderr is a terminal). ``callbacks``: extra Lightning
    callbacks.
    """
    _quiet_lightning()
    verbose = verbose and _rank() == 0
    if resume is not None:
        run_dir = Path(resume)
        if not RunDir(run_dir).last.is_file():
            raise TrainingError(f"{run_dir}: no checkpoints/last.ckpt to resume from (the run "
                                "stopped before its first epoch ended); start it again")
    else:
        run_dir = _choose_run_dir(out, config, overwrite)
    previous = os.environ.get(RUN_DIR_ENV)
    os.environ[RUN_DIR_ENV] = str(run_dir)  # inherited by the DDP workers Lightning starts
    try:
        return _fit(config, run_dir, resume is not None, verbose, progress, callbacks or [])
    finally:
        if previous is None:
            os.environ.pop(RUN_DIR_ENV, None)
        else:
            os.environ[RUN_DIR_ENV] = previous


def _fit(config: RunConfig, run_dir: Path, resume: bool, verbose: bool, progress: bool | None,
         callbacks: list[pl.Callback]) -> RunResult | None:
    pl.seed_everything(config.seed, verbose=False)
    # Everything that can be wrong with the data, the model or the device fails here, before
    # anything in the run directory is touched.
    prepared = prepare_data(config)
    config = prepared.config  # with the choices made from the data
    device = resolve_device(config.accelerator)
    model = build_model(config, prepared.spec)
    task = SequenceTask(model, prepared.task, lr=config.lr, weight_decay=config.weight_decay,
                        seed=config.seed)
    if resume:
        read_checkpoint(RunDir(run_dir).last)  # a broken one is one line, before any write
    if _rank() != 0:  # a DDP worker: rank 0 holds the directory and writes every file
        train_network(task, prepared, run_dir, resume=resume, verbose=False,
                      progress=progress, callbacks=callbacks)
        return None
    run = RunDir(run_dir)
    created = not run.path.exists()
    with run.locked():
        if not resume:
            run.check_replaceable()  # again, now that this process holds the folder
            run.clear()
            write_record(run_dir, config, make_record(prepared, _naive_scale(prepared, config)))
        try:
            return _train_and_finish(task, prepared, run, resume, device, verbose, progress,
                                     callbacks)
        except BaseException:
            if not resume and not run.last.is_file():  # nothing to resume from: leave nothing
                run.discard(created)
            raise


def _train_and_finish(task: SequenceTask, prepared: Prepared, run: RunDir, resume: bool,
                      device: torch.device, verbose: bool, progress: bool | None,
                      callbacks: list[pl.Callback]) -> RunResult:
    config, run_dir = prepared.config, run.path
    _say(verbose, _describe(prepared, task.model, run_dir, str(device))
         + (f" (resumed from {run.last})" if resume else ""))
    if config.model in CLOSED_FORM:
        assert isinstance(prepared.train, SequenceDataset)  # rocket takes signals, not clips
        row = fit_closed_form(task, prepared.train, device, verbose=verbose)
        write_metrics(run.metrics_csv, [row])
        for path in (run.best, run.last):
            save_checkpoint(task, path)
        _say(verbose, f"fitted in {row['seconds']} s; leave-one-out on the training data: "
             + ", ".join(f"{k[6:]} {v}" for k, v in row.items() if k.startswith("train_")))
        return _finish(run_dir, config, prepared, task, float(row["seconds"]), verbose)
    train_network(task, prepared, run_dir, resume=resume, verbose=verbose, progress=progress,
                  callbacks=callbacks)
    # The epochs' seconds, summed: metrics.csv keeps the rows of the runs a --resume continues.
    seconds = sum(float(r.get("seconds") or 0) for r in read_metrics(run.metrics_csv))
    return _finish(run_dir, config, prepared, task, seconds, verbose)


def train_network(task: SequenceTask, prepared: Prepared, run_dir: Path, *, resume: bool = False,
                  verbose: bool = False, progress: bool | None = False,
                  callbacks: list[pl.Callback] | None = None) -> None:
    """Train ``task`` with Lightning on ``prepared`` (checkpoints, metrics.csv in ``run_dir``;
    each epoch's seconds are in metrics.csv)."""
    _quiet_lightning()
    config = prepared.config
    first_epoch = int(read_checkpoint(RunDir(run_dir).last).get("epoch", -1)) + 1 if resume else 0
    train_loader, val_loader = _loaders(prepared, config, first_epoch)
    show = sys.stderr.isatty() if progress is None else progress
    extra = [*(callbacks or []), *([ClipEpoch()] if prepared.streamed else [])]
    trainer = _trainer(config, run_dir, has_val=val_loader is not None,
                       selects=_selects(prepared), progress=show, verbose=verbose, extra=extra)
    sigint = signal.getsignal(signal.SIGINT)
    try:
        trainer.fit(task, train_loader, val_loader,
                    ckpt_path=str(RunDir(run_dir).last) if resume else None, weights_only=True)
    except SystemExit:  # Lightning's answer to Ctrl-C: graceful shutdown, then exit(1)
        if not trainer.interrupted:
            raise
        raise KeyboardInterrupt(f"interrupted; continue with: timedist fit --resume {run_dir}"
                                ) from None
    except NonFiniteLossError as error:
        last = RunDir(run_dir).last
        kept = (f"the last good checkpoint is {last} (epoch {error.epoch})" if last.is_file()
                else "no checkpoint was written (it diverged in the first epoch)")
        raise TrainingError(f"{error}; training stopped, {kept}. Try a lower --lr "
                            f"(now {config.lr})") from error
    finally:  # Lightning ignores SIGINT after a Ctrl-C; give it back to the caller
        if signal.getsignal(signal.SIGINT) is not sigint and sigint is not None:
            signal.signal(signal.SIGINT, sigint)


def _finish(run_dir: Path, config: RunConfig, prepared: Prepared, task: SequenceTask,
            seconds: float, verbose: bool) -> RunResult:
    """Test the best checkpoint beside the baseline; write metrics.json and the plots."""
    load_best(task.model, run_dir)
    rows = read_metrics(RunDir(run_dir).metrics_csv)
    if prepared.test is not None:
        evaluated_on, dataset = "test", prepared.test
    elif prepared.val is not None:
        evaluated_on, dataset = "validation", prepared.val
    else:
        evaluated_on, dataset = "training", prepared.train
    if isinstance(dataset, ClipDataset):  # no random crops when measuring
        dataset = dataset.evaluation()
    workers = _workers(config, dataset)
    result = _evaluate(run_dir, prepared.task, dataset, task, rows=rows,
                       naive_scale=_naive_scale(prepared, config), workers=workers)
    if isinstance(prepared.train, ClipDataset):  # the baseline on thumbnails of the clips
        small_train, small = (thumbnails(d, workers=workers) for d in (prepared.train, dataset))
        result.metrics.update(baseline_metrics(prepared.task, small_train, small))
        result.metrics["baseline"] += " of 8x8 frames"
    elif prepared.task != "frames":
        assert isinstance(dataset, SequenceDataset)
        result.metrics.update(baseline_metrics(prepared.task, prepared.train, dataset))
    if config.model in CLOSED_FORM and rows:
        loo = {k.replace("train_", "loo_"): float(v) for k, v in rows[0].items()
               if k.startswith("train_")}
        result.metrics.update(loo)
    if config.model in CLOSED_FORM or not rows:
        best = None
    elif _selects(prepared):
        best = min(rows, key=lambda r: float(r["val_loss"]))
    else:
        best = rows[-1]
    result.metrics.update({
        "data": config.data, "model": config.model, "evaluated_on": evaluated_on,
        "epochs": 0 if config.model in CLOSED_FORM else len(rows),
        "best_epoch": int(best["epoch"]) + 1 if best else None,
        "train_seconds": round(seconds, 1),
        "parameters": sum(p.numel() for p in task.model.parameters())})
    title = f"\n{evaluated_on} metrics" + (
        f" (checkpoint of epoch {result.metrics['best_epoch']})" if best else "")
    _report(result, RunDir(run_dir).metrics_json, verbose, title)
    for note in _notes(result.metrics, dataset):
        _say(verbose, f"note   {note}")
    return result


def _notes(metrics: dict[str, Any], dataset: Samples) -> list[str]:
    """Warnings a user must not miss: training-set metrics, no better than the baseline or
    than always answering the most frequent class."""
    notes = []
    if metrics["evaluated_on"] == "training":
        notes.append("no test file and no validation split: these metrics are on the training "
                     "data; pass --test-data FILE (or --val-split) for an honest estimate"
                     + (" (rocket's leave-one-out figures above are one)" if any(
                         k.startswith("loo_") for k in metrics) else ""))
    accuracy, baseline = metrics.get("test_accuracy"), metrics.get("baseline_accuracy")
    if accuracy is not None and dataset.classes is not None:
        counts = torch.bincount(dataset.targets, minlength=len(dataset.classes))
        majority = float(counts.max()) / max(len(dataset), 1)
        if accuracy <= majority + 1e-6:  # accuracies are float32
            notes.append(f"accuracy {accuracy:.4f} is at chance: always answering the most "
                         f"frequent class scores {majority:.4f}")
        elif baseline is not None and accuracy < baseline:
            notes.append(f"the model ({accuracy:.4f}) is worse than the 1-NN baseline "
                         f"({baseline:.4f})")
    rmse, floor = metrics.get("test_rmse"), metrics.get("baseline_rmse")
    if rmse is not None and floor is not None and rmse >= floor:
        notes.append(f"RMSE {rmse:.4g} is no better than predicting the training mean "
                     f"({floor:.4g})")
    return notes


def _report(result: RunResult, path: Path, verbose: bool, title: str) -> None:
    """Write ``result.metrics`` to ``path`` (JSON, atomically); print them and the plots."""
    atomic_write_text(path, json.dumps(result.metrics, indent=1) + "\n")
    def listed(prefix: tuple[str, ...]) -> str:
        return ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in result.metrics.items() if k.startswith(prefix))

    _say(verbose, f"{title}: {listed(('test_', 'mse_below'))}")
    if "baseline" in result.metrics:
        _say(verbose, f"baseline ({result.metrics['baseline']}): {listed(('baseline_',))}")
    _say(verbose, f"wrote {path}\nplots  " + "\n       ".join(str(p) for p in result.plots))


def _evaluate(run_dir: Path, kind: str, dataset: Samples, task: SequenceTask, *,
              rows: list[dict[str, str]] | None = None,
              naive_scale: float | None = None, workers: int = 0) -> RunResult:
    """Metrics of ``task`` on ``dataset`` (read by ``workers`` processes); plots written to
    ``run_dir``."""
    outputs, targets = collect(task, dataset, workers=workers)
    metrics = metrics_for(kind, outputs, targets, dataset, naive_scale=naive_scale)
    made = []
    if rows and len(rows) > 1:  # a closed-form fit has one row: no curve to draw
        made.append(plots.learning_curves(rows, run_dir / "learning_curves.png"))
    if kind == "classification":
        assert dataset.classes is not None
        pred = outputs.argmax(-1)
        made.append(plots.confusion_matrix(targets, pred, dataset.classes,
                                           run_dir / "confusion_matrix.png"))
        if len(dataset.step_shape) == 3:  # clips: a strip of six, spread over the set
            pick = torch.linspace(0, len(dataset) - 1, min(6, len(dataset))).long()
            x = pad_collate([dataset[i] for i in pick.tolist()]).x
            made.append(plots.frame_strip(x, targets[pick], pred[pick], dataset.classes,
                                          run_dir / "examples.png"))
    elif kind == "regression":
        assert isinstance(dataset, SequenceDataset)
        made.append(plots.predicted_vs_true(unscale(targets, dataset), unscale(outputs, dataset),
                                            run_dir / "predicted_vs_true.png"))
    else:
        assert isinstance(dataset, SequenceDataset)
        x = torch.stack(dataset.sequences[:3])
        made.append(plots.forecast_frames(x, targets[:3], outputs[:3],
                                          run_dir / "forecast.png"))
    return RunResult(run_dir, metrics, made)


def _restore(run_dir: Path, config: RunConfig, spec: ModelSpec) -> SequenceTask:
    task = SequenceTask(build_model(config, spec), spec.task)
    load_best(task.model, run_dir)
    return task


def _own_file(path: str, stored: RunRecord, *, require_targets: bool) -> SequenceDataset:
    """A user file with the run's input scaling and target scale (and class order)."""
    return apply_record(read_sequences(path, require_targets=require_targets), stored,
                        labelled=require_targets)


def evaluate(run_dir: str | Path, *, data: str | None = None,
             verbose: bool = True) -> RunResult:
    """Test the run's best checkpoint on its test split, or on ``data`` (a built-in dataset's
    test split, a labelled file, or for a run on clips a folder/manifest of labelled clips);
    writes ``evaluation.json`` and plots under ``RUN_DIR/evaluation/``."""
    _quiet_lightning()
    run_dir = Path(run_dir)
    config, stored = stored_run(run_dir)
    if (data is None or data == config.data) and config.data == ARRAYS:
        raise ConfigError(f"{run_dir} was fitted in Python on arrays, so it has no test file;"
                          " pass --data FILE (a labelled .ts/.npz file)")
    clips = is_clip_source(config.data)
    dataset: Samples
    if data is None or data == config.data:
        prepared = prepare_data(config)
        dataset = prepared.test or prepared.val or prepared.train
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
    elif clips:
        assert stored.classes is not None
        (dataset, notes), naive = evaluation_clips(data, config, stored.classes), None
        for note in notes:
            _say(verbose, f"note   {note}")
    else:
        dataset, naive = _own_file(data, stored, require_targets=True), None
    task = _restore(run_dir, config, stored.spec)
    out = RunDir(run_dir).evaluation
    out.mkdir(exist_ok=True)
    result = _evaluate(out, stored.task, dataset, task, naive_scale=naive,
                       workers=_workers(config, dataset))
    result.metrics["evaluated_on"] = data or "test"
    _report(result, out / "evaluation.json", verbose, dataset.name)
    return result


def predict(run_dir: str | Path, input_path: str, output_path: str, *,
            model: str | Path | None = None, verbose: bool = True) -> Path:
    """Predict every sample of ``input_path`` (.ts/.npz, or for a run on clips a video, a
    frame folder or a folder of them; labels not needed) with the run's best checkpoint — or
    with ``model``, the run exported to ONNX (``timedist export``), run in onnxruntime: a CSV
    (index or clip, prediction[, probability and each class's]) for labels and values, an NPZ
    (``y_pred`` (N, T_out, C, H, W)) for frames."""
    run_dir = Path(run_dir)
    config, stored = stored_run(run_dir)
    kind = stored.task
    output = Path(output_path)
    wanted = ".npz" if kind == "frames" else ".csv"
    if output.suffix != wanted:
        raise ConfigError(f"{output.name}: expected an output file ending in {wanted} for a "
                          f"{kind} run")
    names: list[str] | None = None
    if is_clip_source(config.data):
        assert stored.classes is not None
        clips = input_clips(input_path, config, stored.classes)
        raw: Samples = clips
        names = [str(c.path) for c in clips.clips]
    elif model is not None:
        raw = conform(read_sequences(input_path, require_targets=False),
                      step_shape=stored.spec.step_shape, task=kind, classes=stored.classes,
                      labelled=False)
    if model is not None:
        from .deployed import onnx_predictions

        outputs = onnx_predictions(model, raw, stored)
    else:
        _quiet_lightning()
        dataset = raw if names is not None else _own_file(input_path, stored,
                                                          require_targets=False)
        outputs, _ = collect(_restore(run_dir, config, stored.spec), dataset,
                             workers=_workers(config, dataset))
        if kind == "classification":
            outputs = outputs.softmax(-1)
        elif kind == "regression":
            outputs = unscale(outputs, dataset)
    _write_predictions(output, kind, outputs, stored.classes, names)
    _say(verbose, f"wrote {len(outputs)} predictions to {output}")
    return output


def _write_predictions(output: Path, kind: str, outputs: Tensor,
                       classes: list[str] | None, names: list[str] | None = None) -> None:
    """Probabilities (N, K) -> label and its probability (with ``names``, the clips: also
    every class's probability); values (N, ...) -> one column each; frames -> an NPZ. Written
    atomically."""
    if kind == "frames":
        def write_npz(handle: Any) -> None:
            np.savez(handle, y_pred=outputs.numpy())
        atomic_write(output, write_npz)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    rows = names if names is not None else list(range(len(outputs)))
    first = "clip" if names is not None else "index"
    if kind == "classification":
        classes = classes or []
        each = classes if names is not None else []
        confidence, index = outputs.max(-1)
        writer.writerow([first, "prediction", "probability", *each])
        for row, k, p, all_p in zip(rows, index.tolist(), confidence.tolist(),
                                    outputs.tolist(), strict=True):
            writer.writerow([row, classes[k], f"{p:.4f}",
                             *(f"{q:.4f}" for q in all_p[:len(each)])])
    else:
        values = outputs.reshape(len(outputs), -1)
        writer.writerow([first, *(f"prediction_{j}" if values.shape[1] > 1 else
                                  "prediction" for j in range(values.shape[1]))])
        for row, value in zip(rows, values.tolist(), strict=True):
            writer.writerow([row, *(f"{v:.6g}" for v in value)])
    atomic_write_text(output, buffer.getvalue())
