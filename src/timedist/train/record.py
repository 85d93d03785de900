"""A run's record: what ``preprocessing.json`` keeps besides the config, and how new data is
brought into the form the model was trained on.

The record holds the task, one step's shape, the outputs, the longest training sequence, the
class names in index order, the input normalization and its statistics, and the target scale.
``evaluate``, ``predict`` and the scikit-learn estimators apply it with :func:`apply_record`.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._atomic import atomic_write_text
from ..data import SequenceDataset, Standardization
from .config import ConfigError, RunConfig
from .prepare import ModelSpec, Prepared, build_model, conform, legacy_model, normalized
from .rundir import CheckpointError, RunDir, read_checkpoint

__all__ = ["RunRecord", "apply_record", "load_best", "load_run", "make_record", "stored_run",
           "write_record"]


TASKS = ("classification", "regression", "frames")


def _scale_json(scale: Standardization | None) -> dict[str, Any] | None:
    return None if scale is None else {"mean": scale.mean.tolist(), "std": scale.std.tolist()}


@dataclass(frozen=True)
class RunRecord:
    """What a run keeps besides its config (``preprocessing.json``), typed.

    ``spec`` (task, one step's shape, outputs, horizon, longest training sequence), the class
    names in index order (classification), the original labels when JSON keeps their type
    (the estimators), the input normalization and its statistics, the target scale
    (regression), MASE's denominator (built-in series), and its provenance (timedist,
    torch and Python versions, the command, when it was written).
    """

    spec: ModelSpec
    classes: list[str] | None
    normalize: str = "channel"
    standardization: Standardization | None = None
    target_scale: Standardization | None = None
    naive_scale: float | None = None
    labels: list[Any] | None = None
    provenance: dict[str, Any] | None = None

    @property
    def task(self) -> str:
        return self.spec.task

    def with_labels(self, labels: list[Any] | None) -> RunRecord:
        return dataclasses.replace(self, labels=labels)

    def to_json(self) -> str:
        return json.dumps({**dataclasses.asdict(self.spec), "steps": self.spec.length,
                           "classes": self.classes, "labels": self.labels,
                           "normalize": self.normalize,
                           "standardization": _scale_json(self.standardization),
                           "target_scale": _scale_json(self.target_scale),
                           "naive_scale": self.naive_scale,
                           "provenance": self.provenance}, indent=1)

    @classmethod
    def from_json(cls, text: str, where: str) -> RunRecord:
        """Parse and check a ``preprocessing.json``; a ConfigError names the key that is
        wrong. Records of timedist 0.1 (no ``length``, ``normalize`` or ``labels``) load."""
        try:
            raw = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"{where}: not valid JSON: {error}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a JSON object; got {type(raw).__name__}")

        def get(key: str, kinds: tuple[type, ...], default: Any = ...) -> Any:
            if key not in raw:
                if default is ...:
                    raise ConfigError(f"{where}: expected the key {key!r}; it is missing")
                return default
            value = raw[key]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                raise ConfigError(f"{where}: expected {key!r} of type {names}; got {value!r}")
            return value

        def ints(key: str, value: Any) -> tuple[int, ...]:
            if not (isinstance(value, list) and all(isinstance(v, int) and v >= 1
                                                    for v in value)):
                raise ConfigError(f"{where}: expected {key!r} as a list of positive integers;"
                                  f" got {value!r}")
            return tuple(value)

        def scale(key: str) -> Standardization | None:
            entry = get(key, (dict, type(None)), None)
            if entry is None:
                return None
            try:
                mean = torch.as_tensor(entry["mean"], dtype=torch.float32)
                std = torch.as_tensor(entry["std"], dtype=torch.float32)
                return Standardization(mean, std)
            except (KeyError, TypeError, ValueError, RuntimeError):
                raise ConfigError(f"{where}: expected {key!r} as {{'mean': [...], 'std': "
                                  f"[...]}} of numbers; got {entry!r}"[:300]) from None

        task = get("task", (str,))
        if task not in TASKS:
            raise ConfigError(f"{where}: expected 'task' one of {', '.join(TASKS)}; got "
                              f"{task!r}")
        steps = get("steps", (int,), 0)
        spec = ModelSpec(task, ints("step_shape", get("step_shape", (list,))),
                         get("num_outputs", (int,)), get("horizon", (int,), 0),
                         get("length", (int,), steps))
        classes = get("classes", (list, type(None)), None)
        if classes is not None and (not all(isinstance(c, str) for c in classes)
                                    or len(classes) != spec.num_outputs):
            raise ConfigError(f"{where}: expected 'classes' as {spec.num_outputs} names; got "
                              f"{classes!r}"[:300])
        return cls(spec, classes, get("normalize", (str,), "channel"), scale("standardization"),
                   scale("target_scale"), get("naive_scale", (float, int, type(None)), None),
                   get("labels", (list, type(None)), None),
                   get("provenance", (dict, type(None)), None))


def make_record(prepared: Prepared, naive_scale: float | None = None) -> RunRecord:
    """The record of a prepared run (``naive_scale``: MASE's denominator, built-in series)."""
    train = prepared.train
    return RunRecord(prepared.spec, train.classes, prepared.config.normalize,
                     train.standardization, train.target_scale, naive_scale,
                     provenance=_provenance())


def _provenance() -> dict[str, Any]:
    """Where a run came from: versions, the command, when."""
    from .. import __version__

    return {"timedist": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "command": " ".join(sys.argv),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_record(run_dir: Path, config: RunConfig, record: RunRecord) -> None:
    """``config.yaml`` and ``preprocessing.json`` into ``run_dir`` (atomically)."""
    run = RunDir(run_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    config.save(run.config)
    atomic_write_text(run.record, record.to_json())


def apply_record(data: SequenceDataset, record: RunRecord, *, labelled: bool
                 ) -> SequenceDataset:
    """``data`` as the model saw its training data: checked against the training step shape
    (and task and classes when ``labelled``; labels re-indexed by name), normalized with the
    stored statistics, regression targets scaled with the stored target scale."""
    data = conform(data, step_shape=record.spec.step_shape, task=record.task,
                   classes=record.classes, labelled=labelled)
    targets, target_scale = data.targets, record.target_scale
    if labelled and target_scale is not None:
        targets = targets.reshape(len(targets), -1)  # (N,) -> (N, 1), as in training
        targets = (targets - target_scale.mean) / target_scale.std
    data = SequenceDataset(data.sequences, targets, classes=data.classes, name=data.name,
                           target_scale=target_scale)
    if data.sequences[0].dim() != 2:  # image sequences: as stored
        return data.with_standardization(record.standardization)
    return normalized(data, record.normalize, record.standardization)


def stored_run(run_dir: str | Path) -> tuple[RunConfig, RunRecord]:
    """(config, record) of a run directory, checked; runs of timedist 0.1 get their model's
    name."""
    run = RunDir(Path(run_dir))
    if not run.is_run():
        raise ConfigError(f"{run.path}: not a timedist run directory (no config.yaml)")
    config = RunConfig.load(run.config)
    if not run.record.is_file():
        raise ConfigError(f"{run.record}: missing; the run directory is incomplete")
    record = RunRecord.from_json(run.record.read_text(encoding="utf-8"), str(run.record))
    if config.model is None:  # a run of timedist 0.1, which stored no model name
        config = dataclasses.replace(config, model=legacy_model(record.spec))
    return config, record


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
    config, record = stored_run(run_dir)
    model = build_model(config, record.spec)
    load_best(model, run_dir)
    return model.eval(), (2, max(record.spec.length, 1), *record.spec.step_shape)
