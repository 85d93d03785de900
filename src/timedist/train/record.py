"""A run's record: what ``preprocessing.json`` keeps besides the config, and how new data is
brought into the form the model was trained on.

The record holds the task, one step's shape, the outputs, the longest training sequence, the
class names in index order, the input normalization and its statistics, and the target scale.
``evaluate``, ``predict`` and the scikit-learn estimators apply it with :func:`apply_record`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import SequenceDataset, Standardization
from ._atomic import atomic_write_text
from .config import ConfigError, RunConfig
from .prepare import ModelSpec, Prepared, build_model, conform, legacy_model, normalized
from .rundir import CheckpointError, RunDir, read_checkpoint

__all__ = ["apply_record", "load_best", "load_run", "make_record", "spec_of", "stored_run",
           "write_record"]


def _scale_dict(scale: Standardization | None) -> dict[str, Any] | None:
    return None if scale is None else {"mean": scale.mean.tolist(), "std": scale.std.tolist()}


def _scale_from(entry: dict[str, Any] | None) -> Standardization | None:
    return None if entry is None else Standardization(torch.tensor(entry["mean"]),
                                                      torch.tensor(entry["std"]))


def make_record(prepared: Prepared, naive_scale: float | None = None) -> dict[str, Any]:
    """The record of a prepared run (``naive_scale``: MASE's denominator, built-in series)."""
    train = prepared.train
    return {**dataclasses.asdict(prepared.spec), "classes": train.classes,
            "normalize": prepared.config.normalize,
            "standardization": _scale_dict(train.standardization),
            "target_scale": _scale_dict(train.target_scale), "naive_scale": naive_scale,
            "steps": int(train.lengths.max())}


def spec_of(record: dict[str, Any]) -> ModelSpec:
    """The :class:`ModelSpec` a record describes (records of timedist 0.1 lack ``length``)."""
    return ModelSpec(record["task"], tuple(record["step_shape"]), record["num_outputs"],
                     record["horizon"], record.get("length", record.get("steps", 0)))


def write_record(run_dir: Path, config: RunConfig, record: dict[str, Any]) -> None:
    """``config.yaml`` and ``preprocessing.json`` into ``run_dir`` (atomically)."""
    run = RunDir(run_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    config.save(run.config)
    atomic_write_text(run.record, json.dumps(record, indent=1))


def apply_record(data: SequenceDataset, record: dict[str, Any], *, labelled: bool
                 ) -> SequenceDataset:
    """``data`` as the model saw its training data: checked against the training step shape
    (and task and classes when ``labelled``; labels re-indexed by name), normalized with the
    stored statistics, regression targets scaled with the stored target scale."""
    data = conform(data, step_shape=record["step_shape"], task=record["task"],
                   classes=record["classes"], labelled=labelled)
    targets, target_scale = data.targets, _scale_from(record["target_scale"])
    if labelled and target_scale is not None:
        targets = targets.reshape(len(targets), -1)  # (N,) -> (N, 1), as in training
        targets = (targets - target_scale.mean) / target_scale.std
    data = SequenceDataset(data.sequences, targets, classes=data.classes, name=data.name,
                           target_scale=target_scale)
    scale = _scale_from(record["standardization"])
    if data.sequences[0].dim() != 2:  # image sequences: as stored
        return data.with_standardization(scale)
    return normalized(data, record.get("normalize", "channel"), scale)


def stored_run(run_dir: str | Path) -> tuple[RunConfig, dict[str, Any], ModelSpec]:
    """(config, record, spec) of a run directory; runs of timedist 0.1 get their model's
    name."""
    run = RunDir(Path(run_dir))
    if not run.is_run():
        raise ConfigError(f"{run.path}: not a timedist run directory (no config.yaml)")
    config = RunConfig.load(run.config)
    record = json.loads(run.record.read_text())
    spec = spec_of(record)
    if config.model is None:  # a run of timedist 0.1, which stored no model name
        config = dataclasses.replace(config, model=legacy_model(spec))
    return config, record, spec


def load_best(model: nn.Module, run_dir: str | Path) -> Path:
    """Load the run's best checkpoint into ``model`` (the checkpoint's ``model.`` prefix, which
    the training module adds, is dropped); one CheckpointError naming the file if it is missing,
    unreadable or does not fit the model."""
    path = RunDir(Path(run_dir)).best
    if not path.is_file():
        raise CheckpointError(f"{run_dir}: no checkpoints/best.ckpt (did the run finish an "
                              "epoch?)")
    state = read_checkpoint(path)["state_dict"]
    try:
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise CheckpointError(f"{path}: its weights do not fit the model that config.yaml "
                              f"describes ({first[1].strip() if len(first) > 1 else first[0]})"
                              ) from None
    return path


def load_run(run_dir: str | Path) -> tuple[nn.Module, tuple[int, ...]]:
    """The model of a run with its best checkpoint's weights (eval mode), and the shape of a
    typical input: (2, T_max of training, *step). Needs no Lightning."""
    config, record, spec = stored_run(run_dir)
    model = build_model(config, spec)
    load_best(model, run_dir)
    return model.eval(), (2, int(record.get("steps", 8)), *record["step_shape"])
