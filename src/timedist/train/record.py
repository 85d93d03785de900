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

from ..data import SequenceDataset, Standardization
from ._atomic import atomic_write_text
from .config import RunConfig
from .prepare import ModelSpec, Prepared, conform, normalized
from .rundir import RunDir

__all__ = ["apply_record", "make_record", "spec_of", "write_record"]


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
