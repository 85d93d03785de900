"""``predict``: a finished run's predictions for a file (or clips): a CSV of labels and
probabilities or values, or an NPZ of frames, written atomically; with ``model``, the run
exported to ONNX runs in onnxruntime."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .._atomic import atomic_write, atomic_write_text, check_output
from ..data import Samples, SequenceDataset, Task, without_values
from .clip_source import input_clips, is_clip_run
from .config import ConfigError, RunConfig
from .console import note as _note
from .console import quiet_libraries
from .console import say as _say
from .evaluation import collect, unscale
from .measure import empty_note, restore
from .prepare import conform, loader_workers, read_sequences
from .record import RunRecord, apply_record, stored_run
from .recording_source import input_recordings, is_recording_run
from .rundir import RunDir, run_file_reason

__all__ = ["predict"]


def predict(run_dir: str | Path, input_path: str, output_path: str, *,
            model: str | Path | None = None, overwrite: bool = False, unfinished: bool = False,
            verbose: bool = True) -> Path:
    """Predict every sample of ``input_path`` (a sample file or table; for a run on
    recordings one recording, a folder or a manifest of them; for a run on clips a video, a
    frame folder or a folder of them; labels not needed) with the run's best checkpoint — or
    with ``model``, the run exported to ONNX (``timedist export``), run in onnxruntime: a CSV
    (index, a table's id, or the clip's or recording's path; prediction[, probability and
    each class's]) for labels and values, an NPZ
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
        outputs, names, named, chose, empty = _predictions(run, config, stored, input_path,
                                                           model)
    for line in chose:  # how the input was read (a table's layout, its label column left out)
        _say(verbose, f"chose  {line}")
    if empty:  # the model's answer for no data would read as a confident prediction
        _note(verbose, empty_note(input_path, empty, len(outputs), config.normalize,
                                   "their predictions are left blank"))
    _write_predictions(target, kind, outputs, stored.classes, names, replace=overwrite,
                       blank=empty, named=named)
    _say(verbose, f"wrote {len(outputs)} predictions to {output}")
    return output


def _predictions(run: RunDir, config: RunConfig, stored: RunRecord, input_path: str,
                 model: str | Path | None
                 ) -> tuple[Tensor, list[str] | None, str, list[str], list[int]]:
    """(outputs: probabilities, values in the data's units or frames; the samples' names —
    clips' or recordings' paths, a table's series ids — or None; the title of their column;
    what was chosen reading the input; the indices of samples without a single value)."""
    kind = stored.task
    names: list[str] | None = None
    named, chose = "clip", []
    signals: SequenceDataset | None = None  # as read: the ONNX file scales them itself
    dataset: Samples
    config = dataclasses.replace(config, cache=None)  # readers write nowhere but the output
    if is_clip_run(config, stored.spec.step_shape):
        assert stored.classes is not None
        dataset = input_clips(input_path, config, stored.classes)
        names = [str(c.path) for c in dataset.clips]
    else:
        if is_recording_run(config, stored.spec.step_shape):  # a file, or a folder of them
            signals, names, _ = input_recordings(input_path)
            named = "recording"
        else:
            table = read_sequences(input_path, require_targets=False,
                                   label_column=config.label_column)
            signals, names, chose = table.data, table.ids, table.chose
            named = table.id_column or named
        dataset = apply_record(signals, stored, labelled=False) if model is None else conform(
            signals, step_shape=stored.spec.step_shape, task=kind, classes=stored.classes,
            labelled=False)
    if model is not None:
        from ..deploy.deployed import onnx_predictions

        outputs = onnx_predictions(model, dataset, stored, run.path)
    else:
        quiet_libraries()
        outputs, _ = collect(restore(run.path, config, stored.spec), dataset,
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
    return outputs, names, named, chose, empty


def _write_predictions(output: Path, kind: str, outputs: Tensor,
                       classes: list[str] | None, names: list[str] | None = None, *,
                       replace: bool, blank: Sequence[int] = (), named: str = "clip") -> None:
    """Probabilities (N, K) -> label and its probability (with ``names``, the clips' or
    recordings' paths, in a column titled ``named``: also every class's probability); values
    (N, ...) -> one column each; frames -> an NPZ. The
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
    first = named if names is not None else "index"
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
